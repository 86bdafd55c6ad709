#include "recordings/replay.h"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "engine/memory_store.h"
#include "engine/session.h"
#include "engine/virtual_executor.h"
#include "recordings/recorded_tools.h"

namespace scaffold::recordings {
namespace {

// What a replay needs to know of the recording before it runs: how the session was started,
// the answers its asks got, and its tools' results.
struct RecordedFacts {
  engine::RunOptions run_options;
  std::map<std::string, engine::InputAnswer> answers;
  std::vector<engine::EventPtr> tool_results;

  // The event names Learn reads (a source may skip parsing events that mention none).
  static constexpr std::string_view kNames[] = {engine::events::kWorkflowStarted,
                                                engine::events::kInputReceived,
                                                engine::events::kToolResult,
                                                engine::events::kToolListed};

  void Learn(const engine::EventPtr& e) {
    if (e->name == engine::events::kWorkflowStarted) {
      const Json& o = e->payload.value("overrides", Json::object());
      run_options.provider_override = o.value("provider", "");
      run_options.model_override = o.value("model", "");
    } else if (e->name == engine::events::kInputReceived && !e->payload.value("timedOut", false)) {
      std::optional<bool> approved;
      if (e->payload.contains("approved")) approved = e->payload["approved"].get<bool>();
      answers[e->payload.value("id", "")] = {e->payload.value("id", ""),
                                             e->payload.value("value", Json()), approved};
    } else if (e->name == engine::events::kToolResult ||
               e->name == engine::events::kToolListed) {
      tool_results.push_back(e);
    }
  }
};

// The recorded events in position order, read twice: once for the facts, once to compare.
class RecordedEvents {
 public:
  virtual ~RecordedEvents() = default;
  virtual Status LearnFacts(RecordedFacts* facts) = 0;
  // The next event for the comparison; nothing after the last.
  virtual Result<std::optional<RecordedEvent>> Next() = 0;
  // An event Next handed over unparsed, parsed.
  virtual Result<engine::EventPtr> Parse(const RecordedEvent& e) = 0;
};

// Recorded events produced on a thread of their own a few thousand ahead of the comparison
// (so reading and parsing them and the re-run share the cores), never more.
class PrefetchedEvents : public RecordedEvents {
 public:
  ~PrefetchedEvents() override { Stop(); }

  Result<std::optional<RecordedEvent>> Next() override {
    auto e = NextParsed();
    if (!e.ok()) return e.status();
    if (!*e) return std::optional<RecordedEvent>();
    return std::optional<RecordedEvent>(Recorded(*e));
  }
  Result<engine::EventPtr> Parse(const RecordedEvent& e) override { return e.parsed; }

 private:
  Result<engine::EventPtr> NextParsed() {
    if (!producer_.joinable()) producer_ = std::thread([this] { Run(); });
    if (next_ == chunk_.size()) {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait(lock, [&] { return !ready_.empty() || produced_all_; });
      if (ready_.empty()) {
        if (!error_.ok()) return error_;
        return engine::EventPtr();
      }
      chunk_ = std::move(ready_.front());
      ready_.pop_front();
      next_ = 0;
      changed_.notify_all();
    }
    return chunk_[next_++];
  }

 protected:
  // Calls `put` with every event in order; stops early when `put` returns false. Runs on the
  // producing thread: a subclass calls Stop() first thing in its destructor.
  virtual Status Produce(const std::function<bool(engine::EventPtr)>& put) = 0;

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    changed_.notify_all();
    if (producer_.joinable()) producer_.join();
  }

 private:
  static constexpr size_t kChunk = 2048;
  static constexpr size_t kChunksAhead = 4;

  // Hands a full chunk over; false once the consumer is gone.
  bool Hand(std::vector<engine::EventPtr>* chunk) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return ready_.size() < kChunksAhead || stop_; });
    if (stop_) return false;
    ready_.push_back(std::move(*chunk));
    chunk->clear();
    changed_.notify_all();
    return true;
  }

  void Run() {
    std::vector<engine::EventPtr> chunk;
    Status status = Produce([&](engine::EventPtr e) {
      chunk.push_back(std::move(e));
      return chunk.size() < kChunk || Hand(&chunk);
    });
    if (status.ok() && !chunk.empty()) Hand(&chunk);
    std::lock_guard<std::mutex> lock(mu_);
    error_ = status;
    produced_all_ = true;
    changed_.notify_all();
  }

  std::thread producer_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::vector<engine::EventPtr>> ready_;  // guarded by mu_
  bool produced_all_ = false;                         // guarded by mu_
  bool stop_ = false;                                 // guarded by mu_
  Status error_;                                      // guarded by mu_
  std::vector<engine::EventPtr> chunk_;  // the consumer's
  size_t next_ = 0;
};

// A session's events in its store, a page at a time.
class StoredEvents : public PrefetchedEvents {
 public:
  StoredEvents(Store* store, std::string id) : store_(store), id_(std::move(id)) {}
  ~StoredEvents() override { Stop(); }
  Status LearnFacts(RecordedFacts* facts) override {
    // Pages this long are parsed on several threads (engine::ParseEvents); nothing else runs yet.
    return Read(2 * engine::kEventsPerParseThread, [&](engine::EventPtr e) {
      facts->Learn(e);
      return true;
    });
  }

 protected:
  Status Produce(const std::function<bool(engine::EventPtr)>& put) override {
    return Read(4096, put);
  }

 private:
  Status Read(int64_t page_size, const std::function<bool(engine::EventPtr)>& put) {
    for (int64_t after = 0;;) {
      auto page = store_->ReadEvents(id_, after, page_size);
      if (!page.ok()) return page.status();
      for (auto& e : *page) {
        if (!put(e)) return Status::Ok();
      }
      if (page->size() < static_cast<size_t>(page_size)) return Status::Ok();
      after = page->back()->position;
    }
  }

  Store* store_;
  std::string id_;
};

// A recording file's events, read from its text as the comparison asks for them: parsed only
// when the layout is not the canonical one or the comparison needs it (see RecordedEvent).
class FileEvents : public RecordedEvents {
 public:
  explicit FileEvents(const RecordingText* text) : text_(text) {}
  Status LearnFacts(RecordedFacts* facts) override {
    for (size_t i = 0; i < text_->event_count(); ++i) {
      std::string_view wire = text_->EventText(i);
      bool wanted = false;
      for (std::string_view name : RecordedFacts::kNames) {
        wanted = wanted || wire.find(name) != std::string_view::npos;
      }
      if (!wanted) continue;
      auto e = text_->Event(i);
      if (!e.ok()) return e.status();
      facts->Learn(*e);
    }
    return Status::Ok();
  }

  Result<std::optional<RecordedEvent>> Next() override {
    if (next_ == text_->event_count()) return std::optional<RecordedEvent>();
    size_t i = next_++;
    using Found = std::optional<RecordedEvent>;
    auto view = engine::ViewWire(text_->EventText(i));
    if (view && view->position == static_cast<int64_t>(i) + 1)
      return Found(RecordedEvent{nullptr, view->position, view->name, view->payload});
    // Another layout, or a wrong position (which the parse reports).
    auto e = text_->Event(i);
    if (!e.ok()) return e.status();
    return Found(RecordedEvent{*e, (*e)->position, (*e)->name, {}});
  }
  Result<engine::EventPtr> Parse(const RecordedEvent& e) override {
    if (e.parsed) return e.parsed;
    return text_->Event(static_cast<size_t>(e.position - 1));
  }

 private:
  const RecordingText* text_;
  size_t next_ = 0;
};

// Compares the replay's events as they come, visit by visit, and remembers where each agent
// last started (for a missing exchange's report).
class ComparingSink : public engine::EventSink {
 public:
  ComparingSink(RecordedEvents* recorded, engine::EventSink* view)
      : comparison_([recorded] { return recorded->Next(); },
                    [recorded](const RecordedEvent& e) { return recorded->Parse(e); }),
        view_(view) {}
  void OnEvents(std::span<const engine::EventPtr> events) override {
    for (const auto& e : events) {
      if (e->name == engine::events::kAgentStarted)
        agent_started_[e->payload.value("agent", "")] = e->position;
    }
    if (error_.ok()) error_ = comparison_.AddReplayed(events);
    if (view_) view_->OnEvents(events);
  }
  Status Finish() {
    if (error_.ok()) error_ = comparison_.Finish();
    return error_;
  }
  const std::optional<Divergence>& divergence() const { return comparison_.divergence(); }
  int64_t AgentStarted(const std::string& agent) const {
    auto it = agent_started_.find(agent);
    return it == agent_started_.end() ? INT64_MAX : it->second;
  }

 private:
  StreamingComparison comparison_;
  engine::EventSink* view_;
  std::map<std::string, int64_t> agent_started_;
  Status error_;
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

// Re-runs the session `info` describes and compares its events with `recorded`, as they come;
// the provider plays the exchanges `source` holds for that session. Neither log is kept whole.
Result<ReplayReport> Replay(ExchangeBook* source, const engine::SessionInfo& info,
                            RecordedEvents* recorded, const ReplayOptions& options) {
  std::shared_ptr<const engine::Workflow> workflow = options.workflow;
  if (!workflow) {
    auto loaded = engine::LoadWorkflow(info.workflow_source);
    if (!loaded.workflow) {
      return Status(ErrorCode::kDataLoss, "the recorded workflow does not load: " +
                                              loaded.diagnostics.front().ToString());
    }
    workflow = loaded.workflow;
  }

  // What the recording says the run was given: overrides, answers, tools' results.
  RecordedFacts facts;
  SCAFFOLD_RETURN_IF_ERROR(recorded->LearnFacts(&facts));
  facts.run_options.redact = info.redact;

  // The re-run's log is compared as it comes and not kept.
  engine::MemoryEventStore replay_store(/*keep_events=*/false);
  engine::VirtualExecutor executor(info.created_at);
  RecordingProvider provider(source, nullptr, {RecordMode::kPlayback, /*same_session_only=*/true});
  RecordedTools tools(facts.tool_results);
  engine::SessionDeps deps{&replay_store, &provider, &tools, &executor, &executor};

  auto session = engine::Session::Create(deps, workflow, info.input, facts.run_options, info.owner,
                                         info.id);
  if (!session.ok()) return session.status().WithContext("the replay could not start");
  ComparingSink compare(recorded, options.view);
  (*session)->AddSink(&compare);
  (*session)->SetInputListener([&](const Json& request) {
    auto it = facts.answers.find(request.value("id", ""));
    if (it != facts.answers.end()) (*session)->SubmitInput(it->second, [](const Status&) {});
  });
  bool ended = false;
  (*session)->Start([&](const engine::SessionEnd&) { ended = true; });
  executor.RunUntilIdle();
  if (!ended) {
    // Waiting for an answer the recording does not have: compare what there is.
    (*session)->Cancel();
    executor.RunUntilIdle();
  }
  SCAFFOLD_RETURN_IF_ERROR(compare.Finish());

  ReplayReport report;
  report.session_id = info.id;
  report.events = info.event_count;
  report.exchanges = provider.played();
  report.divergence = compare.divergence();
  report.missing = provider.first_miss();
  if (report.missing) {
    // A divergence before the call that found nothing is the real story; after it, the missing
    // exchange is.
    int64_t miss_position = compare.AgentStarted(report.missing->agent);
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
  StoredEvents recorded(source, session_id);
  return Replay(source, *info, &recorded, options);
}

Result<ReplayReport> ReplayRecording(const RecordingText& recording,
                                     const ReplayOptions& options) {
  // The exchanges are looked up in the file's text, and the events compared from it.
  FileEvents recorded(&recording);
  return Replay(recording.exchanges(), recording.info(), &recorded, options);
}

}  // namespace scaffold::recordings
