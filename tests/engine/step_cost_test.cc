// What a step costs in storage: steps that follow each other share a commit (and nothing is
// seen or sent before it is stored), checkpoints follow their policy rather than every phase,
// and a list grown step by step is recorded as what was added.

#include <catch2/catch.hpp>

#include "engine/json_patch.h"
#include "engine/state.h"
#include "tests/support/engine_fixture.h"

using scaffold::Json;
using scaffold::testing::EngineFixture;
namespace engine = scaffold::engine;

namespace {

// The test's SQLite store, counting transactions and checking that every event a sink is
// handed was committed before.
class CountingStore : public engine::EventStore {
 public:
  explicit CountingStore(engine::EventStore* inner) : inner_(inner) {}
  scaffold::Status CreateSession(const engine::SessionInfo& info) override {
    return inner_->CreateSession(info);
  }
  scaffold::Status Append(const std::string& id,
                          std::span<const engine::EventPtr> events) override {
    ++appends;
    largest_batch = std::max(largest_batch, events.size());
    return inner_->Append(id, events);
  }
  scaffold::Result<std::vector<engine::EventPtr>> ReadEvents(const std::string& id, int64_t after,
                                                            int64_t limit) override {
    return inner_->ReadEvents(id, after, limit);
  }
  scaffold::Result<std::optional<int64_t>> FindEvent(const std::string& id,
                                                     const std::string& event_id) override {
    return inner_->FindEvent(id, event_id);
  }
  scaffold::Result<std::optional<engine::EventPtr>> LatestCheckpoint(const std::string& id,
                                                                     int64_t position) override {
    return inner_->LatestCheckpoint(id, position);
  }
  scaffold::Result<engine::SessionInfo> GetSession(const std::string& id) override {
    return inner_->GetSession(id);
  }
  scaffold::Result<std::vector<engine::SessionInfo>> ListSessions(
      const engine::SessionFilter& filter) override {
    return inner_->ListSessions(filter);
  }
  scaffold::Result<std::map<engine::SessionStatus, int64_t>> CountSessions(
      const engine::SessionFilter& filter) override {
    return inner_->CountSessions(filter);
  }
  scaffold::Status DeleteSession(const std::string& id) override {
    return inner_->DeleteSession(id);
  }

  int appends = 0;
  size_t largest_batch = 0;

 private:
  engine::EventStore* inner_;
};

// Checks, as each batch arrives, that the store already holds it.
class CommittedSink : public engine::EventSink {
 public:
  CommittedSink(engine::EventStore* store, std::string id) : store_(store), id_(std::move(id)) {}
  void OnEvents(std::span<const engine::EventPtr> events) override {
    auto info = store_->GetSession(id_);
    if (!info.ok() || info->event_count < events.back()->position) ++uncommitted;
    seen += static_cast<int64_t>(events.size());
  }
  int uncommitted = 0;
  int64_t seen = 0;

 private:
  engine::EventStore* store_;
  std::string id_;
};

const char* kCounter = R"json({
  "scaffold": 1, "name": "count", "input": {"type": "integer"},
  "state": {"n": 0, "target": 0}, "start": {"/target": {"var": "input"}},
  "max_visits": 1000000,
  "phases": {"inc": {"set": {"/n": {"+": [{"var": "state.n"}, 1]}},
                     "next": {"if": [{"<": [{"var": "state.n"}, {"var": "state.target"}]}, "inc", "done"]}},
             "done": {"terminal": true, "result": {"var": "state.n"}}}})json";

struct Counted {
  std::unique_ptr<engine::Session> session;
  std::optional<engine::SessionEnd> end;
};

std::unique_ptr<Counted> RunCounted(EngineFixture& f, CountingStore* store,
                                    std::shared_ptr<const engine::Workflow> wf, Json input,
                                    CommittedSink** sink_out,
                                    std::unique_ptr<CommittedSink>* sink_holder) {
  engine::SessionDeps deps = f.Deps();
  deps.store = store;
  auto created = engine::Session::Create(deps, wf, std::move(input), f.options);
  REQUIRE(created.ok());
  auto run = std::make_unique<Counted>();
  run->session = std::move(*created);
  *sink_holder = std::make_unique<CommittedSink>(store, run->session->id());
  *sink_out = sink_holder->get();
  run->session->AddSink(sink_holder->get());
  Counted* raw = run.get();
  run->session->Start([raw](const engine::SessionEnd& end) { raw->end = end; });
  f.exec.RunUntilIdle();
  return run;
}

}  // namespace

TEST_CASE("set phases that follow each other share commits, within bounds", "[engine][steps]") {
  EngineFixture f;
  CountingStore store(f.store.get());
  CommittedSink* sink = nullptr;
  std::unique_ptr<CommittedSink> holder;
  auto run = RunCounted(f, &store, f.Load(kCounter), 5000, &sink, &holder);
  REQUIRE(run->end);
  REQUIRE(run->end->outcome == engine::SessionOutcome::kCompleted);
  auto events = f.Stored(run->session->id());
  // 5,000 visits of three events each, and the run's own; one commit per phase would be
  // 5,000 commits.
  CHECK(events.size() > 15000);
  INFO("commits: " << store.appends << ", largest " << store.largest_batch);
  CHECK(store.appends <= static_cast<int>(events.size() / 1000) + 4);
  CHECK(store.largest_batch <= engine::SessionLog::kMaxHeldEvents + 8);
  // Every event reached the sink, and only once it was stored.
  CHECK(sink->seen == static_cast<int64_t>(events.size()));
  CHECK(sink->uncommitted == 0);
}

TEST_CASE("held steps are committed before an agent's request goes out", "[engine][steps]") {
  EngineFixture f;
  CountingStore store(f.store.get());
  auto wf = f.Load(R"json({
    "scaffold": 1, "name": "then-ask-a-model", "state": {"n": 0},
    "agents": {"w": {"provider": "anthropic", "model": "m", "prompt": "Write."}},
    "max_visits": 1000,
    "phases": {"inc": {"set": {"/n": {"+": [{"var": "state.n"}, 1]}},
                       "next": {"if": [{"<": [{"var": "state.n"}, 50]}, "inc", "write"]}},
               "write": {"run": "w", "next": "done"},
               "done": {"terminal": true}}})json");
  f.provider.Add("w", {});
  int64_t stored_at_request = -1;
  std::string id;
  f.provider.on_start = [&](const engine::ModelRequest&) {
    auto info = f.store->GetSession(id);
    if (info.ok()) stored_at_request = info->event_count;
  };
  engine::SessionDeps deps = f.Deps();
  deps.store = &store;
  auto created = engine::Session::Create(deps, wf, nullptr, f.options);
  REQUIRE(created.ok());
  auto session = std::move(*created);
  id = session->id();
  std::optional<engine::SessionEnd> end;
  session->Start([&](const engine::SessionEnd& e) { end = e; });
  f.exec.RunUntilIdle();
  REQUIRE(end);
  CHECK(end->outcome == engine::SessionOutcome::kCompleted);
  auto events = f.Stored(id);
  int64_t entered_write = 0;
  for (const auto& e : events) {
    if (e->name == "phase:entered" && e->payload["phase"] == "write") entered_write = e->position;
  }
  REQUIRE(entered_write > 150);
  // The 50 set phases and the agent phase's entry were stored before the request.
  CHECK(stored_at_request >= entered_write);
  CHECK(store.appends < 10);
}

TEST_CASE("checkpoints come every K intents or B bytes, not at every phase", "[engine][steps]") {
  SECTION("a small state: every checkpoint_every intents, or every 64 KiB of them") {
    EngineFixture f;
    f.options.checkpoint_bytes = int64_t{1} << 40;
    auto run = f.Start(f.Load(kCounter), 2500);
    REQUIRE(run->end->outcome == engine::SessionOutcome::kCompleted);
    // 2,501 intents (the start's and 2,500 visits'), the default of 1,000 between checkpoints.
    CHECK(EngineFixture::Named(f.Stored(run->id()), "state:checkpoint").size() == 2);

    EngineFixture g;
    auto run_g = g.Start(g.Load(kCounter), 2500);  // destroyed before g, whose tools it used
    auto events = g.Stored(run_g->id());
    size_t intent_bytes = 0;
    for (const auto& e : events) {
      if (e->name == "state:intent") intent_bytes += e->wire.size();
    }
    // By default also once the intents since the last checkpoint reach 64 KiB.
    CHECK(EngineFixture::Named(events, "state:checkpoint").size() ==
          intent_bytes / engine::kMinCheckpointBytes);
    f.store = std::move(g.store);
    auto last = engine::StateAt(f.store.get(), run_g->id(), std::nullopt);
    REQUIRE(last.ok());
    CHECK(last->state["n"] == 2500);
    CHECK(last->events_replayed < 3 * 1000 + 10);
  }
  SECTION("a 100 KB state: checkpoints cost about what the patches they stand for cost") {
    EngineFixture f;
    Json wf = Json::parse(kCounter);
    wf["entry"] = "inc";
    wf["state"]["doc"] = std::string(100 * 1024, 'x');
    wf["state"]["notes"] = Json::array();
    wf["phases"]["inc"]["set"]["/notes/-"] = Json::parse(R"({"cat": ["note ", {"var": "state.n"}]})");
    auto run = f.Start(f.Load(wf.dump()), 1000);
    REQUIRE(run->end->outcome == engine::SessionOutcome::kCompleted);
    auto events = f.Stored(run->id());
    size_t bytes = 0, checkpoints = 0;
    for (const auto& e : events) {
      if (e->name == "workflow:started" || e->name == "workflow:completed") continue;
      bytes += e->wire.size();
      if (e->name == "state:checkpoint") ++checkpoints;
    }
    INFO(bytes << " bytes, " << checkpoints << " checkpoints");
    // A checkpoint per phase would be 100 MB; each visit's own events are under 800 bytes.
    CHECK(checkpoints >= 1);
    CHECK(checkpoints <= 4);
    CHECK(bytes < 1000 * 800 + 4 * 110 * 1024);
    // Resume and state-at-position still read a checkpoint and a bounded tail.
    for (int64_t at : {int64_t{1}, static_cast<int64_t>(events.size()) / 2,
                       static_cast<int64_t>(events.size())}) {
      auto state = engine::StateAt(f.store.get(), run->id(), at);
      REQUIRE(state.ok());
      CHECK(state->events_replayed <= 3 * 1000 + 10);
    }
    CHECK(f.FinalState(run->id())["notes"].size() == 1000);
  }
}

TEST_CASE("a list set to a longer copy of itself is recorded as what was added", "[state]") {
  Json state = Json::parse(R"({"log": ["a", "b"], "obj": {"k": [1]}, "s": "text"})");
  Json before = state;
  auto patch = engine::ApplyAssignments(
      &state, {{"/log", Json::array({"a", "b", "c", "d"})}, {"/obj/k", Json::array({2})},
               {"/s", "text and more"}});
  REQUIRE(patch.ok());
  CHECK(patch->patches == Json::parse(R"([
    {"op": "add", "path": "/log/2", "value": "c"}, {"op": "add", "path": "/log/3", "value": "d"},
    {"op": "replace", "path": "/obj/k", "value": [2]},
    {"op": "replace", "path": "/s", "value": "text and more"}])"));
  CHECK(state["log"] == Json::array({"a", "b", "c", "d"}));
  REQUIRE(engine::ApplyPatch(&state, patch->inverse).ok());
  CHECK(state == before);
  // Growing from empty, and an equal list (nothing added: a plain replace).
  Json empty = Json::parse(R"({"l": []})");
  auto grown = engine::ApplyAssignments(&empty, {{"/l", Json::array({1})}, {"/l", Json::array({1})}});
  REQUIRE(grown.ok());
  CHECK(grown->patches[0] == Json::parse(R"({"op": "add", "path": "/l/0", "value": 1})"));
  CHECK(grown->patches[1]["op"] == "replace");
}

TEST_CASE("intents recorded as whole-list replaces compare as what they added", "[state]") {
  Json patches = Json::parse(R"([{"op": "replace", "path": "/log", "value": ["a", "b", "c"]},
                                 {"op": "replace", "path": "/n", "value": 2}])");
  Json inverse = Json::parse(R"([{"op": "replace", "path": "/n", "value": 1},
                                 {"op": "replace", "path": "/log", "value": ["a"]}])");
  engine::CompactRecordedIntent(&patches, &inverse);
  CHECK(patches == Json::parse(R"([{"op": "add", "path": "/log/1", "value": "b"},
                                   {"op": "add", "path": "/log/2", "value": "c"},
                                   {"op": "replace", "path": "/n", "value": 2}])"));
  CHECK(inverse == Json::parse(R"([{"op": "replace", "path": "/n", "value": 1},
                                   {"op": "remove", "path": "/log/2"},
                                   {"op": "remove", "path": "/log/1"}])"));
  // What ApplyAssignments records now is left as it is, and so is anything malformed.
  Json again = patches, again_inverse = inverse;
  engine::CompactRecordedIntent(&again, &again_inverse);
  CHECK(again == patches);
  CHECK(again_inverse == inverse);
  Json odd = Json::parse(R"([{"op": "replace", "path": 3, "value": [1, 2]}, 7])");
  Json odd_inverse = Json::parse(R"([{"op": "replace", "path": 3, "value": [1]}])");
  Json odd_copy = odd;
  engine::CompactRecordedIntent(&odd, &odd_inverse);
  CHECK(odd == odd_copy);
}
