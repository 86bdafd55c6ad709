// The server's WebSocket protocol on the wire, byte by byte (net/server/ws_protocol.h and
// ws_session.cc): the upgrade's refusals, the close handshake in both directions, a breach of
// the protocol, and frames sent together with the upgrade request.
#include <catch2/catch.hpp>
#include <string>

#include "tests/support/http_client.h"
#include "tests/support/test_server.h"

using namespace scaffold::testing;

namespace {

std::string Upgrade(const std::string& key = "dGhlIHNhbXBsZSBub25jZQ==",
                    const std::string& version = "13") {
  return "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: " +
         key + "\r\nSec-WebSocket-Version: " + version + "\r\n\r\n";
}

// A client's frame, masked with a fixed key.
std::string Frame(uint8_t first_byte, const std::string& payload, bool masked = true) {
  std::string f(1, static_cast<char>(first_byte));
  f += static_cast<char>((masked ? 0x80 : 0) | payload.size());  // at most 125 bytes here
  const char mask[4] = {0x0A, 0x0B, 0x0C, 0x0D};
  if (masked) f.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i)
    f += masked ? static_cast<char>(payload[i] ^ mask[i % 4]) : payload[i];
  return f;
}

// What follows the 101 response's head in `reply`.
std::string AfterHead(const std::string& reply) {
  size_t end = reply.find("\r\n\r\n");
  return end == std::string::npos ? "" : reply.substr(end + 4);
}

}  // namespace

TEST_CASE("WebSocket on the wire: refusals, close handshakes, breaches", "[server][ws]") {
  TestServer server;

  SECTION("a malformed key is 400, another version 426 naming 13") {
    RawSocket bad_key(server.port());
    REQUIRE(bad_key.Send(Upgrade("not-a-key")));
    std::string reply = bad_key.Read(5000, "}}");
    CHECK_THAT(reply, Catch::StartsWith("HTTP/1.1 400"));
    CHECK_THAT(reply, Catch::Contains("Sec-WebSocket-Key"));

    RawSocket old(server.port());
    REQUIRE(old.Send(Upgrade("dGhlIHNhbXBsZSBub25jZQ==", "8")));
    reply = old.Read(5000, "}}");
    CHECK_THAT(reply, Catch::StartsWith("HTTP/1.1 426"));
    CHECK_THAT(reply, Catch::Contains("Sec-WebSocket-Version: 13\r\n"));
  }

  SECTION("the RFC's accept key; frames sent with the request are read") {
    RawSocket client(server.port());
    REQUIRE(client.Send(Upgrade() + Frame(0x81, R"({"type":"ping"})")));
    std::string reply = client.Read(5000, "pong\"}");
    CHECK_THAT(reply, Catch::StartsWith("HTTP/1.1 101 Switching Protocols\r\n"));
    CHECK_THAT(reply, Catch::Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    CHECK(AfterHead(reply) == std::string("\x81\x0F") + R"({"type":"pong"})");
  }

  SECTION("a ping is answered with its payload; a close is echoed, then the server ends") {
    RawSocket client(server.port());
    REQUIRE(client.Send(Upgrade()));
    REQUIRE_THAT(client.Read(5000, "\r\n\r\n"), Catch::StartsWith("HTTP/1.1 101"));
    REQUIRE(client.Send(Frame(0x89, "hi")));
    CHECK(client.Read(5000, "hi") == "\x8A\x02hi");
    REQUIRE(client.Send(Frame(0x88, std::string("\x03\xE8", 2) + "done")));
    CHECK(client.Read(5000, std::string("\x03\xE8", 2)) == std::string("\x88\x02\x03\xE8", 4));
    CHECK(client.WaitClosed(5000));
  }

  SECTION("an unmasked frame fails the connection with 1002 and the server ends it") {
    RawSocket client(server.port());
    REQUIRE(client.Send(Upgrade()));
    REQUIRE_THAT(client.Read(5000, "\r\n\r\n"), Catch::StartsWith("HTTP/1.1 101"));
    REQUIRE(client.Send(Frame(0x81, R"({"type":"ping"})", false)));
    std::string close = client.Read(5000, "masked");
    REQUIRE(close.size() > 4);
    CHECK(close.substr(0, 1) == "\x88");
    CHECK(close.substr(2, 2) == std::string("\x03\xEA", 2));  // 1002
    CHECK_THAT(close, Catch::Contains("must be masked"));
    CHECK(client.WaitClosed(5000));
  }

  // The server is still whole for the next client.
  WsClient after(server.port(), "/ws");
  REQUIRE(after.connected());
  after.Send(scaffold::Json{{"type", "ping"}});
  CHECK(after.Receive(5000).value_or(scaffold::Json())["type"] == "pong");
}

TEST_CASE("WebSocket on the wire: a client that pings and never reads is dropped",
          "[server][ws]") {
  TestServer::Config config;
  config.options.max_send_queue_bytes = 64 * 1024;
  TestServer server(config);
  RawSocket client(server.port(), 4096);
  REQUIRE(client.Send(Upgrade()));
  REQUIRE_THAT(client.Read(5000, "\r\n\r\n"), Catch::StartsWith("HTTP/1.1 101"));
  // 16 MiB of pongs owed, far more than the socket buffers and the send queue hold.
  std::string pings;
  for (int i = 0; i < 1000; ++i) pings += Frame(0x89, std::string(125, 'p'));
  for (int i = 0; i < 130 && server.metrics().slow_consumers_dropped == 0; ++i)
    REQUIRE(client.Send(pings));
  CHECK(server.metrics().slow_consumers_dropped == 1);
  CHECK(client.WaitClosed(15000));  // the pongs on their way, the close frame, then the end
}
