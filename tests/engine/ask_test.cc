#include "engine/ask.h"

#include <catch2/catch.hpp>

#include "tests/support/engine_fixture.h"

using scaffold::ErrorCode;
using scaffold::Json;
using scaffold::engine::InputAnswer;
using scaffold::engine::SessionOutcome;
using scaffold::testing::EngineFixture;
namespace engine = scaffold::engine;

namespace {

// One ask of the given type whose output lands in state.answer.
std::string AskWorkflow(const std::string& ask) {
  return R"json({"scaffold": 1, "name": "ask", "state": {"answer": null, "topic": "cats"},
    "phases": {
      "q": {"ask": )json" +
         ask + R"json(, "update": {"/answer": {"var": "output"}}, "next": "done"},
      "done": {"terminal": true}}})json";
}

// Submits an answer and returns the reply status.
scaffold::Status Answer(EngineFixture& f, scaffold::testing::RunResult& run, InputAnswer answer) {
  std::optional<scaffold::Status> reply;
  run.session->SubmitInput(std::move(answer), [&](const scaffold::Status& s) { reply = s; });
  f.exec.RunUntilIdle();
  REQUIRE(reply);
  return *reply;
}

}  // namespace

TEST_CASE("an ask emits input:requested and waits holding no work", "[ask]") {
  EngineFixture f;
  auto run = f.Start(
      f.Load(AskWorkflow(R"({"prompt": "Tell me about {{state.topic}}", "type": "text"})")));
  CHECK_FALSE(run->end);  // waiting
  auto events = f.Stored(run->id());
  CHECK(events.back()->name == "input:requested");
  CHECK(
      events.back()->payload ==
      Json::parse(R"({"id": "q", "phase": "q", "prompt": "Tell me about cats", "type": "text"})"));
  CHECK(f.store->GetSession(run->id())->status == engine::SessionStatus::kWaiting);
  CHECK(Answer(f, *run, {"q", "They purr.", std::nullopt}).ok());
  REQUIRE(run->end);
  CHECK(run->end->outcome == SessionOutcome::kCompleted);
  CHECK(f.FinalState(run->id())["answer"] == "They purr.");
  auto received = EngineFixture::Named(f.Stored(run->id()), "input:received");
  REQUIRE(received.size() == 1);
  CHECK(received[0]->payload == Json::parse(R"({"id": "q", "value": "They purr."})"));
}

TEST_CASE("the input listener hears of each request after it is committed", "[ask]") {
  EngineFixture f;
  auto wf = f.Load(AskWorkflow(R"({"prompt": "Say", "type": "text"})"));
  auto created = engine::Session::Create(f.Deps(), wf, nullptr, f.options);
  REQUIRE(created.ok());
  auto& session = *created;
  std::vector<std::string> order;
  scaffold::testing::CollectingSink sink;
  session->AddSink(&sink);
  session->SetInputListener([&](const Json& request) {
    order.push_back("listener:" + request["id"].get<std::string>());
    CHECK(f.store->GetSession(session->id())->status == engine::SessionStatus::kWaiting);
  });
  session->Start([](const engine::SessionEnd&) {});
  f.exec.RunUntilIdle();
  REQUIRE(order == std::vector<std::string>{"listener:q"});
  CHECK(sink.events.back()->name == "input:requested");
}

TEST_CASE("approval asks accept yes/no, booleans and an explicit flag", "[ask]") {
  struct Case {
    InputAnswer answer;
    Json output;
  };
  std::vector<Case> cases = {
      // The text the user gave is kept beside the decision it meant.
      {{"q", "yes", std::nullopt}, Json::parse(R"({"approved": true, "value": "yes"})")},
      {{"q", "N", std::nullopt}, Json::parse(R"({"approved": false, "value": "N"})")},
      {{"q", false, std::nullopt}, Json::parse(R"({"approved": false, "value": null})")},
      {{"q", "ship it", true}, Json::parse(R"({"approved": true, "value": "ship it"})")},
  };
  for (const auto& c : cases) {
    EngineFixture f;
    auto run = f.Start(f.Load(AskWorkflow(R"({"prompt": "OK?", "type": "approval"})")));
    REQUIRE(Answer(f, *run, c.answer).ok());
    CHECK(f.FinalState(run->id())["answer"] == c.output);
  }
}

TEST_CASE("choice asks accept an option or its number", "[ask]") {
  for (Json value : {Json("blue"), Json("2"), Json(2)}) {
    EngineFixture f;
    auto run = f.Start(
        f.Load(AskWorkflow(R"({"prompt": "Pick", "type": "choice", "options": ["red", "blue"]})")));
    REQUIRE(Answer(f, *run, {"q", value, std::nullopt}).ok());
    CHECK(f.FinalState(run->id())["answer"] == "blue");
  }
}

TEST_CASE("json asks validate the answer against their schema", "[ask]") {
  EngineFixture f;
  auto run = f.Start(f.Load(AskWorkflow(
      R"({"prompt": "Give", "type": "json", "schema": {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}})")));
  auto bad = Answer(f, *run, {"q", Json::parse(R"({"n": "x"})"), std::nullopt});
  CHECK(bad.code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(bad.message(), Catch::Contains("/n: type"));
  CHECK_FALSE(run->end);  // still waiting after a bad answer
  CHECK(Answer(f, *run, {"q", Json::parse(R"({"n": 4})"), std::nullopt}).ok());
  CHECK(f.FinalState(run->id())["answer"] == Json::parse(R"({"n": 4})"));
}

TEST_CASE("answers that do not fit the type are refused and the ask keeps waiting", "[ask]") {
  EngineFixture f;
  auto run = f.Start(
      f.Load(AskWorkflow(R"({"prompt": "Pick", "type": "choice", "options": ["red", "blue"]})")));
  auto bad = Answer(f, *run, {"q", "green", std::nullopt});
  CHECK(bad.code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(bad.message(), Catch::Contains("1) red, 2) blue"));
  CHECK(Answer(f, *run, {"q", 9, std::nullopt}).code() == ErrorCode::kInvalidArgument);
  CHECK_FALSE(run->end);
}

TEST_CASE("an answer for another id is not found; a second answer is refused", "[ask]") {
  EngineFixture f;
  auto run = f.Start(f.Load(AskWorkflow(R"({"prompt": "Say", "type": "text"})")));
  CHECK(Answer(f, *run, {"other", "x", std::nullopt}).code() == ErrorCode::kNotFound);
  CHECK(Answer(f, *run, {"q", "first", std::nullopt}).ok());
  CHECK(Answer(f, *run, {"q", "second", std::nullopt}).code() == ErrorCode::kFailedPrecondition);
  CHECK(f.FinalState(run->id())["answer"] == "first");
}

TEST_CASE("an answer with no id answers the pending ask", "[ask]") {
  EngineFixture f;
  auto run = f.Start(f.Load(AskWorkflow(R"({"prompt": "Say", "type": "text"})")));
  CHECK(Answer(f, *run, {"", "hello", std::nullopt}).ok());
  CHECK(f.FinalState(run->id())["answer"] == "hello");
}

TEST_CASE("an ask that times out applies its default", "[ask]") {
  EngineFixture f;
  auto run = f.Start(f.Load(AskWorkflow(
      R"({"prompt": "OK?", "type": "approval", "timeout_ms": 5000, "default": true})")));
  REQUIRE(run->end);  // virtual time ran to the timeout
  CHECK(run->end->outcome == SessionOutcome::kCompleted);
  CHECK(f.FinalState(run->id())["answer"] == Json::parse(R"({"approved": true, "value": null})"));
  auto received = EngineFixture::Named(f.Stored(run->id()), "input:received");
  CHECK(received[0]->payload["timedOut"] == true);
}

TEST_CASE("an ask that times out without a default fails the phase", "[ask]") {
  EngineFixture f;
  auto run =
      f.Start(f.Load(AskWorkflow(R"({"prompt": "Say", "type": "text", "timeout_ms": 100})")));
  REQUIRE(run->end);
  CHECK(run->end->outcome == SessionOutcome::kFailed);
  auto error = EngineFixture::Named(f.Stored(run->id()), "workflow:error")[0]->payload["error"];
  CHECK(error["code"] == "ask_timeout");
  CHECK(error["path"] == "/phases/q/ask/timeout_ms");
}

TEST_CASE("ask ids gain #N from the second visit of the phase", "[ask]") {
  EngineFixture f;
  auto run = f.Start(f.Load(R"json({"scaffold": 1, "name": "re-ask", "state": {"ok": false},
    "phases": {
      "review": {"ask": {"prompt": "OK?", "type": "approval"}, "update": {"/ok": {"var": "output.approved"}},
                 "next": {"if": [{"var": "state.ok"}, "done", "review"]}},
      "done": {"terminal": true}}})json"));
  CHECK(Answer(f, *run, {"review", "no", std::nullopt}).ok());
  auto requested = EngineFixture::Named(f.Stored(run->id()), "input:requested");
  REQUIRE(requested.size() == 2);
  CHECK(requested[1]->payload["id"] == "review#2");
  CHECK(Answer(f, *run, {"review#2", "yes", std::nullopt}).ok());
  CHECK(run->end->outcome == SessionOutcome::kCompleted);
}

TEST_CASE("typed answers parse as JSON only for json asks", "[ask]") {
  engine::AskSpec text;
  CHECK(*engine::ParseTypedAnswer(text, "{\"a\": 1}") == "{\"a\": 1}");
  engine::AskSpec json;
  json.type = engine::AskType::kJson;
  CHECK(*engine::ParseTypedAnswer(json, "{\"a\": 1}") == Json::parse(R"({"a": 1})"));
  CHECK_FALSE(engine::ParseTypedAnswer(json, "{oops").ok());
  CHECK_FALSE(engine::ParseTypedAnswer(text, "bad \xff").ok());
}
