// The wire forms of an event for subscribers, built once per event and shared by every
// connection that sends it (DESIGN §9).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/event.h"

namespace scaffold::net {

struct EventFrame {
  int64_t position = 0;
  bool final = false;  // the session's last event (IsFinalEvent)
  std::string sse;     // "id: 17\nevent: text:delta\ndata: {...}\n\n"
  // A whole WebSocket text frame, header included (WsTextFrame): the message is
  // {"type":"event","sessionId":"...","event":{...}}.
  std::string ws;

  // What a connection's queue is charged for holding this frame: all of it and the bookkeeping
  // around it, even when other subscribers share it (so a connection never holds more than
  // its limit, however many others follow the same session).
  size_t cost() const { return sse.size() + ws.size() + kOverhead; }
  static constexpr size_t kOverhead = 128;
};
using EventFramePtr = std::shared_ptr<const EventFrame>;

// The frames of one commit, shared by every subscriber it goes to (one allocation per commit,
// not per subscriber).
using FrameBatch = std::shared_ptr<const std::vector<EventFramePtr>>;

// Which wire forms to build: live frames go to every kind of subscriber; a history frame is
// read for one connection and built only in its form, so a connection catching up holds the
// bytes it sends and nothing else (not the parsed event).
enum class FrameForms { kBoth, kSse, kWs };

EventFramePtr MakeEventFrame(const std::string& session_id, const engine::Event& event,
                             FrameForms forms = FrameForms::kBoth);

// RFC 6455 §5.2: the header of an unmasked (server to client), unfragmented text frame of
// `payload_size` bytes: FIN and opcode 1, then a 7-bit, 16-bit or 64-bit length.
void AppendWsTextHeader(std::string& out, size_t payload_size);

// A whole text frame carrying `payload`.
std::string WsTextFrame(std::string_view payload);

}  // namespace scaffold::net
