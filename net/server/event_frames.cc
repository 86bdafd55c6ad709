#include "net/server/event_frames.h"

namespace scaffold::net {

void AppendWsTextHeader(std::string& out, size_t payload_size) {
  out += static_cast<char>(0x81);  // FIN, text
  if (payload_size < 126) {
    out += static_cast<char>(payload_size);
  } else if (payload_size <= 0xFFFF) {
    out += static_cast<char>(126);
    out += static_cast<char>(payload_size >> 8);
    out += static_cast<char>(payload_size & 0xFF);
  } else {
    out += static_cast<char>(127);
    for (int shift = 56; shift >= 0; shift -= 8)
      out += static_cast<char>((static_cast<uint64_t>(payload_size) >> shift) & 0xFF);
  }
}

std::string WsTextFrame(std::string_view payload) {
  std::string frame;
  frame.reserve(payload.size() + 10);
  AppendWsTextHeader(frame, payload.size());
  frame += payload;
  return frame;
}

EventFramePtr MakeEventFrame(const std::string& session_id, const engine::Event& event,
                             FrameForms forms) {
  auto frame = std::make_shared<EventFrame>();
  frame->position = event.position;
  frame->final = engine::IsFinalEvent(event.name);
  const std::string& wire = event.wire;
  if (forms != FrameForms::kWs) {
    frame->sse.reserve(wire.size() + event.name.size() + 40);
    frame->sse += "id: ";
    frame->sse += std::to_string(event.position);
    frame->sse += "\nevent: ";
    frame->sse += event.name;
    frame->sse += "\ndata: ";
    frame->sse += wire;  // compact JSON: never contains a newline
    frame->sse += "\n\n";
  }
  if (forms == FrameForms::kSse) return frame;

  static constexpr std::string_view kHead = "{\"type\":\"event\",\"sessionId\":\"";
  static constexpr std::string_view kMiddle = "\",\"event\":";
  size_t payload = kHead.size() + session_id.size() + kMiddle.size() + wire.size() + 1;
  frame->ws.reserve(payload + 10);
  AppendWsTextHeader(frame->ws, payload);
  frame->ws += kHead;
  frame->ws += session_id;
  frame->ws += kMiddle;
  frame->ws += wire;
  frame->ws += '}';
  return frame;
}

}  // namespace scaffold::net
