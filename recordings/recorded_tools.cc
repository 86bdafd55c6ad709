#include "recordings/recorded_tools.h"

#include "engine/event_shape.h"

namespace scaffold::recordings {

RecordedTools::RecordedTools(const std::vector<engine::EventPtr>& events) {
  for (const auto& e : events) {
    if (e->name == engine::events::kToolListed) {
      if (!engine::CheckEventShape(*e).ok()) continue;  // its listing will be missing
      std::optional<int64_t> index;
      if (e->payload.contains("index")) index = e->payload["index"].get<int64_t>();
      auto listing = engine::ListingFromJson(e->payload);
      if (!listing.ok()) {  // a damaged recording: the replay sees the problem as the listing
        listing = engine::ToolListing{};
        listing->error = "recorded event " + std::to_string(e->position) + ": " +
                         engine::ListingFromJson(e->payload).status().message();
      }
      listings_[ListingKey(e->payload.value("agent", ""), index, e->payload.value("tool", ""))]
          .push_back(std::move(*listing));
      continue;
    }
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

std::string RecordedTools::ListingKey(const std::string& agent, std::optional<int64_t> index,
                                      const std::string& entry) {
  return agent + '\n' + (index ? std::to_string(*index) : "-") + '\n' + entry;
}

std::unique_ptr<engine::ToolCall> RecordedTools::ListTools(
    const engine::ToolRequest& request, const engine::ToolDecl&, engine::Executor* executor,
    std::function<void(engine::ToolListing)> done) {
  engine::ToolListing listing;
  listing.error = "no recorded listing of tool \"" + request.tool_name + "\" for agent \"" +
                  request.agent + "\"";
  auto it = listings_.find(ListingKey(request.agent, request.index, request.tool_name));
  if (it != listings_.end() && !it->second.empty()) {
    listing = std::move(it->second.front());
    it->second.pop_front();
  }
  return engine::PostToolListing(executor, std::move(listing), std::move(done));
}

}  // namespace scaffold::recordings
