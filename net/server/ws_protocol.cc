#include "net/server/ws_protocol.h"

#include <openssl/evp.h>

#include <algorithm>

#include "engine/crypto.h"

namespace scaffold::net {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

enum Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

constexpr size_t kMaxControlPayload = 125;

bool IsBase64Char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// A Sec-WebSocket-Key is 16 bytes in base64: 22 characters and "==".
bool IsWsKey(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  return std::all_of(key.begin(), key.begin() + 22, IsBase64Char);
}

// Codes a client may send in a close frame (RFC 6455 7.4 and the IANA registry).
bool IsSendableCloseCode(uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

std::string ControlFrame(uint8_t opcode, std::string_view payload) {
  std::string frame;
  frame.reserve(2 + payload.size());
  frame += static_cast<char>(0x80 | opcode);
  frame += static_cast<char>(payload.size());  // at most 125: no extended length
  frame += payload;
  return frame;
}

}  // namespace

std::string WsAcceptKey(std::string_view key) {
  std::string input(key);
  input += kGuid;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &digest_size, EVP_sha1(), nullptr) != 1)
    return "";
  unsigned char encoded[64];
  int n = EVP_EncodeBlock(encoded, digest, static_cast<int>(digest_size));
  return std::string(reinterpret_cast<char*>(encoded), static_cast<size_t>(n));
}

WsUpgrade AnswerWsUpgrade(std::string_view key, std::string_view version) {
  WsUpgrade answer;
  if (version != "13") {
    ApiResponse refusal = ApiResponse::Error(
        426, "upgrade_required", "this server speaks WebSocket version 13 (Sec-WebSocket-Version)");
    refusal.headers.emplace_back("Sec-WebSocket-Version", "13");
    answer.refusal = std::move(refusal);
    return answer;
  }
  if (!IsWsKey(key)) {
    answer.refusal = ApiResponse::Error(
        400, "bad_request", "Sec-WebSocket-Key must be 16 bytes in base64 (RFC 6455 4.1)");
    return answer;
  }
  std::string accept = WsAcceptKey(key);
  if (accept.empty()) {
    answer.refusal = ApiResponse::Error(500, "internal", engine::CryptoError());
    return answer;
  }
  answer.response =
      "HTTP/1.1 101 Switching Protocols\r\nServer: scaffold\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
      accept + "\r\n\r\n";
  return answer;
}

std::string WsPingFrame() {
  return ControlFrame(kPing, "");
}

std::string WsPongFrame(std::string_view payload) {
  return ControlFrame(kPong, payload.substr(0, kMaxControlPayload));
}

std::string WsCloseFrame(uint16_t code, std::string_view reason) {
  if (code == kWsNoStatus) return ControlFrame(kClose, "");
  size_t cut = std::min(reason.size(), kMaxControlPayload - 2);
  // Never split a UTF-8 sequence: back up over continuation bytes.
  while (cut > 0 && cut < reason.size() && (static_cast<uint8_t>(reason[cut]) & 0xC0) == 0x80)
    --cut;
  std::string payload;
  payload += static_cast<char>(code >> 8);
  payload += static_cast<char>(code & 0xFF);
  payload += reason.substr(0, cut);
  return ControlFrame(kClose, payload);
}

std::optional<WsFailure> WsFrameReader::Feed(std::string_view bytes, Handler& handler) {
  std::optional<WsFailure> failure;
  if (done_) return failure;
  // Frames whole in `bytes` are read in place; only a frame's unfinished tail is copied.
  std::string_view data = bytes;
  bool from_partial = !partial_.empty();
  if (from_partial) {
    partial_.append(bytes);
    data = partial_;
  }
  size_t pos = 0;
  while (!done_ && pos < data.size()) {
    size_t n = ReadFrame(data.substr(pos), handler, failure);
    if (n == 0) break;
    pos += n;
  }
  if (done_) {
    std::string().swap(partial_);
    std::string().swap(message_);
    return failure;
  }
  // What is left waits for more bytes. A frame that arrives in many small reads is appended
  // to, never copied again, so its cost stays linear in its size.
  if (!from_partial) {
    partial_.assign(data.substr(pos));
  } else if (pos > 0) {
    partial_.erase(0, pos);
  }
  if (partial_.empty()) std::string().swap(partial_);  // an idle connection holds nothing
  return failure;
}

size_t WsFrameReader::ReadFrame(std::string_view data, Handler& handler,
                                std::optional<WsFailure>& failure) {
  auto fail = [&](uint16_t code, std::string_view reason) {
    failure.emplace();
    failure->code = code;
    failure->reason.assign(reason.data(), reason.size());
    done_ = true;
    return size_t{1};  // anything but 0: the caller stops at done_
  };
  if (data.size() < 2) return 0;
  auto byte = [&](size_t i) { return static_cast<uint8_t>(data[i]); };
  bool fin = byte(0) & 0x80;
  uint8_t opcode = byte(0) & 0x0F;
  bool masked = byte(1) & 0x80;
  uint64_t length = byte(1) & 0x7F;

  if (byte(0) & 0x70) return fail(kWsProtocolError, "reserved bits set (no extension was agreed)");
  bool control = opcode & 0x8;
  if (opcode != kContinuation && opcode != kText && opcode != kBinary && opcode != kClose &&
      opcode != kPing && opcode != kPong)
    return fail(kWsProtocolError, "unknown opcode " + std::to_string(opcode));
  if (!masked) return fail(kWsProtocolError, "a client's frames must be masked");
  if (control && !fin) return fail(kWsProtocolError, "a control frame cannot be fragmented");
  if (control && length > kMaxControlPayload)
    return fail(kWsProtocolError, "a control frame's payload is at most 125 bytes");

  size_t header = 2;
  if (length == 126) {
    if (data.size() < 4) return 0;
    length = (uint64_t{byte(2)} << 8) | byte(3);
    header = 4;
    if (length < 126) return fail(kWsProtocolError, "frame length not in its shortest form");
  } else if (length == 127) {
    if (data.size() < 10) return 0;
    length = 0;
    for (size_t i = 2; i < 10; ++i) length = (length << 8) | byte(i);
    header = 10;
    if (length >> 63) return fail(kWsProtocolError, "frame length over 2^63");
    if (length <= 0xFFFF) return fail(kWsProtocolError, "frame length not in its shortest form");
  }

  if (!control) {
    if (opcode == kContinuation && !in_message_)
      return fail(kWsProtocolError, "a continuation frame outside a message");
    if (opcode != kContinuation && in_message_)
      return fail(kWsProtocolError, "a new message before the last one ended");
    size_t so_far = message_.size();  // never over the limit: checked at each frame
    if (length > max_message_bytes_ - so_far)
      return fail(kWsTooBig,
                  "messages are at most " + std::to_string(max_message_bytes_) + " bytes");
  }

  size_t mask_at = header;
  header += 4;
  if (data.size() < header || data.size() - header < length) return 0;
  const uint8_t mask[4] = {byte(mask_at), byte(mask_at + 1), byte(mask_at + 2),
                           byte(mask_at + 3)};
  auto unmask_into = [&](std::string& out) {
    size_t start = out.size();
    out.append(data.substr(header, length));
    for (size_t i = 0; i < length; ++i) out[start + i] = static_cast<char>(out[start + i] ^ mask[i % 4]);
  };
  size_t frame_size = header + length;

  if (!control) {
    if (opcode != kContinuation) {  // message_ is empty: the last one was handed over
      in_message_ = true;
      message_binary_ = opcode == kBinary;
    }
    unmask_into(message_);
    if (!fin) return frame_size;
    in_message_ = false;
    std::string message;
    message.swap(message_);
    if (!message_binary_ && !IsValidUtf8(message))
      return fail(kWsInvalidPayload, "a text message that is not UTF-8");
    handler.OnWsMessage(std::move(message));
    return frame_size;
  }

  std::string payload;
  unmask_into(payload);
  if (opcode == kPing) {
    handler.OnWsPing(payload);
  } else if (opcode == kClose) {
    if (payload.size() == 1) return fail(kWsProtocolError, "a close frame with a 1-byte payload");
    uint16_t code = kWsNoStatus;
    std::string_view reason;
    if (payload.size() >= 2) {
      code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                   static_cast<uint8_t>(payload[1]));
      reason = std::string_view(payload).substr(2);
      if (!IsSendableCloseCode(code))
        return fail(kWsProtocolError, "close code " + std::to_string(code) + " cannot be sent");
      if (!IsValidUtf8(reason)) return fail(kWsInvalidPayload, "a close reason that is not UTF-8");
    }
    done_ = true;
    handler.OnWsClose(code, reason);
  }
  return frame_size;
}

}  // namespace scaffold::net
