// The wire forms of an event for subscribers, built once per event and shared by every
// connection that sends it (DESIGN §9).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "engine/event.h"

namespace scaffold::net {

struct EventFrame {
  engine::EventPtr event;
  std::string sse;  // "id: 17\nevent: text:delta\ndata: {...}\n\n"
  // A whole WebSocket text frame, header included (WsTextFrame): the message is
  // {"type":"event","sessionId":"...","event":{...}}.
  std::string ws;
};
using EventFramePtr = std::shared_ptr<const EventFrame>;

EventFramePtr MakeEventFrame(const std::string& session_id, engine::EventPtr event);

// RFC 6455 §5.2: the header of an unmasked (server to client), unfragmented text frame of
// `payload_size` bytes: FIN and opcode 1, then a 7-bit, 16-bit or 64-bit length.
void AppendWsTextHeader(std::string& out, size_t payload_size);

// A whole text frame carrying `payload`.
std::string WsTextFrame(std::string_view payload);

}  // namespace scaffold::net
