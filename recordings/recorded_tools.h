// A ToolHost that answers from a recorded session's tool:result events, so a replay needs no
// connected client and runs no command or HTTP request. Agent tool calls are matched by their
// call id (which comes from the recorded model response); tool phases by tool name, in order.
#pragma once

#include <deque>
#include <map>
#include <vector>

#include "engine/event.h"
#include "engine/tool_host.h"

namespace scaffold::recordings {

class RecordedTools : public engine::ToolHost {
 public:
  explicit RecordedTools(const std::vector<engine::EventPtr>& events);

  std::unique_ptr<engine::ToolCall> Call(const engine::ToolRequest& request,
                                         const engine::ToolDecl* decl, engine::Executor* executor,
                                         std::function<void(engine::ToolResult)> done) override;

 private:
  std::map<std::string, engine::ToolResult> by_call_;                   // agent tool calls
  std::map<std::string, std::deque<engine::ToolResult>> by_tool_name_;  // tool phases
};

}  // namespace scaffold::recordings
