// Reads of a session: its state at a position, and for clients that show it (the web console)
// its workflow and its usage.
#include "engine/state.h"
#include "engine/workflow.h"
#include "net/server/api.h"

namespace scaffold::net {
namespace {

constexpr int64_t kUsagePage = 5000;  // events read at a time while tallying

}  // namespace

Result<Json> Api::InitialState(const engine::SessionInfo& info) const {
  // workflow:started records it; a session without events has the stored workflow's.
  if (info.event_count > 0) {
    auto first = hub_->store()->ReadEvents(info.id, 0, 1);
    if (!first.ok()) return first.status();
    if (!first->empty() && (*first)[0]->name == engine::events::kWorkflowStarted &&
        (*first)[0]->payload.contains("state")) {
      return (*first)[0]->payload["state"];
    }
  }
  auto loaded = engine::LoadWorkflow(info.workflow_source);
  if (!loaded.workflow) return Status(ErrorCode::kDataLoss, "the session's workflow does not load");
  return loaded.workflow->initial_state;
}

ApiResponse Api::SessionState(const ApiRequest& r, const std::string& id) {
  auto s = hub_->Find(r.user, id);
  if (!s.ok()) return ApiResponse::FromStatus(s.status());
  std::optional<int64_t> position;
  if (auto it = r.query.find("position"); it != r.query.end()) {
    position = ParsePosition(it->second);
    if (!position) {
      return ApiResponse::Error(400, "bad_request",
                                "position must be an event position (0 or more)");
    }
    // Past the end reads the latest state; 0 is the state before the first event.
    position = std::min(*position, s->info.event_count);
  }
  Json body;
  if (s->info.event_count == 0 || (position && *position == 0)) {
    auto initial = InitialState(s->info);
    if (!initial.ok()) return ApiResponse::FromStatus(initial.status());
    body = {{"state", *initial}, {"position", 0}};
  } else {
    auto state = engine::StateAt(hub_->store(), id, position);
    if (!state.ok()) return ApiResponse::FromStatus(state.status());
    body = {{"state", state->state}, {"position", state->position}};
  }
  if (position) body["eventsReplayed"] = *position;  // the events up to the position
  return ApiResponse::WithJson(200, body);
}

ApiResponse Api::SessionWorkflow(const SessionView& s) const {
  ApiResponse r;
  r.body = s.info.workflow_source;
  return r;
}

ApiResponse Api::SessionUsage(const SessionView& s) {
  std::shared_ptr<Tally> tally;
  {
    std::lock_guard lock(tallies_mu_);
    auto it = tallies_.find(s.info.id);
    if (it == tallies_.end()) {
      if (tallies_.size() >= kMaxTallies) tallies_.clear();
      auto loaded = engine::LoadWorkflow(s.info.workflow_source);
      auto made = std::make_shared<Tally>();
      made->tally = std::make_unique<engine::UsageTally>(
          loaded.workflow ? engine::PriceTable::BuiltIn(loaded.workflow->prices)
                          : engine::PriceTable::BuiltIn());
      it = tallies_.emplace(s.info.id, std::move(made)).first;
    }
    tally = it->second;
  }
  // One request at a time feeds a session's tally; others wait for it rather than read twice.
  std::lock_guard feeding(tally->mu);
  while (tally->position < s.info.event_count) {
    auto events = hub_->store()->ReadEvents(s.info.id, tally->position, kUsagePage);
    if (!events.ok()) return ApiResponse::FromStatus(events.status());
    if (events->empty()) break;
    for (const auto& e : *events) tally->tally->Add(*e);
    tally->position = events->back()->position;
  }
  Json agents = Json::object();
  for (const auto& [name, totals] : tally->tally->agents())
    agents[name] = engine::UsageTally::TotalsJson(totals);
  return ApiResponse::WithJson(200,
                               {{"sessionId", s.info.id},
                                {"position", tally->position},
                                {"total", engine::UsageTally::TotalsJson(tally->tally->total())},
                                {"agents", agents}});
}

}  // namespace scaffold::net
