// The wire forms of an event for subscribers, built once per event and shared by every
// connection that sends it (DESIGN §9).
#pragma once

#include <memory>
#include <string>

#include "engine/event.h"

namespace scaffold::net {

struct EventFrame {
  engine::EventPtr event;
  std::string sse;  // "id: 17\nevent: text:delta\ndata: {...}\n\n"
  std::string ws;   // {"type":"event","sessionId":"...","event":{...}}
};
using EventFramePtr = std::shared_ptr<const EventFrame>;

EventFramePtr MakeEventFrame(const std::string& session_id, engine::EventPtr event);

}  // namespace scaffold::net
