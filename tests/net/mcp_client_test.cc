// The MCP client (net/mcp/client.h) against real MCP servers from npm (tests/mcp, installed by
// scripts/install-deps --test) and a server of the tests' own that misbehaves on purpose.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "net/mcp/client.h"
#include "tests/support/node_server.h"
#include "tests/support/temp_dir.h"

using scaffold::ErrorCode;
using scaffold::Json;
using scaffold::net::mcp::ClientOptions;
using scaffold::net::mcp::McpClient;
using scaffold::net::mcp::StdioOptions;
using scaffold::testing::McpTestsDir;
using scaffold::testing::NpmScript;

namespace {



StdioOptions Node(std::vector<std::string> args) {
  StdioOptions o;
  o.spec.argv = {"node"};
  o.spec.argv.insert(o.spec.argv.end(), args.begin(), args.end());
  o.stop_grace_ms = 1000;
  return o;
}

StdioOptions Misbehaving(const std::string& mode) {
  return Node({McpTestsDir() + "/misbehaving-server.mjs", mode});
}

std::unique_ptr<McpClient> Start(StdioOptions options, ClientOptions client = {}) {
  auto c = McpClient::Start(std::move(options), client);
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  return std::move(c).value();
}

std::string Message(const scaffold::Status& s) { return s.message(); }

}  // namespace

TEST_CASE("mcp: the reference server over stdio is initialized, lists its tools and runs them",
          "[mcp]") {
  auto client = Start(Node({NpmScript("@modelcontextprotocol/server-everything/dist/index.js"), "stdio"}));
  CHECK(client->protocol_version() == "2025-11-25");
  CHECK(client->server_info().value("name", "") != "");
  auto tools = client->ListTools(10000);
  REQUIRE(tools.ok());
  auto echo = std::find_if(tools->begin(), tools->end(), [](const auto& t) { return t.name == "echo"; });
  REQUIRE(echo != tools->end());
  CHECK(echo->input_schema["type"] == "object");
  CHECK(echo->input_schema["required"] == Json::array({"message"}));

  auto result = client->CallTool("echo", {{"message", "hello from scaffold"}}, 10000);
  REQUIRE(result.ok());
  CHECK_FALSE(result->is_error);
  REQUIRE(result->content.size() == 1);
  CHECK(result->content[0]["type"] == "text");
  CHECK_THAT(result->content[0]["text"].get<std::string>(), Catch::Contains("hello from scaffold"));

  // Arguments that do not fit its schema: the server says so, as an error result or a JSON-RPC
  // error; either way the call fails cleanly and the connection stays usable.
  auto wrong = client->CallTool("echo", {{"message", 42}}, 10000);
  CHECK((!wrong.ok() || wrong->is_error));
  CHECK(client->CallTool("echo", {{"message", "again"}}, 10000).ok());
}

TEST_CASE("mcp: the filesystem server reads and lists only the directory it was given", "[mcp]") {
  scaffold::testing::TempDir dir;
  std::ofstream(dir.path() + "/notes.txt") << "remember the milk\n";
  auto client = Start(Node({NpmScript("@modelcontextprotocol/server-filesystem/dist/index.js"), dir.path()}));
  auto listed = client->CallTool("list_directory", {{"path", dir.path()}}, 10000);
  REQUIRE(listed.ok());
  CHECK_FALSE(listed->is_error);
  CHECK_THAT(listed->content.dump(), Catch::Contains("notes.txt"));
  auto read = client->CallTool("read_text_file", {{"path", dir.path() + "/notes.txt"}}, 10000);
  REQUIRE(read.ok());
  CHECK_THAT(read->content.dump(), Catch::Contains("remember the milk"));
  auto outside = client->CallTool("read_text_file", {{"path", "/etc/hostname"}}, 10000);
  CHECK((!outside.ok() || outside->is_error));
}

TEST_CASE("mcp: results, pages and the server's own requests", "[mcp]") {
  SECTION("a result carries its content and structured content") {
    auto client = Start(Misbehaving("well"));
    auto r = client->CallTool("tool0", {{"n", 1}}, 10000);
    REQUIRE(r.ok());
    CHECK(r->content[0]["text"] == "called tool0 with {\"n\":1}");
    CHECK(r->structured == Json{{"name", "tool0"}});
  }
  SECTION("a listing in pages is followed to its end, and a change during it is noticed") {
    auto client = Start(Misbehaving("paged"));
    auto tools = client->ListTools(10000);
    REQUIRE(tools.ok());
    REQUIRE(tools->size() == 6);
    CHECK(tools->back().name == "tool5");
    CHECK(client->tools_changed());
  }
  SECTION("ping is answered, other requests of the server are refused") {
    auto client = Start(Misbehaving("asks"));
    auto r = client->CallTool("tool0", Json::object(), 10000);
    REQUIRE(r.ok());
    CHECK(r->content[0]["text"] == "ping {} sampling -32601");
  }
}

TEST_CASE("mcp: every way a server can fail is an error of the call, never of the process",
          "[mcp]") {
  SECTION("a line that is not JSON breaks the connection and fails every call") {
    auto client = Start(Misbehaving("garbage"));
    auto r = client->CallTool("tool0", Json::object(), 10000);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(Message(r.status()), Catch::Contains("a line that is not JSON"));
    auto next = client->CallTool("tool0", Json::object(), 10000);
    REQUIRE_FALSE(next.ok());
    CHECK(next.status().code() == ErrorCode::kUnavailable);
  }
  SECTION("a server that dies in the middle of a call") {
    auto client = Start(Misbehaving("die"));
    auto r = client->CallTool("tool0", Json::object(), 10000);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(Message(r.status()), Catch::Contains("exited with status 1"));
  }
  SECTION("a server that does not answer in time, and a call cancelled while it waits") {
    auto client = Start(Misbehaving("slow"));
    auto r = client->CallTool("tool0", Json::object(), 300);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == ErrorCode::kDeadlineExceeded);
    std::atomic<bool> cancel{false};
    std::thread canceller([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      cancel = true;
    });
    auto c = client->CallTool("tool0", Json::object(), 60000, &cancel);
    canceller.join();
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == ErrorCode::kCancelled);
    CHECK(client->closed_reason().empty());  // still connected
    CHECK(client->ListTools(10000).ok());
  }
  SECTION("a message over the size limit") {
    StdioOptions o = Misbehaving("huge");
    o.max_message_bytes = 1024 * 1024;
    auto client = Start(o);
    auto r = client->CallTool("tool0", Json::object(), 10000);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(Message(r.status()), Catch::Contains("larger than 1048576 bytes"));
  }
  SECTION("a result of the wrong shape names its path") {
    auto client = Start(Misbehaving("badresult"));
    auto r = client->CallTool("tool0", Json::object(), 10000);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(Message(r.status()), Catch::Contains("/result/content"));
  }
  SECTION("a listing with a tool without a name names its path") {
    auto client = Start(Misbehaving("badtools"));
    auto tools = client->ListTools(10000);
    REQUIRE_FALSE(tools.ok());
    CHECK_THAT(Message(tools.status()), Catch::Contains("/result/tools/1/name"));
  }
  SECTION("a revision scaffold does not speak is refused at the handshake") {
    auto c = McpClient::Start(Misbehaving("version"));
    REQUIRE_FALSE(c.ok());
    CHECK_THAT(Message(c.status()), Catch::Contains("\"2099-01-01\""));
  }
  SECTION("a server that exits at once: its stderr says why") {
    auto c = McpClient::Start(Misbehaving("stderr-exit"));
    REQUIRE_FALSE(c.ok());
    CHECK_THAT(Message(c.status()), Catch::Contains("exited with status 3"));
    CHECK_THAT(Message(c.status()), Catch::Contains("fatal: no configuration file"));
  }
  SECTION("a program that is not there") {
    StdioOptions o;
    o.spec.argv = {"no-such-mcp-server-program"};
    auto c = McpClient::Start(o);
    REQUIRE_FALSE(c.ok());
    CHECK_THAT(Message(c.status()), Catch::Contains("not found in PATH"));
  }
  SECTION("a program that never answers and ignores the end of its input is killed") {
    StdioOptions o;
    o.spec.argv = {"sleep", "600"};
    o.stop_grace_ms = 200;
    ClientOptions quick;
    quick.initialize_timeout_ms = 300;
    auto c = McpClient::Start(o, quick);
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().code() == ErrorCode::kDeadlineExceeded);
  }
}
