#include <catch2/catch.hpp>

#include "engine/json_patch.h"
#include "engine/state.h"
#include "tests/support/engine_fixture.h"

using scaffold::Json;
using scaffold::engine::SessionOutcome;
using scaffold::testing::EngineFixture;
using scaffold::testing::Reply;
namespace engine = scaffold::engine;

namespace {

const char* kPipeline = R"json({
  "scaffold": 1, "name": "pipeline",
  "state": {"items": ["a", "b", "c", "d"], "out": [], "approved": false, "summary": ""},
  "defaults": {"model": "m"},
  "agents": {
    "worker": {"prompt": "{{item}}"},
    "summarizer": {"prompt": "sum {{state.out}}", "update": {"/summary": {"var": "output"}}}
  },
  "phases": {
    "map": {"each": {"items": {"var": "state.items"}, "run": "worker", "concurrency": 4},
            "update": {"/out": {"var": "output"}}, "next": "review"},
    "review": {"ask": {"prompt": "OK?", "type": "approval"}, "update": {"/approved": {"var": "output.approved"}},
               "next": "sum"},
    "sum": {"run": "summarizer", "next": "done"},
    "done": {"terminal": true, "result": {"var": "state.summary"}}
  }})json";

}  // namespace

TEST_CASE("state at every position equals the initial state plus patches 1..N", "[state]") {
  EngineFixture f;
  f.options.checkpoint_every = 3;
  auto wf = f.Load(R"json({
    "scaffold": 1, "name": "count", "input": {"type": "integer"},
    "state": {"n": 0, "seen": []}, "start": {"/n": {"var": "input"}},
    "phases": {"inc": {"set": {"/n": {"+": [{"var": "state.n"}, 1]}, "/seen/-": {"var": "state.n"}},
                       "next": {"if": [{"<": [{"var": "state.n"}, 12]}, "inc", "done"]}},
               "done": {"terminal": true}}})json");
  auto run = f.Start(wf, 2);
  REQUIRE(run->end->outcome == SessionOutcome::kCompleted);
  auto events = f.Stored(run->id());
  Json folded;  // patches only, never checkpoints
  int checked = 0;
  for (const auto& e : events) {
    if (e->name == "workflow:started") folded = e->payload["state"];
    if (e->name == "state:intent") REQUIRE(engine::ApplyPatch(&folded, e->payload["patches"]).ok());
    auto at = engine::StateAt(f.store.get(), run->id(), e->position);
    REQUIRE(at.ok());
    INFO("position " << e->position);
    CHECK(at->state == folded);
    ++checked;
  }
  CHECK(checked == static_cast<int>(events.size()));
  // 11 intents (the start's and 10 visits'): a checkpoint after every third, none at phase
  // exits as such.
  CHECK(EngineFixture::Named(events, "state:checkpoint").size() == 3);
  // The last state uses the last checkpoint, replaying only what came after it: the rest of
  // its visit (exited), two more visits (entered, intent, exited) and the terminal phase
  // (entered, exited, completed).
  auto last = engine::StateAt(f.store.get(), run->id(), std::nullopt);
  CHECK(last->events_replayed == 10);
  CHECK_FALSE(engine::StateAt(f.store.get(), run->id(), 0).ok());
  CHECK_FALSE(
      engine::StateAt(f.store.get(), run->id(), static_cast<int64_t>(events.size()) + 1).ok());
}

TEST_CASE("inverse patches undo their intents", "[state]") {
  Json state = Json::parse(R"({"a": 1, "list": [1], "obj": {}})");
  Json before = state;
  auto patch = engine::ApplyAssignments(
      &state, {{"/a", 2}, {"/list/-", 5}, {"/obj/k", "v"}, {"/list/0", 9}});
  REQUIRE(patch.ok());
  CHECK(state == Json::parse(R"({"a": 2, "list": [9, 5], "obj": {"k": "v"}})"));
  REQUIRE(engine::ApplyPatch(&state, patch->inverse).ok());
  CHECK(state == before);
}

TEST_CASE("pausing stops in-flight agents and resuming reuses finished branches", "[resume]") {
  EngineFixture f;
  auto wf = f.Load(kPipeline);
  f.provider.Add("worker", Reply::Text("A"));
  f.provider.Add("worker", Reply::Text("B"));
  Reply hang;
  hang.hang = true;
  f.provider.Add("worker", hang);
  f.provider.Add("worker", hang);
  auto run = f.Start(wf);
  REQUIRE_FALSE(run->end);  // two branches hang
  run->session->Pause("interrupted");
  f.exec.RunUntilIdle();
  REQUIRE(run->end);
  CHECK(run->end->outcome == SessionOutcome::kPaused);
  CHECK(f.Stored(run->id()).back()->name == "session:paused");
  CHECK(f.store->GetSession(run->id())->status == engine::SessionStatus::kPaused);

  size_t requests_before = f.provider.requests.size();
  f.provider.Add("worker", Reply::Text("C"));
  f.provider.Add("worker", Reply::Text("D"));
  auto resumed = f.Resume(wf, run->id());
  CHECK(f.provider.requests.size() == requests_before + 2);  // only c and d run again
  CHECK(f.provider.requests[requests_before].messages[0]["content"][0]["text"] == "c");
  auto events = f.Stored(run->id());
  // session:resumed follows the pause, and nothing was entered twice.
  CHECK(resumed->sink->events.front()->name == "session:resumed");
  CHECK(resumed->sink->events.front()->payload["fromPosition"] ==
        resumed->session->start_position());
  CHECK(EngineFixture::Named(events, "phase:entered").size() == 2);  // map, review
  CHECK(events.back()->name == "input:requested");
  for (size_t i = 0; i < events.size(); ++i)
    CHECK(events[i]->position == static_cast<int64_t>(i + 1));
}

TEST_CASE("resuming a session waiting for input waits again without asking twice", "[resume]") {
  EngineFixture f;
  auto wf = f.Load(kPipeline);
  for (const char* t : {"A", "B", "C", "D"}) f.provider.Add("worker", Reply::Text(t));
  auto run = f.Start(wf);
  REQUIRE(f.Stored(run->id()).back()->name == "input:requested");
  run->session->Cancel();  // the process goes away while waiting
  f.exec.RunUntilIdle();

  auto resumed = std::make_unique<scaffold::testing::RunResult>();
  auto opened = engine::Session::Open(f.Deps(), wf, run->id(), f.options);
  REQUIRE(opened.ok());
  resumed->session = std::move(*opened);
  std::vector<Json> heard;
  resumed->session->SetInputListener([&](const Json& request) { heard.push_back(request); });
  resumed->session->Start([r = resumed.get()](const engine::SessionEnd& end) { r->end = end; });
  f.exec.RunUntilIdle();
  CHECK(EngineFixture::Named(f.Stored(run->id()), "input:requested").size() == 1);
  REQUIRE(heard.size() == 1);  // the listener hears of the request made before the restart
  CHECK(heard[0]["id"] == "review");
  CHECK(heard[0]["type"] == "approval");
  f.provider.Add("summarizer", Reply::Text("all good"));
  std::optional<scaffold::Status> reply;
  resumed->session->SubmitInput({"review", "yes", std::nullopt},
                                [&](const scaffold::Status& s) { reply = s; });
  f.exec.RunUntilIdle();
  REQUIRE(reply);
  CHECK(reply->ok());
  REQUIRE(resumed->end);
  CHECK(resumed->end->outcome == SessionOutcome::kCompleted);
  CHECK(resumed->end->result == "all good");
  CHECK(f.FinalState(run->id())["out"] == Json::parse(R"(["A", "B", "C", "D"])"));
}

TEST_CASE("resuming after an answer was recorded does not ask again", "[resume]") {
  EngineFixture f;
  auto wf = f.Load(kPipeline);
  for (const char* t : {"A", "B", "C", "D"}) f.provider.Add("worker", Reply::Text(t));
  Reply hang;
  hang.hang = true;
  f.provider.Add("summarizer", hang);
  auto run = f.Start(wf);
  run->session->SubmitInput({"review", "yes", std::nullopt}, [](const scaffold::Status&) {});
  f.exec.RunUntilIdle();
  run->session->Pause("interrupted");
  f.exec.RunUntilIdle();
  f.provider.Add("summarizer", Reply::Text("done"));
  auto resumed = f.Resume(wf, run->id());
  REQUIRE(resumed->end);
  CHECK(resumed->end->outcome == SessionOutcome::kCompleted);
  CHECK(EngineFixture::Named(f.Stored(run->id()), "input:requested").size() == 1);
  CHECK(f.FinalState(run->id())["approved"] == true);
}

TEST_CASE("a finished session cannot be opened again", "[resume]") {
  EngineFixture f;
  auto wf =
      f.Load(R"json({"scaffold": 1, "name": "t", "phases": {"done": {"terminal": true}}})json");
  auto run = f.Start(wf);
  REQUIRE(run->end->outcome == SessionOutcome::kCompleted);
  auto opened = engine::Session::Open(f.Deps(), wf, run->id(), f.options);
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.status().code() == scaffold::ErrorCode::kFailedPrecondition);
  CHECK_THAT(opened.status().message(), Catch::Contains("scaffold fork"));
}

TEST_CASE("a session stored but never started starts from its beginning when opened", "[resume]") {
  EngineFixture f;
  auto wf = f.Load(R"json({
    "scaffold": 1, "name": "count", "input": {"type": "integer"},
    "state": {"n": 0, "target": 0}, "start": {"/target": {"var": "input"}},
    "phases": {"inc": {"set": {"/n": {"+": [{"var": "state.n"}, 1]}},
                       "next": {"if": [{"<": [{"var": "state.n"}, {"var": "state.target"}]}, "inc", "done"]}},
               "done": {"terminal": true, "result": {"var": "state.n"}}}})json");
  std::string id;
  {
    // Created, then the process stopped before it ran (or it was queued for another node).
    auto created = engine::Session::Create(f.Deps(), wf, 4, f.options);
    REQUIRE(created.ok());
    id = (*created)->id();
  }
  CHECK(f.Stored(id).empty());
  auto run = f.Resume(wf, id);
  REQUIRE(run->end);
  CHECK(run->end->outcome == SessionOutcome::kCompleted);
  auto events = f.Stored(id);
  CHECK(events.front()->name == "workflow:started");
  CHECK(events.back()->payload["result"] == 4);
}

TEST_CASE("forking copies events up to a position and runs on from there", "[resume]") {
  EngineFixture f;
  auto wf = f.Load(kPipeline);
  for (const char* t : {"A", "B", "C", "D"}) f.provider.Add("worker", Reply::Text(t));
  auto run = f.Start(wf);
  run->session->SubmitInput({"review", "no", std::nullopt}, [](const scaffold::Status&) {});
  f.provider.Add("summarizer", Reply::Text("rejected"));
  f.exec.RunUntilIdle();
  REQUIRE(run->end->outcome == SessionOutcome::kCompleted);

  auto events = f.Stored(run->id());
  int64_t asked = EngineFixture::Named(events, "input:requested")[0]->position;
  auto fork = engine::ForkSession(f.store.get(), &f.exec, run->id(), asked);
  REQUIRE(fork.ok());
  CHECK(fork->events_copied == asked);
  auto info = f.store->GetSession(fork->session_id);
  CHECK(info->parent_id == run->id());
  CHECK(info->fork_position == asked);
  CHECK(info->status == engine::SessionStatus::kPaused);
  auto copied = f.Stored(fork->session_id);
  REQUIRE(copied.size() == static_cast<size_t>(asked + 1));
  CHECK(copied.back()->name == "session:forked");
  CHECK(copied.back()->payload["forkIndex"] == asked);
  CHECK(copied.back()->payload["initialState"]["out"] == Json::parse(R"(["A", "B", "C", "D"])"));
  CHECK(copied[0]->payload["sessionId"] == fork->session_id);
  CHECK(copied[0]->id != events[0]->id);

  // The fork asks again and takes another path; the original is untouched.
  auto resumed = f.Resume(wf, fork->session_id);
  f.provider.Add("summarizer", Reply::Text("approved"));
  resumed->session->SubmitInput({"review", "yes", std::nullopt}, [](const scaffold::Status&) {});
  f.exec.RunUntilIdle();
  REQUIRE(resumed->end);
  CHECK(resumed->end->result == "approved");
  CHECK(f.FinalState(run->id())["summary"] == "rejected");
  CHECK(f.provider.requests.size() == 6);  // 4 workers + 2 summaries; the fork reran no worker
  CHECK_FALSE(engine::ForkSession(f.store.get(), &f.exec, run->id(), 0).ok());
}

TEST_CASE("a resumed session keeps the provider and model it was started with", "[resume]") {
  EngineFixture f;
  auto wf = f.Load(kPipeline);
  f.options.provider_override = "openai";
  f.options.model_override = "gpt-x";
  Reply hang;
  hang.hang = true;
  for (int i = 0; i < 4; ++i) f.provider.Add("worker", hang);
  auto run = f.Start(wf);
  auto started = EngineFixture::Named(f.Stored(run->id()), "workflow:started");
  CHECK(started[0]->payload["overrides"] == Json::parse(R"({"provider": "openai", "model": "gpt-x"})"));
  run->session->Pause("interrupted");
  f.exec.RunUntilIdle();

  f.options = {};
  for (const char* t : {"A", "B", "C", "D"}) f.provider.Add("worker", Reply::Text(t));
  size_t before = f.provider.requests.size();
  f.Resume(wf, run->id());
  REQUIRE(f.provider.requests.size() == before + 4);
  CHECK(f.provider.requests.back().provider == "openai");
  CHECK(f.provider.requests.back().model == "gpt-x");
}
