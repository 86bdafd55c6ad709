// The WebSocket protocol (RFC 6455) as `scaffold serve` speaks it, apart from any socket: the
// answer to an upgrade request, the frames the server sends, and a reader of the frames a
// client sends.
//
// The reader holds only what it has not finished: the bytes of a frame not yet whole and the
// fragments of a message not yet ended, so an idle connection holds nothing. It checks what
// the RFC makes a client do (masked frames, no reserved bits since no extension is
// negotiated, control frames whole and at most 125 bytes, continuations only inside a
// message, lengths in their shortest form, valid close codes, UTF-8 text) and stops at the
// first breach with the close code to fail the connection with. A message larger than the
// limit fails at its frame header (1009), before its payload is read. Binary messages are
// handed over like text ones: the server's messages are JSON, and the handler answers what is
// not JSON with an error frame.

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/server/api.h"

namespace scaffold::net {

enum WsCloseCode : uint16_t {
  kWsNormal = 1000,
  kWsGoingAway = 1001,
  kWsProtocolError = 1002,
  kWsNoStatus = 1005,  // a close frame without a code (never sent)
  kWsInvalidPayload = 1007,
  kWsTooBig = 1009,
  kWsTryAgainLater = 1013,
};

// The answer to an upgrade request the router sent to /ws: the 101 response's bytes, or the
// error to reply instead (400 for a missing or malformed Sec-WebSocket-Key, 426 with
// `Sec-WebSocket-Version: 13` for any other version).
struct WsUpgrade {
  std::string response;
  std::optional<ApiResponse> refusal;
};
WsUpgrade AnswerWsUpgrade(std::string_view key, std::string_view version);

// base64(SHA-1(key + the RFC's GUID)): the Sec-WebSocket-Accept of a Sec-WebSocket-Key; ""
// when libcrypto cannot be loaded (AnswerWsUpgrade then refuses with 500).
std::string WsAcceptKey(std::string_view key);

// Frames this server sends (unmasked, FIN): ping, pong, and close with a code and a reason
// (cut to the 123 bytes a control frame has room for, at a UTF-8 boundary; kWsNoStatus is a
// close frame without either).
std::string WsPingFrame();
std::string WsPongFrame(std::string_view payload);
std::string WsCloseFrame(uint16_t code, std::string_view reason);

struct WsFailure {
  uint16_t code;
  std::string reason;
};

class WsFrameReader {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void OnWsMessage(std::string message) = 0;
    virtual void OnWsPing(std::string_view payload) = 0;
    // `code` is kWsNoStatus for a close frame without one.
    virtual void OnWsClose(uint16_t code, std::string_view reason) = 0;
  };

  explicit WsFrameReader(size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  // Reads `bytes`, the next ones from the client, calling `handler` for each whole message and
  // each ping and close frame (pongs are read and dropped). Returns what to fail the
  // connection with, once; after a failure or a close frame further bytes are ignored.
  std::optional<WsFailure> Feed(std::string_view bytes, Handler& handler);

  // True once a close frame was read or the client failed the protocol.
  bool done() const { return done_; }
  // Bytes held on the heap for a frame or a message not yet whole.
  size_t held() const { return HeapBytes(partial_) + HeapBytes(message_); }

 private:
  // Reads one whole frame at the front of `data`. Returns its size, 0 when it is not whole
  // yet; sets `failure` on a breach.
  size_t ReadFrame(std::string_view data, Handler& handler, std::optional<WsFailure>& failure);

  static size_t HeapBytes(const std::string& s) {
    return s.capacity() > std::string().capacity() ? s.capacity() : 0;
  }

  size_t max_message_bytes_;
  std::string partial_;  // a frame not yet whole
  std::string message_;  // the fragments of a message not yet ended
  bool in_message_ = false;
  bool message_binary_ = false;
  bool done_ = false;
};

}  // namespace scaffold::net
