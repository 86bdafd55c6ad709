#include "engine/state.h"

#include "engine/json_patch.h"

namespace scaffold::engine {

Status FoldEvent(const Event& event, Json* state) {
  if (event.name == events::kStateIntent) {
    auto it = event.payload.find("patches");
    if (it == event.payload.end())
      return Status(ErrorCode::kDataLoss, "state:intent without patches");
    return ApplyPatch(state, *it);
  }
  if (event.name == events::kStateCheckpoint) {
    *state = event.payload.value("state", Json::object());
  } else if (event.name == events::kWorkflowStarted) {
    *state = event.payload.value("state", Json::object());
  } else if (event.name == events::kSessionForked) {
    *state = event.payload.value("initialState", *state);
  }
  return Status::Ok();
}

Result<StateAtPosition> StateAt(EventStore* store, const std::string& session_id,
                                std::optional<int64_t> position) {
  auto info = store->GetSession(session_id);
  if (!info.ok()) return info.status();
  int64_t last = info->event_count;
  int64_t target = position.value_or(last);
  if (target < 1 || target > last) {
    return InvalidArgument("position " + std::to_string(target) +
                           " is outside this session's events (1.." + std::to_string(last) + ")");
  }
  StateAtPosition out;
  out.position = target;
  out.state = Json::object();
  int64_t after = 0;
  auto checkpoint = store->LatestCheckpoint(session_id, target);
  if (!checkpoint.ok()) return checkpoint.status();
  if (*checkpoint) {
    out.state = (**checkpoint)->payload.value("state", Json::object());
    after = (**checkpoint)->position;
  }
  constexpr int64_t kPage = 4096;
  while (after < target) {
    auto page = store->ReadEvents(session_id, after, std::min(kPage, target - after));
    if (!page.ok()) return page.status();
    if (page->empty()) break;
    for (const auto& e : *page) {
      SCAFFOLD_RETURN_IF_ERROR(FoldEvent(*e, &out.state));
      ++out.events_replayed;
      after = e->position;
    }
  }
  return out;
}

}  // namespace scaffold::engine
