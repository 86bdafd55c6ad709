#include "recordings/replay.h"

#include "engine/memory_store.h"
#include "engine/session.h"
#include "engine/virtual_executor.h"
#include "recordings/recorded_tools.h"
#include "recordings/sqlite/sqlite_store.h"

namespace scaffold::recordings {
namespace {

class Collector : public engine::EventSink {
 public:
  explicit Collector(engine::EventSink* view) : view_(view) {}
  void OnEvents(std::span<const engine::EventPtr> events) override {
    events_.insert(events_.end(), events.begin(), events.end());
    if (view_) view_->OnEvents(events);
  }
  std::vector<engine::EventPtr> events_;

 private:
  engine::EventSink* view_;
};

const char* VerdictName(ReplayReport::Verdict v) {
  switch (v) {
    case ReplayReport::Verdict::kIdentical:
      return "identical";
    case ReplayReport::Verdict::kDiverged:
      return "diverged";
    case ReplayReport::Verdict::kMissingExchange:
      return "missing_exchange";
  }
  return "diverged";
}

}  // namespace

std::string ReplayReport::ToText() const {
  std::string counts = std::to_string(events) + " events, " + std::to_string(exchanges) +
                       " exchange" + (exchanges == 1 ? "" : "s");
  switch (verdict) {
    case Verdict::kIdentical:
      return "identical: " + counts;
    case Verdict::kDiverged:
      return divergence->ToText();
    case Verdict::kMissingExchange:
      return "missing exchange: " + missing->Describe();
  }
  return "";
}

Json ReplayReport::ToJson() const {
  Json out = {{"result", VerdictName(verdict)},
              {"sessionId", session_id},
              {"events", events},
              {"exchanges", exchanges}};
  if (divergence) out["divergence"] = divergence->ToJson();
  if (missing) out["missing"] = missing->ToJson();
  return out;
}

namespace {

// Re-runs the session `info` describes and compares its events with `recorded`; the provider
// plays the exchanges `source` holds for that session.
Result<ReplayReport> Replay(Store* source, const engine::SessionInfo& info,
                            const std::vector<engine::EventPtr>& recorded,
                            const ReplayOptions& options) {
  std::shared_ptr<const engine::Workflow> workflow = options.workflow;
  if (!workflow) {
    auto loaded = engine::LoadWorkflow(info.workflow_source);
    if (!loaded.workflow) {
      return Status(ErrorCode::kDataLoss, "the recorded workflow does not load: " +
                                              loaded.diagnostics.front().ToString());
    }
    workflow = loaded.workflow;
  }

  // What the recording says the run was given: overrides, answers.
  engine::RunOptions run_options;
  run_options.redact = info.redact;
  std::map<std::string, engine::InputAnswer> answers;
  for (const auto& e : recorded) {
    if (e->name == engine::events::kWorkflowStarted) {
      const Json& o = e->payload.value("overrides", Json::object());
      run_options.provider_override = o.value("provider", "");
      run_options.model_override = o.value("model", "");
    } else if (e->name == engine::events::kInputReceived && !e->payload.value("timedOut", false)) {
      std::optional<bool> approved;
      if (e->payload.contains("approved")) approved = e->payload["approved"].get<bool>();
      answers[e->payload.value("id", "")] = {e->payload.value("id", ""),
                                             e->payload.value("value", Json()), approved};
    }
  }

  // The re-run's log is compared and thrown away: it needs no database.
  engine::MemoryEventStore replay_store;
  engine::VirtualExecutor executor(info.created_at);
  RecordingProvider provider(source, nullptr, {RecordMode::kPlayback, /*same_session_only=*/true});
  RecordedTools tools(recorded);
  engine::SessionDeps deps{&replay_store, &provider, &tools, &executor, &executor};

  auto session =
      engine::Session::Create(deps, workflow, info.input, run_options, info.owner, info.id);
  if (!session.ok()) return session.status().WithContext("the replay could not start");
  Collector collector(options.view);
  (*session)->AddSink(&collector);
  (*session)->SetInputListener([&](const Json& request) {
    auto it = answers.find(request.value("id", ""));
    if (it != answers.end()) (*session)->SubmitInput(it->second, [](const Status&) {});
  });
  bool ended = false;
  (*session)->Start([&](const engine::SessionEnd&) { ended = true; });
  executor.RunUntilIdle();
  if (!ended) {
    // Waiting for an answer the recording does not have: compare what there is.
    (*session)->Cancel();
    executor.RunUntilIdle();
  }

  ReplayReport report;
  report.session_id = info.id;
  report.events = info.event_count;
  report.exchanges = provider.played();
  report.divergence = CompareEvents(recorded, collector.events_);
  report.missing = provider.first_miss();
  if (report.missing) {
    // A divergence before the call that found nothing is the real story; after it, the missing
    // exchange is.
    int64_t miss_position = INT64_MAX;
    for (const auto& e : collector.events_) {
      if (e->name == engine::events::kAgentStarted &&
          e->payload.value("agent", "") == report.missing->agent) {
        miss_position = e->position;
      }
    }
    bool earlier = report.divergence && report.divergence->replay_position != 0 &&
                   report.divergence->replay_position < miss_position;
    report.verdict =
        earlier ? ReplayReport::Verdict::kDiverged : ReplayReport::Verdict::kMissingExchange;
    if (!earlier) report.divergence.reset();
  } else {
    report.verdict =
        report.divergence ? ReplayReport::Verdict::kDiverged : ReplayReport::Verdict::kIdentical;
  }
  return report;
}

}  // namespace

Result<ReplayReport> ReplaySession(Store* source, const std::string& session_id,
                                   const ReplayOptions& options) {
  auto info = source->GetSession(session_id);
  if (!info.ok()) return info.status();
  auto recorded = source->ReadEvents(session_id, 0, info->event_count + 1);
  if (!recorded.ok()) return recorded.status();
  return Replay(source, *info, *recorded, options);
}

Result<ReplayReport> ReplayRecording(const Recording& recording, const ReplayOptions& options) {
  // Only the exchanges go into a database, for the provider's lookups; the events are compared
  // where they are.
  auto store = SqliteStore::Open(":memory:");
  if (!store.ok()) return store.status();
  Status s = (*store)->ImportSession(recording.info, {}, recording.exchanges);
  if (!s.ok()) return s;
  return Replay(store->get(), recording.info, recording.events, options);
}

}  // namespace scaffold::recordings
