#include "net/event_frames.h"

namespace scaffold::net {

EventFramePtr MakeEventFrame(const std::string& session_id, engine::EventPtr event) {
  auto frame = std::make_shared<EventFrame>();
  const std::string& wire = event->wire;
  frame->sse.reserve(wire.size() + event->name.size() + 40);
  frame->sse += "id: ";
  frame->sse += std::to_string(event->position);
  frame->sse += "\nevent: ";
  frame->sse += event->name;
  frame->sse += "\ndata: ";
  frame->sse += wire;  // compact JSON: never contains a newline
  frame->sse += "\n\n";
  frame->ws.reserve(wire.size() + session_id.size() + 48);
  frame->ws += "{\"type\":\"event\",\"sessionId\":\"";
  frame->ws += session_id;
  frame->ws += "\",\"event\":";
  frame->ws += wire;
  frame->ws += "}";
  frame->event = std::move(event);
  return frame;
}

}  // namespace scaffold::net
