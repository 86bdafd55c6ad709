// The server's WebSocket protocol apart from sockets (net/server/ws_protocol.h): the upgrade's
// answer, the frames it sends, and the reader of a client's frames, byte by byte and whole.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "net/server/ws_protocol.h"

using namespace scaffold::net;

namespace {

// A client's frame: masked, with the length in its shortest form unless `long_length`.
std::string ClientFrame(uint8_t first_byte, const std::string& payload, bool masked = true,
                        int long_length = 0) {
  std::string f;
  f += static_cast<char>(first_byte);
  uint8_t mask_bit = masked ? 0x80 : 0;
  size_t n = payload.size();
  if (long_length == 16 || (long_length == 0 && n >= 126 && n <= 0xFFFF)) {
    f += static_cast<char>(mask_bit | 126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xFF);
  } else if (long_length == 64 || (long_length == 0 && n > 0xFFFF)) {
    f += static_cast<char>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) f += static_cast<char>((uint64_t{n} >> shift) & 0xFF);
  } else {
    f += static_cast<char>(mask_bit | n);
  }
  const char mask[4] = {0x12, 0x34, 0x56, 0x78};
  if (masked) f.append(mask, 4);
  for (size_t i = 0; i < n; ++i) f += masked ? static_cast<char>(payload[i] ^ mask[i % 4]) : payload[i];
  return f;
}

std::string Text(const std::string& s) { return ClientFrame(0x81, s); }

struct Seen : WsFrameReader::Handler {
  std::vector<std::string> messages, pings;
  int close_code = 0;
  std::string close_reason;
  void OnWsMessage(std::string m) override { messages.push_back(std::move(m)); }
  void OnWsPing(std::string_view p) override { pings.emplace_back(p); }
  void OnWsClose(uint16_t code, std::string_view reason) override {
    close_code = code;
    close_reason = reason;
  }
};

// Feeds `bytes` whole, then again one byte at a time: both readings must agree.
struct Both {
  Seen whole, bytewise;
  std::optional<WsFailure> whole_failure, bytewise_failure;
  Both(const std::string& bytes, size_t max = 1 << 20) {
    WsFrameReader a(max), b(max);
    whole_failure = a.Feed(bytes, whole);
    for (char c : bytes) {
      auto f = b.Feed(std::string_view(&c, 1), bytewise);
      if (f) bytewise_failure = f;
    }
    CHECK(whole.messages == bytewise.messages);
    CHECK(whole.pings == bytewise.pings);
    CHECK(whole.close_code == bytewise.close_code);
    CHECK(whole_failure.has_value() == bytewise_failure.has_value());
    if (whole_failure && bytewise_failure) CHECK(whole_failure->code == bytewise_failure->code);
  }
  int failure() const { return whole_failure ? whole_failure->code : 0; }
};

}  // namespace

TEST_CASE("ws protocol: the upgrade's answer", "[ws]") {
  // RFC 6455 1.3's example.
  CHECK(WsAcceptKey("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  WsUpgrade ok = AnswerWsUpgrade("dGhlIHNhbXBsZSBub25jZQ==", "13");
  CHECK_FALSE(ok.refusal);
  CHECK_THAT(ok.response, Catch::StartsWith("HTTP/1.1 101 Switching Protocols\r\n"));
  CHECK_THAT(ok.response, Catch::Contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
  CHECK_THAT(ok.response, Catch::EndsWith("\r\n\r\n"));

  for (const char* key : {"", "short==", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ==x",
                          "dGhlIHNhbXBsZSBub25jZ\r==", "dGhlIHNhbXBsZSBub25jZQ=A"}) {
    WsUpgrade bad = AnswerWsUpgrade(key, "13");
    REQUIRE(bad.refusal);
    CHECK(bad.refusal->status == 400);
  }
  WsUpgrade old = AnswerWsUpgrade("dGhlIHNhbXBsZSBub25jZQ==", "8");
  REQUIRE(old.refusal);
  CHECK(old.refusal->status == 426);
  CHECK(old.refusal->headers == std::vector<std::pair<std::string, std::string>>{
                                    {"Sec-WebSocket-Version", "13"}});
  CHECK(AnswerWsUpgrade("dGhlIHNhbXBsZSBub25jZQ==", "").refusal);
}

TEST_CASE("ws protocol: the server's control frames", "[ws]") {
  CHECK(WsPingFrame() == std::string("\x89\x00", 2));
  CHECK(WsPongFrame("ab") == std::string("\x8A\x02" "ab", 4));
  CHECK(WsCloseFrame(1009, "big") == std::string("\x88\x05\x03\xF1" "big", 7));
  CHECK(WsCloseFrame(kWsNoStatus, "") == std::string("\x88\x00", 2));
  // A long reason is cut to fit a control frame, never inside a UTF-8 sequence.
  std::string euros;
  for (int i = 0; i < 60; ++i) euros += "\xE2\x82\xAC";  // 180 bytes
  std::string frame = WsCloseFrame(1000, euros);
  CHECK(frame.size() == 2 + 2 + 123);  // 41 whole euro signs
  CHECK(frame.substr(4) == euros.substr(0, 123));
  std::string cut = WsCloseFrame(1000, "a" + euros);
  CHECK(cut.size() == 2 + 2 + 121);  // "a" and 40 euro signs: the 41st would not fit whole
}

TEST_CASE("ws protocol: messages, fragments and control frames", "[ws]") {
  SECTION("text messages of every length form, in one read or byte by byte") {
    std::string medium(300, 'm'), large(70000, 'l');
    Both b(Text("{}") + Text(medium) + Text(large) + ClientFrame(0x82, "bin"));
    CHECK(b.failure() == 0);
    CHECK(b.whole.messages == std::vector<std::string>{"{}", medium, large, "bin"});
  }
  SECTION("a fragmented message with a ping between its fragments") {
    Both b(ClientFrame(0x01, "he") + ClientFrame(0x89, "p!") + ClientFrame(0x00, "ll") +
           ClientFrame(0x80, "o"));
    CHECK(b.failure() == 0);
    CHECK(b.whole.messages == std::vector<std::string>{"hello"});
    CHECK(b.whole.pings == std::vector<std::string>{"p!"});
  }
  SECTION("pongs are read and dropped; a close ends the reading") {
    Both b(ClientFrame(0x8A, "x") + ClientFrame(0x88, std::string("\x03\xE8", 2) + "bye") +
           Text("after"));
    CHECK(b.failure() == 0);
    CHECK(b.whole.messages.empty());
    CHECK(b.whole.close_code == 1000);
    CHECK(b.whole.close_reason == "bye");
  }
  SECTION("a close without a code") {
    Both b(ClientFrame(0x88, ""));
    CHECK(b.whole.close_code == kWsNoStatus);
  }
  SECTION("nothing is held between whole frames") {
    WsFrameReader r(1 << 20);
    Seen seen;
    std::string two = Text(std::string(5000, 'a')) + Text("b");
    CHECK_FALSE(r.Feed(two.substr(0, 3000), seen));
    CHECK(r.held() > 0);
    CHECK_FALSE(r.Feed(two.substr(3000), seen));
    CHECK(seen.messages.size() == 2);
    CHECK(r.held() == 0);
  }
}

TEST_CASE("ws protocol: a client's breaches fail the connection", "[ws]") {
  auto failure = [](const std::string& bytes, size_t max = 1 << 20) {
    Both b(bytes, max);
    CHECK(b.whole.messages.empty());
    return b.failure();
  };
  CHECK(failure(ClientFrame(0x81, "x", false)) == kWsProtocolError);  // not masked
  CHECK(failure(ClientFrame(0xC1, "x")) == kWsProtocolError);         // RSV1 without extension
  CHECK(failure(ClientFrame(0x83, "x")) == kWsProtocolError);         // reserved opcode
  CHECK(failure(ClientFrame(0x8B, "x")) == kWsProtocolError);         // reserved control opcode
  CHECK(failure(ClientFrame(0x09, "x")) == kWsProtocolError);         // fragmented ping
  CHECK(failure(ClientFrame(0x89, std::string(126, 'p'))) == kWsProtocolError);
  CHECK(failure(ClientFrame(0x80, "x")) == kWsProtocolError);  // continuation with no message
  CHECK(failure(ClientFrame(0x01, "a") + Text("b")) == kWsProtocolError);  // message in message
  CHECK(failure(ClientFrame(0x81, "short", true, 16)) == kWsProtocolError);   // not shortest
  CHECK(failure(ClientFrame(0x81, std::string(200, 'x'), true, 64)) == kWsProtocolError);
  CHECK(failure(ClientFrame(0x88, "x")) == kWsProtocolError);  // 1-byte close payload
  CHECK(failure(ClientFrame(0x88, std::string("\x03\xED", 2))) == kWsProtocolError);  // 1005
  CHECK(failure(ClientFrame(0x88, std::string("\x0B\xB7", 2))) == kWsProtocolError);  // 2999
  CHECK(failure(ClientFrame(0x88, std::string("\x03\xE8\xFF", 3))) == kWsInvalidPayload);
  CHECK(failure(Text("\xC3\x28")) == kWsInvalidPayload);  // text that is not UTF-8
  CHECK(failure(Text("\xED\xA0\x80")) == kWsInvalidPayload);  // a surrogate
  // Too big: known at the header, before any of the payload arrived.
  WsFrameReader r(1024);
  Seen seen;
  std::string big = Text(std::string(2000, 'x'));
  auto f = r.Feed(big.substr(0, 4), seen);
  REQUIRE(f);
  CHECK(f->code == kWsTooBig);
  CHECK(r.held() == 0);
  // Fragments count together.
  CHECK(failure(ClientFrame(0x01, std::string(600, 'a')) + ClientFrame(0x80, std::string(600, 'b')),
                1024) == kWsTooBig);
  // A 2^63 length.
  std::string huge("\x81\xFF\x80\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04", 14);
  CHECK(failure(huge) == kWsProtocolError);
  // After a failure nothing more is read.
  WsFrameReader done(1 << 20);
  CHECK(done.Feed(ClientFrame(0x81, "x", false), seen));
  CHECK_FALSE(done.Feed(Text("later"), seen));
  CHECK(seen.messages.empty());
}
