// Browsers are kept out unless invited, requests are spelled out byte by byte: the Origin of
// WebSocket upgrades and state-changing requests, Content-Type on JSON bodies, Host names on a
// loopback server without auth (DNS rebinding), and kept-alive connections after an event
// stream ends.

#include <catch2/catch.hpp>

#include "tests/support/http_client.h"
#include "tests/support/test_server.h"

using scaffold::Json;
using namespace scaffold::testing;

namespace {

// One request on a fresh connection; the whole response (status line, headers, body).
std::string Raw(uint16_t port, const std::string& request, const std::string& until = "\r\n\r\n") {
  RawSocket socket(port);
  REQUIRE(socket.connected());
  REQUIRE(socket.Send(request));
  return socket.Read(5000, until);
}

int StatusOf(const std::string& response) {
  if (response.size() < 12 || response.rfind("HTTP/1.", 0) != 0) return 0;
  return std::stoi(response.substr(9, 3));
}

std::string Request(const std::string& method, const std::string& path,
                    const std::vector<std::string>& headers, const std::string& body = "") {
  std::string r = method + " " + path + " HTTP/1.1\r\n";
  for (const auto& h : headers) r += h + "\r\n";
  if (!body.empty()) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "\r\n" + body;
}

std::string Upgrade(const std::string& host, const std::string& origin) {
  std::vector<std::string> headers = {"Host: " + host, "Upgrade: websocket", "Connection: Upgrade",
                                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                                      "Sec-WebSocket-Version: 13"};
  if (!origin.empty()) headers.push_back("Origin: " + origin);
  return Request("GET", "/ws", headers);
}

}  // namespace

TEST_CASE("the WebSocket upgrade and state-changing routes refuse other origins",
          "[server][origin]") {
  TestServer::Config config;
  config.options.cors_origins = {"https://app.example"};
  config.workflows = {kApproveWorkflow};
  TestServer server(config);
  std::string host = "127.0.0.1:" + std::to_string(server.port());
  std::string id = server.Create("approve", "v1");
  REQUIRE(server.WaitForStatus(id, "waiting"));

  // WebSocket: no Origin (not a browser), the server's own origin and an invited one connect.
  for (const std::string& origin : {std::string(), "http://" + host, std::string("https://app.example")}) {
    INFO(origin);
    CHECK(StatusOf(Raw(server.port(), Upgrade(host, origin))) == 101);
  }
  for (std::string origin : {"https://evil.example", "null", "http://127.0.0.1:1",
                             "https://app.example.evil.example"}) {
    INFO(origin);
    std::string response = Raw(server.port(), Upgrade(host, origin), "}");
    CHECK(StatusOf(response) == 403);
    CHECK_THAT(response, Catch::Contains("forbidden_origin"));
  }

  std::string answer = Json{{"id", "review"}, {"value", "yes"}}.dump();
  for (const auto& [method, path, body] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"POST", "/sessions", Json{{"input", "evil"}}.dump()},
           {"POST", "/sessions/" + id + "/input", answer},
           {"POST", "/sessions/" + id + "/pause", ""},
           {"POST", "/sessions/" + id + "/fork", ""},
           {"DELETE", "/sessions/" + id, ""}}) {
    INFO(method << " " << path);
    std::string response = Raw(server.port(), Request(method, path,
                                                      {"Host: " + host, "Origin: https://evil.example",
                                                       "Content-Type: application/json"},
                                                      body),
                               "}");
    CHECK(StatusOf(response) == 403);
    CHECK_THAT(response, Catch::Contains("forbidden_origin"));
  }
  CHECK(Http("GET", server.Url("/sessions")).json()["sessions"].size() == 1);
  CHECK(server.WaitForStatus(id, "waiting"));

  // Reading is left to CORS: allowed, without the headers a browser would need to see it.
  std::string read = Raw(server.port(), Request("GET", "/sessions", {"Host: " + host,
                                                                       "Origin: https://evil.example"}));
  CHECK(StatusOf(read) == 200);
  CHECK_THAT(read, !Catch::Contains("Access-Control-Allow-Origin"));
  // The invited origin and the server's own change state.
  for (const std::string& origin : {std::string("https://app.example"), "http://" + host}) {
    std::string response = Raw(server.port(),
                               Request("POST", "/sessions", {"Host: " + host, "Origin: " + origin,
                                                             "Content-Type: application/json"},
                                       Json{{"input", "fine"}}.dump()),
                               "}");
    CHECK(StatusOf(response) == 201);
  }
}

TEST_CASE("JSON bodies need Content-Type: application/json", "[server][origin]") {
  TestServer::Config config;
  config.workflows = {kApproveWorkflow};
  TestServer server(config);
  std::string host = "127.0.0.1:" + std::to_string(server.port());
  std::string body = Json{{"input", "x"}}.dump();
  for (std::string type : {"text/plain", "application/x-www-form-urlencoded",
                           "multipart/form-data; boundary=x", ""}) {
    std::vector<std::string> headers = {"Host: " + host};
    if (!type.empty()) headers.push_back("Content-Type: " + type);
    std::string response = Raw(server.port(), Request("POST", "/sessions", headers, body), "}");
    INFO(type << "\n" << response);
    CHECK(StatusOf(response) == 415);
    CHECK_THAT(response, Catch::Contains("unsupported_media_type"));
  }
  for (std::string type : {"application/json", "application/json; charset=utf-8",
                           "Application/JSON"}) {
    std::string response =
        Raw(server.port(), Request("POST", "/sessions", {"Host: " + host, "Content-Type: " + type},
                                   body),
            "}");
    INFO(type << "\n" << response);
    CHECK(StatusOf(response) == 201);
  }
  CHECK(Http("GET", server.Url("/sessions")).json()["sessions"].size() == 3);
}

TEST_CASE("a loopback server without auth answers only loopback Host names", "[server][origin]") {
  TestServer::Config config;
  config.options.check_host = true;
  config.options.allowed_hosts = {"scaffold.internal"};
  TestServer server(config);
  std::string port = std::to_string(server.port());
  for (const std::string& host :
       std::vector<std::string>{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST",
                                "[::1]:" + port, "scaffold.internal:" + port}) {
    INFO(host);
    CHECK(StatusOf(Raw(server.port(), Request("GET", "/sessions", {"Host: " + host}))) == 200);
    CHECK(StatusOf(Raw(server.port(), Upgrade(host, ""))) == 101);
  }
  for (const std::string& host :
       std::vector<std::string>{"evil.example:" + port, "evil.example", "127.0.0.1.evil.example",
                                "localhost.evil.example:" + port}) {
    INFO(host);
    std::string response = Raw(server.port(), Request("GET", "/sessions", {"Host: " + host}), "}");
    CHECK(StatusOf(response) == 403);
    CHECK_THAT(response, Catch::Contains("forbidden_host"));
    CHECK(StatusOf(Raw(server.port(), Upgrade(host, ""), "}")) == 403);
  }
}

TEST_CASE("a kept-alive connection serves the next request after an event stream ends",
          "[server][origin]") {
  TestServer::Config config;
  config.workflows = {kApproveWorkflow};
  TestServer server(config);
  std::string host = "Host: 127.0.0.1:" + std::to_string(server.port());
  std::string finished = server.Create("approve", "v1");
  Http("POST", server.Url("/sessions/" + finished + "/input"),
       Json{{"id", "review"}, {"value", "yes"}}.dump());
  Http("POST", server.Url("/sessions/" + finished + "/input"),
       Json{{"id", "note"}, {"value", "ok"}}.dump());
  REQUIRE(server.WaitForStatus(finished, "completed"));

  SECTION("?closeAtEnd: the stream ends with the session and says Connection: close") {
    RawSocket socket(server.port());
    REQUIRE(socket.Send(Request("GET", "/sessions/" + finished + "/events?history=true&closeAtEnd=true", {host})));
    std::string response = socket.Read(5000, "0\r\n\r\n");
    CHECK_THAT(response, Catch::Contains("Connection: close"));
    CHECK_THAT(response, Catch::Contains("event: workflow:completed"));
    CHECK(socket.WaitClosed(5000));
  }
  SECTION("without it, a finished session's stream stays open with heartbeats") {
    TestServer::Config quick;
    quick.workflows = {kApproveWorkflow};
    quick.options.heartbeat_ms = 100;
    TestServer beating(quick);
    std::string id = beating.Create("approve", "v2");
    Http("POST", beating.Url("/sessions/" + id + "/input"), Json{{"value", "no"}}.dump());
    Http("POST", beating.Url("/sessions/" + id + "/input"), Json{{"value", "later"}}.dump());
    REQUIRE(beating.WaitForStatus(id, "completed"));
    SseClient sse(beating.Url("/sessions/" + id + "/events?history=true"));
    REQUIRE(sse.WaitFor([](const std::vector<scaffold::net::SseEvent>& events) {
      return !events.empty() && events.back().type == "workflow:completed";
    }));
    CHECK_FALSE(sse.WaitForEnd(1000));
    CHECK_THAT(sse.comments_seen(), Catch::Contains("heartbeat"));
    CHECK_THAT(sse.headers()["connection"], !Catch::Contains("close"));
  }
  SECTION("a stream that ends because its session is deleted leaves the connection open") {
    std::string id = server.Create("approve", "v3");
    REQUIRE(server.WaitForStatus(id, "waiting"));
    RawSocket socket(server.port());
    REQUIRE(socket.Send(Request("GET", "/sessions/" + id + "/events?history=true", {host})));
    REQUIRE_THAT(socket.Read(5000, "input:requested"), Catch::Contains("200 OK"));
    CHECK(Http("DELETE", server.Url("/sessions/" + id)).status == 200);
    CHECK_THAT(socket.Read(5000, "0\r\n\r\n"), Catch::EndsWith("0\r\n\r\n"));
    for (int i = 0; i < 3; ++i) {
      REQUIRE(socket.Send(Request("GET", "/healthz", {host})));
      std::string next = socket.Read(5000, "}");
      CHECK(StatusOf(next) == 200);
      CHECK_THAT(next, Catch::Contains("\"ok\":true"));
    }
  }
}
