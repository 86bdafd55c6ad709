#include "tests/support/node_server.h"

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>

namespace scaffold::testing {

std::string McpTestsDir() { return std::string(SCAFFOLD_SOURCE_DIR) + "/tests/mcp"; }

std::string NpmScript(const std::string& path) {
  std::string full = McpTestsDir() + "/node_modules/" + path;
  if (!std::filesystem::exists(full)) {
    FAIL("missing " << full << ": install the MCP test servers with scripts/install-deps --test "
                    "(npm ci in tests/mcp)");
  }
  return full;
}

NodeServer::NodeServer(const std::vector<std::string>& args) {
  if (!std::filesystem::exists(McpTestsDir() + "/node_modules/@modelcontextprotocol/server-everything"))
    FAIL("missing the MCP test servers: scripts/install-deps --test (npm ci in tests/mcp)");
  ProcessOptions o;
  o.program = std::filesystem::exists("/usr/bin/node") ? "/usr/bin/node" : "/usr/local/bin/node";
  o.cwd = McpTestsDir();
  process_ = std::make_unique<BackgroundProcess>(args, o);
  std::string line;
  while (process_->ReadLine(&line, 20000)) {
    if (line.rfind("PORT ", 0) == 0) {
      url_ = "http://127.0.0.1:" + line.substr(5) + "/mcp";
      return;
    }
  }
  FAIL("the server did not say its port: " << process_->Stderr());
}

NodeServer::~NodeServer() {
  process_->Signal(SIGTERM);
  process_->Wait(10000);
}

}  // namespace scaffold::testing
