// A ToolHost that answers from a recorded session's tool:result events, so a replay needs no
// connected client and runs no command or HTTP request. Agent tool calls are matched by their
// call id (which comes from the recorded model response); tool phases by tool name, in order.
// MCP servers' listings come from tool:listed events, by agent, item and entry, in order: a
// replay never starts a server.
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
  std::unique_ptr<engine::ToolCall> ListTools(
      const engine::ToolRequest& request, const engine::ToolDecl& decl,
      engine::Executor* executor, std::function<void(engine::ToolListing)> done) override;

  // The key of a listing: agent, item index and tools entry.
  static std::string ListingKey(const std::string& agent, std::optional<int64_t> index,
                                const std::string& entry);

 private:
  std::map<std::string, std::deque<engine::ToolListing>> listings_;
  std::map<std::string, engine::ToolResult> by_call_;                   // agent tool calls
  std::map<std::string, std::deque<engine::ToolResult>> by_tool_name_;  // tool phases
};

}  // namespace scaffold::recordings
