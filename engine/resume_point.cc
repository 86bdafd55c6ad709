#include "engine/resume_point.h"

#include "engine/state.h"

namespace scaffold::engine {

std::string ReuseKey(const std::string& agent, std::optional<int> index) {
  return index ? agent + "#" + std::to_string(*index) : agent;
}

Result<ResumePoint> ReadResumePoint(EventStore* store, const std::string& session_id) {
  ResumePoint rp;
  constexpr int64_t kPage = 4096;
  while (true) {
    auto page = store->ReadEvents(session_id, rp.last_position, kPage);
    if (!page.ok()) return page.status();
    for (const auto& e : *page) {
      rp.last_position = e->position;
      const Json& p = e->payload;
      SCAFFOLD_RETURN_IF_ERROR(FoldEvent(*e, &rp.state));
      if (e->name == events::kWorkflowStarted) {
        rp.started = true;
        rp.overrides = p.value("overrides", Json::object());
      } else if (e->name == events::kStateIntent) {
        ++rp.intents_since_checkpoint;
        rp.intent_bytes_since_checkpoint += static_cast<int64_t>(e->wire.size());
      } else if (e->name == events::kStateCheckpoint) {
        rp.intents_since_checkpoint = 0;
        rp.intent_bytes_since_checkpoint = 0;
        rp.last_checkpoint_bytes = static_cast<int64_t>(e->wire.size());
      } else if (e->name == events::kPhaseEntered) {
        rp.phase = p.value("phase", "");
        rp.visits[rp.phase]++;
        rp.where = ResumePoint::Where::kInPhase;
        rp.agent_outputs.clear();
        rp.input_requested.reset();
        rp.input_received.reset();
        rp.tool_result.reset();
      } else if (e->name == events::kPhaseExited) {
        std::string reason = p.value("reason", "");
        if (reason == "next") {
          rp.where = ResumePoint::Where::kEnterNext;
          rp.next = p.value("next", "");
        } else if (reason == "terminal") {
          rp.where = ResumePoint::Where::kComplete;
        }
      } else if (e->name == events::kAgentCompleted) {
        std::optional<int> index;
        if (p.contains("index")) index = p["index"].get<int>();
        rp.agent_outputs[ReuseKey(p.value("agent", ""), index)] = p.value("output", Json());
      } else if (e->name == events::kInputRequested) {
        rp.input_requested = p;
        rp.input_requested_at = e->timestamp;
      } else if (e->name == events::kInputReceived) {
        rp.input_received = p;
      } else if (e->name == events::kToolResult && p.contains("phase")) {
        rp.tool_result = p;
      } else if (IsFinalEvent(e->name)) {
        rp.where = ResumePoint::Where::kFinished;
        rp.final_event = e->name;
      }
    }
    if (static_cast<int64_t>(page->size()) < kPage) break;
  }
  return rp;
}

}  // namespace scaffold::engine
