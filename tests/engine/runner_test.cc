#include <catch2/catch.hpp>

#include "engine/session.h"
#include "engine/state.h"
#include "tests/support/engine_fixture.h"

using scaffold::Json;
using scaffold::engine::SessionOutcome;
using scaffold::testing::EngineFixture;
using scaffold::testing::Reply;
namespace engine = scaffold::engine;

namespace {

const char* kSetLoop = R"json({
  "scaffold": 1, "name": "counter",
  "input": {"type": "integer"},
  "state": {"count": 0, "target": 0, "log": []},
  "start": {"/target": {"var": "input"}},
  "phases": {
    "step": {"set": {"/count": {"+": [{"var": "state.count"}, 1]}, "/log/-": {"var": "state.count"}},
             "next": {"if": [{"<": [{"var": "state.count"}, {"var": "state.target"}]}, "step", "done"]}},
    "done": {"terminal": true, "result": {"var": "state.count"}}
  }
})json";

const char* kWriter = R"json({
  "scaffold": 1, "name": "writer",
  "state": {"draft": "", "category": null},
  "defaults": {"model": "m"},
  "agents": {
    "classifier": {"prompt": "classify",
                   "output": {"type": "object", "properties": {"category": {"enum": ["bug", "billing"]}},
                              "required": ["category"]},
                   "update": {"/category": {"var": "output.category"}}},
    "writer": {"system": "You write.", "prompt": "Write about {{state.category}}",
               "update": {"/draft": {"var": "output"}}}
  },
  "phases": {
    "classify": {"run": "classifier", "next": "draft"},
    "draft": {"run": "writer", "next": "done"},
    "done": {"terminal": true, "result": {"var": "state.draft"}}
  }
})json";

}  // namespace

TEST_CASE("a set loop runs to completion with contiguous positions and a result", "[runner]") {
  EngineFixture f;
  auto run = f.Start(f.Load(kSetLoop), 3);
  REQUIRE(run->end);
  CHECK(run->end->outcome == SessionOutcome::kCompleted);
  CHECK(run->end->result == 3);
  auto events = f.Stored(run->id());
  for (size_t i = 0; i < events.size(); ++i)
    CHECK(events[i]->position == static_cast<int64_t>(i + 1));
  CHECK(events.front()->name == "workflow:started");
  CHECK(events.back()->name == "workflow:completed");
  CHECK(f.FinalState(run->id()) == Json::parse(R"({"count": 3, "target": 3, "log": [0, 1, 2]})"));
  // The sink saw exactly what was stored, in order.
  REQUIRE(run->sink->events.size() == events.size());
  for (size_t i = 0; i < events.size(); ++i) CHECK(run->sink->events[i]->wire == events[i]->wire);
  CHECK(EngineFixture::Named(events, "phase:entered").size() == 4);
}

TEST_CASE("events carry the wire envelope with uuid, position, name, payload and timestamp",
          "[runner]") {
  EngineFixture f;
  auto run = f.Start(f.Load(kSetLoop), 1);
  auto events = f.Stored(run->id());
  Json first = Json::parse(events[0]->wire);
  CHECK(first["id"].get<std::string>().size() == 36);
  CHECK(first["position"] == 1);
  CHECK(first["name"] == "workflow:started");
  CHECK(first["payload"]["sessionId"] == run->id());
  CHECK(first["payload"]["input"] == 1);
  CHECK(first["timestamp"] == f.exec.NowMillis());
  CHECK(events[0]->wire.rfind("{\"id\":", 0) == 0);
}

TEST_CASE("state:intent events carry patches and inverse patches", "[runner]") {
  EngineFixture f;
  auto run = f.Start(f.Load(kSetLoop), 1);
  auto intents = EngineFixture::Named(f.Stored(run->id()), "state:intent");
  REQUIRE(intents.size() == 2);  // start, one step
  const Json& step = intents[1]->payload;
  CHECK(step["patches"] == Json::parse(R"([{"op":"replace","path":"/count","value":1},
                                           {"op":"add","path":"/log/0","value":0}])"));
  CHECK(step["inversePatches"] == Json::parse(R"([{"op":"remove","path":"/log/0"},
                                                  {"op":"replace","path":"/count","value":0}])"));
  CHECK(step["phase"] == "step");
}

TEST_CASE("the session input is validated against the input schema before anything is stored",
          "[runner]") {
  EngineFixture f;
  auto created = engine::Session::Create(f.Deps(), f.Load(kSetLoop), "three", f.options);
  REQUIRE_FALSE(created.ok());
  CHECK(created.status().code() == scaffold::ErrorCode::kInvalidArgument);
  CHECK_THAT(created.status().message(), Catch::Contains("input schema"));
  CHECK(f.store->ListSessions({})->empty());
}

TEST_CASE("run phases stream text and store agent outputs through updates", "[runner]") {
  EngineFixture f;
  f.provider.Add("classifier", Reply::Structured({{"category", "bug"}}));
  Reply reply;
  reply.deltas = {"Sorry ", "about ", "the bug."};
  f.provider.Add("writer", reply);
  auto run = f.Start(f.Load(kWriter));
  REQUIRE(run->end);
  CHECK(run->end->outcome == SessionOutcome::kCompleted);
  CHECK(run->end->result == "Sorry about the bug.");
  auto events = f.Stored(run->id());
  auto deltas = EngineFixture::Named(events, "text:delta");
  REQUIRE(deltas.size() == 3);
  CHECK(deltas[0]->payload == Json::parse(R"({"agent": "writer", "delta": "Sorry "})"));
  auto complete = EngineFixture::Named(events, "agent:completed");
  REQUIRE(complete.size() == 2);
  CHECK(complete[1]->payload["output"] == "Sorry about the bug.");
  CHECK(complete[1]->payload["usage"] == Json::parse(R"({"inputTokens": 10, "outputTokens": 5})"));
  CHECK(complete[1]->payload["stopReason"] == "end_turn");
  auto started = EngineFixture::Named(events, "agent:started");
  CHECK(started[1]->payload ==
        Json::parse(R"({"agent":"writer","phase":"draft","provider":"anthropic","model":"m"})"));
  // The prompt was rendered against the state the classifier left.
  REQUIRE(f.provider.requests.size() == 2);
  CHECK(f.provider.requests[1].messages[0]["content"][0]["text"] == "Write about bug");
  CHECK(f.provider.requests[1].system == "You write.");
  CHECK(f.provider.requests[0].output_schema.has_value());
}

TEST_CASE("provider and model overrides replace the workflow's", "[runner]") {
  EngineFixture f;
  f.options.provider_override = "openai";
  f.options.model_override = "gpt-x";
  f.provider.Add("classifier", Reply::Structured({{"category", "bug"}}));
  f.provider.Add("writer", Reply::Text("ok"));
  f.Start(f.Load(kWriter));
  CHECK(f.provider.requests[0].provider == "openai");
  CHECK(f.provider.requests[0].model == "gpt-x");
}

TEST_CASE("invalid structured output is re-asked with the errors, then accepted", "[runner]") {
  EngineFixture f;
  f.provider.Add("classifier", Reply::Structured({{"category", "feature"}}));
  f.provider.Add("classifier", Reply::Structured({{"category", "billing"}}));
  f.provider.Add("writer", Reply::Text("ok"));
  auto run = f.Start(f.Load(kWriter));
  CHECK(run->end->outcome == SessionOutcome::kCompleted);
  auto retries = EngineFixture::Named(f.Stored(run->id()), "agent:retry");
  REQUIRE(retries.size() == 1);
  CHECK(retries[0]->payload["reason"] == "invalid_output");
  CHECK(retries[0]->payload["attempt"] == 1);
  CHECK_THAT(retries[0]->payload["error"].get<std::string>(), Catch::Contains("/category: enum"));
  const auto& reask = f.provider.requests[1].messages;
  REQUIRE(reask.size() == 3);
  CHECK(reask[2]["role"] == "user");
  CHECK_THAT(reask[2]["content"][0]["text"].get<std::string>(),
             Catch::Contains("did not match the required schema"));
}

TEST_CASE("structured output that never matches fails the session with invalid_output",
          "[runner]") {
  EngineFixture f;
  for (int i = 0; i < 3; ++i)
    f.provider.Add("classifier", Reply::Structured({{"category", "feature"}}));
  auto run = f.Start(f.Load(kWriter));
  REQUIRE(run->end->outcome == SessionOutcome::kFailed);
  auto error = EngineFixture::Named(f.Stored(run->id()), "workflow:error");
  REQUIRE(error.size() == 1);
  CHECK(error[0]->payload["error"]["code"] == "invalid_output");
  CHECK(error[0]->payload["error"]["path"] == "/agents/classifier/output");
  CHECK(f.provider.requests.size() == 3);  // first try + retries (2)
}

TEST_CASE("a text reply holding fenced JSON is accepted as structured output", "[runner]") {
  EngineFixture f;
  f.provider.Add("classifier", Reply::Text("```json\n{\"category\": \"bug\"}\n```"));
  f.provider.Add("writer", Reply::Text("ok"));
  auto run = f.Start(f.Load(kWriter));
  CHECK(run->end->outcome == SessionOutcome::kCompleted);
  CHECK(f.FinalState(run->id())["category"] == "bug");
}

TEST_CASE("retryable provider errors are retried with agent:retry and backoff", "[runner]") {
  EngineFixture f;
  f.provider.Add("classifier",
                 Reply::Error(engine::ProviderErrorKind::kRateLimited, true, "HTTP 429"));
  auto overloaded = Reply::Error(engine::ProviderErrorKind::kOverloaded, true, "HTTP 529");
  overloaded.error->retry_after_ms = 1500;
  f.provider.Add("classifier", overloaded);
  f.provider.Add("classifier", Reply::Structured({{"category", "bug"}}));
  f.provider.Add("writer", Reply::Text("ok"));
  int64_t start = f.exec.NowMillis();
  auto run = f.Start(f.Load(kWriter));
  CHECK(run->end->outcome == SessionOutcome::kCompleted);
  auto retries = EngineFixture::Named(f.Stored(run->id()), "agent:retry");
  REQUIRE(retries.size() == 2);
  CHECK(retries[0]->payload["reason"] == "rate_limited");
  CHECK(retries[0]->payload["delayMs"].get<int64_t>() <= 100);
  CHECK(retries[1]->payload["reason"] == "overloaded");
  CHECK(retries[1]->payload["delayMs"] == 1500);  // retry-after is honoured
  CHECK(f.exec.NowMillis() - start >= 1500);
}

TEST_CASE("non-retryable provider errors fail the session at once", "[runner]") {
  EngineFixture f;
  f.provider.Add("classifier", Reply::Error(engine::ProviderErrorKind::kAuthentication, false,
                                            "HTTP 401: bad key"));
  auto run = f.Start(f.Load(kWriter));
  REQUIRE(run->end->outcome == SessionOutcome::kFailed);
  auto error = EngineFixture::Named(f.Stored(run->id()), "workflow:error");
  CHECK(error[0]->payload["error"]["code"] == "provider_error");
  CHECK_THAT(error[0]->payload["error"]["message"].get<std::string>(), Catch::Contains("HTTP 401"));
  CHECK(EngineFixture::Named(f.Stored(run->id()), "agent:retry").empty());
  CHECK(f.Stored(run->id()).back()->name == "workflow:error");
}

TEST_CASE("an agent timeout cancels the call and retries, then fails", "[runner]") {
  EngineFixture f;
  std::string text = kWriter;
  text.replace(text.find("\"prompt\": \"classify\""), 20,
               "\"prompt\": \"classify\", \"timeout_ms\": 1000");
  Reply hang;
  hang.hang = true;
  for (int i = 0; i < 3; ++i) f.provider.Add("classifier", hang);
  auto run = f.Start(f.Load(text));
  REQUIRE(run->end->outcome == SessionOutcome::kFailed);
  auto events = f.Stored(run->id());
  auto retries = EngineFixture::Named(events, "agent:retry");
  REQUIRE(retries.size() == 2);
  CHECK(retries[0]->payload["reason"] == "timeout");
  CHECK(EngineFixture::Named(events, "workflow:error")[0]->payload["error"]["code"] == "timeout");
}

TEST_CASE("next expressions branch on state", "[runner]") {
  EngineFixture f;
  auto wf = f.Load(R"json({
    "scaffold": 1, "name": "branch", "input": {"type": "boolean"},
    "state": {"flag": false, "path": ""},
    "start": {"/flag": {"var": "input"}},
    "phases": {
      "decide": {"set": {}, "next": {"if": [{"var": "state.flag"}, "yes", "no"]}},
      "yes": {"set": {"/path": "yes"}, "next": "end"},
      "no": {"set": {"/path": "no"}, "next": "end"},
      "end": {"terminal": true}
    }})json");
  CHECK(f.FinalState(f.Start(wf, true)->id())["path"] == "yes");
  CHECK(f.FinalState(f.Start(wf, false)->id())["path"] == "no");
}

TEST_CASE("a phase entered more than max_visits times fails the session", "[runner]") {
  EngineFixture f;
  std::string text = kSetLoop;
  text.replace(text.find("\"next\": {\"if\""), 0, "\"max_visits\": 5, ");
  auto run = f.Start(f.Load(text), 100);
  REQUIRE(run->end->outcome == SessionOutcome::kFailed);
  auto error = EngineFixture::Named(f.Stored(run->id()), "workflow:error")[0]->payload["error"];
  CHECK(error["code"] == "max_visits");
  CHECK(error["path"] == "/phases/step");
  CHECK(error["message"] == "phase \"step\" was entered 6 times; max_visits is 5");
}

TEST_CASE("a next expression that yields no phase fails with its path", "[runner]") {
  EngineFixture f;
  auto run = f.Start(f.Load(R"json({
    "scaffold": 1, "name": "bad-next", "state": {"to": "nowhere"},
    "phases": {"a": {"set": {}, "next": {"if": [true, {"var": "state.to"}, "b"]}}, "b": {"terminal": true}}})json"));
  REQUIRE(run->end->outcome == SessionOutcome::kFailed);
  auto error = EngineFixture::Named(f.Stored(run->id()), "workflow:error")[0]->payload["error"];
  CHECK(error["code"] == "invalid_next");
  CHECK(error["path"] == "/phases/a/next");
}

TEST_CASE("an update that cannot apply fails and leaves the state unchanged", "[runner]") {
  EngineFixture f;
  auto run = f.Start(f.Load(R"json({
    "scaffold": 1, "name": "bad-update", "state": {"a": {"b": 1}, "n": 0},
    "phases": {
      "first": {"set": {"/a": 5}, "next": "second"},
      "second": {"set": {"/n": 1, "/a/b": 2}, "next": "done"},
      "done": {"terminal": true}}})json"));
  REQUIRE(run->end->outcome == SessionOutcome::kFailed);
  auto events = f.Stored(run->id());
  auto error = EngineFixture::Named(events, "workflow:error")[0]->payload["error"];
  CHECK(error["code"] == "update_failed");
  CHECK(error["path"] == "/phases/second/set/~1a~1b");
  auto state = engine::StateAt(f.store.get(), run->id(), std::nullopt);
  REQUIRE(state.ok());
  CHECK(state->state == Json::parse(R"({"a": 5, "n": 0})"));  // /n was not applied either
}

TEST_CASE("parallel updates apply in listed order whatever order the branches finish", "[runner]") {
  EngineFixture f;
  auto wf = f.Load(R"json({
    "scaffold": 1, "name": "par", "state": {"last": "", "seen": []},
    "defaults": {"model": "m"},
    "agents": {
      "a": {"prompt": "a", "update": {"/last": "a", "/seen/-": {"var": "output"}}},
      "b": {"prompt": "b", "update": {"/last": "b", "/seen/-": {"var": "output"}}}
    },
    "phases": {"both": {"parallel": ["a", "b"], "next": "done"}, "done": {"terminal": true}}})json");
  Reply slow = Reply::Text("from a");
  slow.delay_tasks = 5;
  slow.deltas = {"from ", "a"};
  f.provider.Add("a", slow);
  Reply fast;
  fast.deltas = {"from ", "b"};
  f.provider.Add("b", fast);
  auto run = f.Start(wf);
  REQUIRE(run->end->outcome == SessionOutcome::kCompleted);
  auto events = f.Stored(run->id());
  auto completed = EngineFixture::Named(events, "agent:completed");
  REQUIRE(completed.size() == 2);
  CHECK(completed[0]->payload["agent"] == "b");  // b finished first
  CHECK(f.FinalState(run->id()) == Json::parse(R"({"last": "b", "seen": ["from a", "from b"]})"));
  // Deltas of both branches interleave, each naming its agent.
  std::vector<std::string> owners;
  for (const auto& e : EngineFixture::Named(events, "text:delta"))
    owners.push_back(e->payload["agent"]);
  CHECK(owners == std::vector<std::string>{"b", "b", "a", "a"});
}

TEST_CASE("each maps an agent over a list in input order within its concurrency", "[runner]") {
  EngineFixture f;
  auto wf = f.Load(R"json({
    "scaffold": 1, "name": "each", "state": {"items": ["x", "y", "z", "w"], "out": []},
    "defaults": {"model": "m"},
    "agents": {"upper": {"prompt": "{{item}} at {{index}}"}},
    "phases": {
      "map": {"each": {"items": {"var": "state.items"}, "run": "upper", "concurrency": 2},
              "update": {"/out": {"var": "output"}}, "next": "done"},
      "done": {"terminal": true}}})json");
  for (const char* t : {"X", "Y", "Z", "W"}) {
    Reply r = Reply::Text(t);
    r.delay_tasks = std::string(t) == "X" ? 6 : 0;  // the first item finishes last
    f.provider.Add("upper", r);
  }
  auto run = f.Start(wf);
  REQUIRE(run->end->outcome == SessionOutcome::kCompleted);
  CHECK(f.FinalState(run->id())["out"] == Json::parse(R"(["X", "Y", "Z", "W"])"));
  auto events = f.Stored(run->id());
  int running = 0, peak = 0;
  for (const auto& e : events) {
    if (e->name == "agent:started") peak = std::max(peak, ++running);
    if (e->name == "agent:completed") --running;
  }
  CHECK(peak == 2);
  auto started = EngineFixture::Named(events, "agent:started");
  CHECK(started[0]->payload["index"] == 0);
  CHECK(f.provider.requests[1].messages[0]["content"][0]["text"] == "y at 1");
}

TEST_CASE("each applies the agent's update per item, in order, with item and index", "[runner]") {
  EngineFixture f;
  auto wf = f.Load(R"json({
    "scaffold": 1, "name": "each-update", "state": {"items": [1, 2, 3], "pairs": []},
    "defaults": {"model": "m"},
    "agents": {"echo": {"prompt": "{{item}}", "update": {"/pairs/-": {"cat": [{"var": "index"}, ":", {"var": "output"}]}}}},
    "phases": {"map": {"each": {"items": {"var": "state.items"}, "run": "echo", "concurrency": 3}, "next": "done"},
               "done": {"terminal": true}}})json");
  Reply slow = Reply::Text("one");
  slow.delay_tasks = 4;
  f.provider.Add("echo", slow);
  f.provider.Add("echo", Reply::Text("two"));
  f.provider.Add("echo", Reply::Text("three"));
  auto run = f.Start(wf);
  CHECK(f.FinalState(run->id())["pairs"] == Json::parse(R"(["0:one", "1:two", "2:three"])"));
}

TEST_CASE("a failing branch fails the phase, names the branch and cancels the others", "[runner]") {
  EngineFixture f;
  auto wf = f.Load(R"json({
    "scaffold": 1, "name": "each-fail", "state": {"items": ["a", "b", "c"]},
    "defaults": {"model": "m"},
    "agents": {"work": {"prompt": "{{item}}"}},
    "phases": {"map": {"each": {"items": {"var": "state.items"}, "run": "work", "concurrency": 3}, "next": "done"},
               "done": {"terminal": true}}})json");
  Reply hang;
  hang.hang = true;
  f.provider.Add("work", hang);
  f.provider.Add("work",
                 Reply::Error(engine::ProviderErrorKind::kInvalidRequest, false, "HTTP 400: bad"));
  f.provider.Add("work", hang);
  auto run = f.Start(wf);
  REQUIRE(run->end);
  REQUIRE(run->end->outcome == SessionOutcome::kFailed);
  auto events = f.Stored(run->id());
  auto error = EngineFixture::Named(events, "workflow:error")[0]->payload["error"];
  CHECK_THAT(error["message"].get<std::string>(),
             Catch::StartsWith("branch item 1 (agent \"work\") failed"));
  auto exited = EngineFixture::Named(events, "phase:exited");
  CHECK(exited.back()->payload == Json::parse(R"({"phase": "map", "reason": "error"})"));
}

TEST_CASE("each over an empty list completes with an empty output", "[runner]") {
  EngineFixture f;
  auto wf = f.Load(R"json({
    "scaffold": 1, "name": "each-empty", "state": {"items": [], "out": null},
    "defaults": {"model": "m"}, "agents": {"w": {"prompt": "{{item}}"}},
    "phases": {"map": {"each": {"items": {"var": "state.items"}, "run": "w"}, "update": {"/out": {"var": "output"}},
                       "next": "done"}, "done": {"terminal": true}}})json");
  auto run = f.Start(wf);
  CHECK(f.FinalState(run->id())["out"] == Json::array());
}

TEST_CASE("agents call tools and get results back until they answer", "[runner]") {
  EngineFixture f;
  auto wf = f.Load(R"json({
    "scaffold": 1, "name": "tools", "state": {"answer": ""},
    "defaults": {"model": "m"},
    "tools": {"lookup": {"type": "client", "description": "Look up a word",
                         "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}},
    "agents": {"researcher": {"prompt": "find", "tools": ["lookup"], "update": {"/answer": {"var": "output"}}}},
    "phases": {"go": {"run": "researcher", "next": "done"}, "done": {"terminal": true}}})json");
  f.tools.Add("lookup", [](const Json& in) {
    return engine::ToolResult{"meaning of " + in["q"].get<std::string>(), false};
  });
  f.provider.Add("researcher", Reply::ToolCall("t1", "lookup", {{"q", "scaffold"}}));
  f.provider.Add("researcher", Reply::Text("It means support."));
  auto run = f.Start(wf);
  REQUIRE(run->end->outcome == SessionOutcome::kCompleted);
  auto events = f.Stored(run->id());
  auto called = EngineFixture::Named(events, "tool:called");
  REQUIRE(called.size() == 1);
  CHECK(
      called[0]->payload ==
      Json::parse(
          R"({"agent":"researcher","toolId":"t1","toolName":"lookup","input":{"q":"scaffold"}})"));
  auto result = EngineFixture::Named(events, "tool:result");
  REQUIRE(result.size() == 1);
  CHECK(result[0]->payload["output"] == "meaning of scaffold");
  CHECK(result[0]->payload["isError"] == false);
  const auto& second = f.provider.requests[1];
  REQUIRE(second.messages.size() == 3);
  CHECK(
      second.messages[2]["content"][0] ==
      Json::parse(
          R"({"type":"tool_result","tool_use_id":"t1","content":"meaning of scaffold","is_error":false})"));
  REQUIRE(second.tools.size() == 1);
  CHECK(second.tools[0].name == "lookup");
  CHECK(f.FinalState(run->id())["answer"] == "It means support.");
}

TEST_CASE("an agent still calling tools after max_turns fails", "[runner]") {
  EngineFixture f;
  auto wf = f.Load(R"json({
    "scaffold": 1, "name": "loop-tools", "state": {},
    "defaults": {"model": "m"},
    "tools": {"ping": {"type": "client"}},
    "agents": {"pinger": {"prompt": "go", "tools": ["ping"], "max_turns": 3}},
    "phases": {"go": {"run": "pinger", "next": "done"}, "done": {"terminal": true}}})json");
  f.tools.Add("ping", [](const Json&) { return engine::ToolResult{"pong", false}; });
  for (int i = 0; i < 5; ++i)
    f.provider.Add("pinger", Reply::ToolCall("t" + std::to_string(i), "ping", Json::object()));
  auto run = f.Start(wf);
  REQUIRE(run->end->outcome == SessionOutcome::kFailed);
  auto error = EngineFixture::Named(f.Stored(run->id()), "workflow:error")[0]->payload["error"];
  CHECK(error["code"] == "max_turns");
  CHECK(error["path"] == "/agents/pinger/max_turns");
  CHECK(f.provider.requests.size() == 3);
}

TEST_CASE("a tool the agent does not have comes back to it as a tool error", "[runner]") {
  EngineFixture f;
  auto wf = f.Load(R"json({
    "scaffold": 1, "name": "wrong-tool", "state": {},
    "defaults": {"model": "m"}, "tools": {"ping": {"type": "client"}},
    "agents": {"a": {"prompt": "go", "tools": ["ping"]}},
    "phases": {"go": {"run": "a", "next": "done"}, "done": {"terminal": true}}})json");
  f.provider.Add("a", Reply::ToolCall("t1", "rm_rf", Json::object()));
  f.provider.Add("a", Reply::Text("sorry"));
  auto run = f.Start(wf);
  CHECK(run->end->outcome == SessionOutcome::kCompleted);
  auto result = EngineFixture::Named(f.Stored(run->id()), "tool:result");
  REQUIRE(result.size() == 1);
  CHECK(result[0]->payload["isError"] == true);
  CHECK(result[0]->payload["output"] == "agent \"a\" has no tool named \"rm_rf\"");
  CHECK(f.tools.calls.empty());
}

TEST_CASE("a tool phase with no tool host fails with no tool named X", "[runner]") {
  EngineFixture f;
  engine::NoToolHost none;
  auto wf = f.Load(R"json({
    "scaffold": 1, "name": "tool-phase", "state": {"path": "a.txt"},
    "tools": {"files": {"type": "files"}},
    "phases": {"read": {"tool": {"name": "files", "input": {"op": "read", "path": "{{state.path}}"}}, "next": "done"},
               "done": {"terminal": true}}})json");
  auto created = engine::Session::Create(f.Deps(&none), wf, nullptr, f.options);
  REQUIRE(created.ok());
  std::optional<engine::SessionEnd> end;
  (*created)->Start([&](const engine::SessionEnd& e) { end = e; });
  f.exec.RunUntilIdle();
  REQUIRE(end);
  CHECK(end->outcome == SessionOutcome::kFailed);
  auto events = f.Stored((*created)->id());
  auto called = EngineFixture::Named(events, "tool:called");
  REQUIRE(called.size() == 1);
  CHECK(called[0]->payload["input"] == Json::parse(R"({"op": "read", "path": "a.txt"})"));
  auto error = EngineFixture::Named(events, "workflow:error")[0]->payload["error"];
  CHECK(error["code"] == "tool_failed");
  CHECK_THAT(error["message"].get<std::string>(), Catch::Contains("no tool named \"files\""));
}
