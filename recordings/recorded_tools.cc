#include "recordings/recorded_tools.h"

namespace scaffold::recordings {

RecordedTools::RecordedTools(const std::vector<engine::EventPtr>& events) {
  for (const auto& e : events) {
    if (e->name != engine::events::kToolResult || engine::IsExternalToolEvent(*e)) continue;

    engine::ToolResult r{e->payload.value("output", Json()), e->payload.value("isError", false)};
    if (e->payload.contains("agent")) {
      by_call_[e->payload.value("toolId", "")] = r;
    } else {
      by_tool_name_[e->payload.value("toolName", "")].push_back(r);
    }
  }
}

std::unique_ptr<engine::ToolCall> RecordedTools::Call(
    const engine::ToolRequest& request, const engine::ToolDecl*, engine::Executor* executor,
    std::function<void(engine::ToolResult)> done) {
  engine::ToolResult result{Json("no recorded result for tool \"" + request.tool_name +
                                 "\" (call " + request.call_id + ")"),
                            true};
  if (!request.agent.empty()) {
    if (auto it = by_call_.find(request.call_id); it != by_call_.end()) result = it->second;
  } else if (auto it = by_tool_name_.find(request.tool_name);
             it != by_tool_name_.end() && !it->second.empty()) {
    result = it->second.front();
    it->second.pop_front();
  }
  return engine::PostToolResult(executor, std::move(result), std::move(done));
}

}  // namespace scaffold::recordings
