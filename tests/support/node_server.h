// A Node.js server script of tests/mcp running for the length of a test; it prints
// "PORT <n>" on stdout once it accepts connections on 127.0.0.1. Fails the test (never skips)
// when node or the npm packages of tests/mcp are missing.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.h"

namespace scaffold::testing {

std::string McpTestsDir();
// A file of an npm package installed in tests/mcp ("@scope/pkg/dist/index.js"), its full path.
std::string NpmScript(const std::string& path);

class NodeServer {
 public:
  explicit NodeServer(const std::vector<std::string>& args);
  ~NodeServer();
  // http://127.0.0.1:<port>/mcp
  const std::string& url() const { return url_; }

 private:
  std::unique_ptr<BackgroundProcess> process_;
  std::string url_;
};

}  // namespace scaffold::testing
