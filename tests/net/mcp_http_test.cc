// The MCP client over Streamable HTTP (net/mcp/http_transport.h) against the reference server
// from npm and a server of the tests' own that misbehaves on purpose.
#include <catch2/catch.hpp>
#include <filesystem>

#include "net/mcp/client.h"
#include "tests/support/node_server.h"

using scaffold::Json;
using scaffold::net::mcp::ClientOptions;
using scaffold::net::mcp::HttpOptions;
using scaffold::net::mcp::McpClient;
using scaffold::testing::NodeServer;

namespace {

std::string McpDir() { return scaffold::testing::McpTestsDir(); }

std::unique_ptr<McpClient> Connect(const std::string& url, int64_t max_bytes = 16 << 20) {
  HttpOptions http;
  http.url = url;
  http.max_message_bytes = max_bytes;
  auto c = McpClient::StartHttp(http);
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  return std::move(c).value();
}

}  // namespace

TEST_CASE("mcp over HTTP: the reference server is initialized, lists its tools and runs them",
          "[mcp]") {
  NodeServer server({McpDir() + "/http-everything.mjs"});
  auto client = Connect(server.url());
  CHECK(client->protocol_version() == "2025-11-25");
  auto tools = client->ListTools(10000);
  REQUIRE(tools.ok());
  CHECK(std::any_of(tools->begin(), tools->end(), [](const auto& t) { return t.name == "echo"; }));
  auto result = client->CallTool("echo", {{"message", "over http"}}, 10000);
  REQUIRE(result.ok());
  CHECK_THAT(result->content[0]["text"].get<std::string>(), Catch::Contains("over http"));
  client->Stop();  // ends the server's session with a DELETE
  CHECK_FALSE(client->closed_reason().empty());
}

TEST_CASE("mcp over HTTP: streams, resumptions and failures", "[mcp]") {
  SECTION("an answer as an SSE stream, with a notification before it") {
    NodeServer server({McpDir() + "/misbehaving-http.mjs", "stream"});
    auto client = Connect(server.url());
    auto r = client->CallTool("tool0", Json::object(), 10000);
    REQUIRE(r.ok());
    CHECK(r->content[0]["text"] == "stream after 0");
    CHECK(client->tools_changed());
  }
  SECTION("a stream that breaks before the response is resumed with Last-Event-ID") {
    NodeServer server({McpDir() + "/misbehaving-http.mjs", "break"});
    auto client = Connect(server.url());
    auto r = client->CallTool("tool0", Json::object(), 10000);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    CHECK(r->content[0]["text"] == "break after 0");
  }
  SECTION("an HTTP error fails the call, and the connection stays usable") {
    NodeServer server({McpDir() + "/misbehaving-http.mjs", "error500"});
    auto client = Connect(server.url());
    auto r = client->CallTool("tool0", Json::object(), 10000);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains("HTTP 500: boom"));
    CHECK(client->ListTools(10000).ok());
  }
  SECTION("404 for a session means the server ended it") {
    NodeServer server({McpDir() + "/misbehaving-http.mjs", "expire"});
    auto client = Connect(server.url());
    auto r = client->CallTool("tool0", Json::object(), 10000);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(client->closed_reason(), Catch::Contains("ended the session"));
  }
  SECTION("an answer past the cap fails the call") {
    NodeServer server({McpDir() + "/misbehaving-http.mjs", "big"});
    auto client = Connect(server.url(), 10000);
    auto r = client->CallTool("tool0", Json::object(), 10000);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains("larger than 10000 bytes"));
  }
  SECTION("nobody listening") {
    HttpOptions http;
    http.url = "http://127.0.0.1:9/mcp";
    auto c = McpClient::StartHttp(http, ClientOptions{2000});
    REQUIRE_FALSE(c.ok());
    CHECK_THAT(c.status().message(), Catch::Contains("cannot reach"));
  }
}
