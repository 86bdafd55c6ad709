#include "recordings/event_compare.h"

#include <catch2/catch.hpp>

using scaffold::Json;
using scaffold::recordings::CompareEvents;
using scaffold::recordings::Recorded;
using scaffold::recordings::RecordedEvent;
using scaffold::recordings::StreamingComparison;
namespace engine = scaffold::engine;

namespace {

std::vector<engine::EventPtr> Log(const std::vector<std::pair<std::string, Json>>& items) {
  std::vector<engine::EventPtr> out;
  int64_t pos = 0;
  for (const auto& [name, payload] : items) {
    auto e = std::make_shared<engine::Event>();
    e->id = "id-" + std::to_string(++pos) + name;
    e->position = pos;
    e->name = name;
    e->payload = payload;
    e->timestamp = 1000 + pos * 7;
    e->Serialize();
    out.push_back(e);
  }
  return out;
}

scaffold::Result<engine::EventPtr> Parsed(const RecordedEvent& e) { return e.parsed; }

// A recorded event handed over as text only, as a recording file's are.
RecordedEvent Unparsed(const engine::EventPtr& e) {
  auto view = engine::ViewWire(e->wire);
  REQUIRE(view);
  return RecordedEvent{nullptr, view->position, view->name, view->payload};
}

}  // namespace

TEST_CASE("parallel branches compare lane by lane, whatever order they finished in", "[compare]") {
  auto recorded = Log({{"phase:entered", {{"phase", "p"}}},
                       {"agent:started", {{"agent", "a"}}},
                       {"agent:started", {{"agent", "b"}}},
                       {"text:delta", {{"agent", "b"}, {"delta", "B"}}},
                       {"agent:completed", {{"agent", "b"}, {"output", "B"}, {"durationMs", 5}}},
                       {"text:delta", {{"agent", "a"}, {"delta", "A"}}},
                       {"agent:completed", {{"agent", "a"}, {"output", "A"}, {"durationMs", 9}}},
                       {"state:intent", {{"intentId", "x"}, {"patches", Json::array()}}},
                       {"phase:exited", {{"phase", "p"}, {"reason", "next"}, {"next", "q"}}}});
  auto replayed = Log({{"phase:entered", {{"phase", "p"}}},
                       {"agent:started", {{"agent", "a"}}},
                       {"agent:started", {{"agent", "b"}}},
                       {"text:delta", {{"agent", "a"}, {"delta", "A"}}},
                       {"agent:completed", {{"agent", "a"}, {"output", "A"}, {"durationMs", 1}}},
                       {"text:delta", {{"agent", "b"}, {"delta", "B"}}},
                       {"agent:completed", {{"agent", "b"}, {"output", "B"}, {"durationMs", 2}}},
                       {"state:intent", {{"intentId", "y"}, {"patches", Json::array()}}},
                       {"phase:exited", {{"phase", "p"}, {"reason", "next"}, {"next", "q"}}}});
  CHECK_FALSE(CompareEvents(recorded, replayed));

  auto changed = replayed;
  auto e = std::make_shared<engine::Event>(*changed[5]);
  e->payload["delta"] = "b!";
  changed[5] = e;
  auto d = CompareEvents(recorded, changed);
  REQUIRE(d);
  CHECK(d->lane == "b");
  CHECK(d->recorded_position == 4);
  CHECK(d->replay_position == 6);
  CHECK(d->path == "/payload/delta");
  CHECK(d->recorded == "B");
  CHECK(d->now == "b!");
}

TEST_CASE("what a resume abandoned, and interruption bookkeeping, take no part in the comparison",
          "[compare]") {
  auto recorded = Log({{"phase:entered", {{"phase", "p"}}},
                       {"agent:started", {{"agent", "a"}}},
                       {"text:delta", {{"agent", "a"}, {"delta", "half"}}},
                       {"session:paused", {{"reason", "interrupted"}}},
                       {"session:resumed", {{"fromPosition", 4}}},
                       {"agent:started", {{"agent", "a"}}},
                       {"text:delta", {{"agent", "a"}, {"delta", "whole"}}},
                       {"agent:completed", {{"agent", "a"}, {"output", "whole"}}},
                       {"state:checkpoint", {{"state", Json::object()}, {"position", 9}}}});
  auto straight = Log({{"phase:entered", {{"phase", "p"}}},
                       {"agent:started", {{"agent", "a"}}},
                       {"text:delta", {{"agent", "a"}, {"delta", "whole"}}},
                       {"agent:completed", {{"agent", "a"}, {"output", "whole"}}}});
  CHECK_FALSE(CompareEvents(recorded, straight));
}

TEST_CASE("an event the replay lacks or adds is a divergence", "[compare]") {
  auto recorded = Log({{"phase:entered", {{"phase", "p"}}}, {"phase:exited", {{"phase", "p"}}}});
  auto shorter = Log({{"phase:entered", {{"phase", "p"}}}});
  auto d = CompareEvents(recorded, shorter);
  REQUIRE(d);
  CHECK(d->replay_position == 0);
  CHECK_THAT(d->ToText(), Catch::Contains("the replay never emitted it"));
  auto e = CompareEvents(shorter, recorded);
  REQUIRE(e);
  CHECK(e->recorded_position == 0);
  CHECK_THAT(e->ToText(), Catch::Contains("an event the recording does not have"));
}

TEST_CASE("tool calls made through the server's tool route are not compared", "[compare][tools]") {
  auto replayed = Log({{"phase:entered", {{"phase", "ask"}}},
                       {"input:requested", {{"id", "ask"}}},
                       {"input:received", {{"id", "ask"}, {"value", "yes"}}},
                       {"phase:exited", {{"phase", "ask"}, {"reason", "next"}, {"next", "q"}}}});
  auto recorded =
      Log({{"phase:entered", {{"phase", "ask"}}},
           {"input:requested", {{"id", "ask"}}},
           {"tool:called",
            {{"toolId", "t1"}, {"toolName", "shot"}, {"input", Json::object()}, {"via", "api"}}},
           {"tool:result",
            {{"toolId", "t1"},
             {"toolName", "shot"},
             {"output", "png"},
             {"isError", false},
             {"via", "api"}}},
           {"input:received", {{"id", "ask"}, {"value", "yes"}}},
           {"phase:exited", {{"phase", "ask"}, {"reason", "next"}, {"next", "q"}}}});
  CHECK_FALSE(CompareEvents(recorded, replayed));
  // Without the marker the same events are a difference.
  auto plain = recorded;
  auto e = std::make_shared<engine::Event>(*plain[2]);
  e->payload.erase("via");
  plain[2] = e;
  CHECK(CompareEvents(plain, replayed));
}

TEST_CASE("a list recorded as replaced whole matches the same change recorded as additions",
          "[compare]") {
  auto intent = [](Json patches, Json inverse) {
    return std::pair<std::string, Json>{
        "state:intent",
        {{"intentId", "i"}, {"patches", std::move(patches)}, {"inversePatches", std::move(inverse)}}};
  };
  // As scaffold recorded `"/log": [..., "c"]` before lists were recorded as what was added.
  auto recorded = Log({{"phase:entered", {{"phase", "p"}}},
                       intent(Json::parse(R"([{"op":"replace","path":"/log","value":["a","b","c"]}])"),
                              Json::parse(R"([{"op":"replace","path":"/log","value":["a","b"]}])")),
                       {"phase:exited", {{"phase", "p"}, {"reason", "terminal"}}}});
  auto replayed = Log({{"phase:entered", {{"phase", "p"}}},
                       intent(Json::parse(R"([{"op":"add","path":"/log/2","value":"c"}])"),
                              Json::parse(R"([{"op":"remove","path":"/log/2"}])")),
                       {"phase:exited", {{"phase", "p"}, {"reason", "terminal"}}}});
  CHECK_FALSE(CompareEvents(recorded, replayed));
  // A different addition still differs.
  auto other = Log({{"phase:entered", {{"phase", "p"}}},
                    intent(Json::parse(R"([{"op":"add","path":"/log/2","value":"d"}])"),
                           Json::parse(R"([{"op":"remove","path":"/log/2"}])")),
                    {"phase:exited", {{"phase", "p"}, {"reason", "terminal"}}}});
  CHECK(CompareEvents(recorded, other));
}

TEST_CASE("the streaming comparison reads the recording only as far as the visit it compares",
          "[compare]") {
  std::vector<std::pair<std::string, Json>> items = {{"workflow:started", {{"sessionId", "s"}}}};
  for (int v = 0; v < 3; ++v) {
    items.push_back({"phase:entered", {{"phase", "p" + std::to_string(v)}}});
    for (int d = 0; d < 100; ++d) items.push_back({"text:delta", {{"agent", "a"}, {"delta", "x"}}});
    items.push_back({"phase:exited", {{"phase", "p" + std::to_string(v)}, {"reason", "next"}}});
  }
  auto recorded = Log(items);
  auto replayed = Log(items);
  size_t pulled = 0;
  scaffold::recordings::StreamingComparison comparison(
      [&]() -> scaffold::Result<std::optional<RecordedEvent>> {
        if (pulled == recorded.size()) return std::optional<RecordedEvent>();
        return std::optional<RecordedEvent>(Recorded(recorded[pulled++]));
      },
      Parsed);
  // The events before the first phase and the first visit, then the next visit's first event:
  // two visits are complete on the replay's side.
  REQUIRE(comparison.AddReplayed(std::span(replayed).first(1 + 102 + 1)).ok());
  CHECK_FALSE(comparison.divergence());
  CHECK(pulled <= 1 + 102 + 1);
  REQUIRE(comparison.AddReplayed(std::span(replayed).subspan(104)).ok());
  REQUIRE(comparison.Finish().ok());
  CHECK_FALSE(comparison.divergence());
  CHECK(pulled == recorded.size());

  // A recording that stops early: the replay's extra visit is the divergence.
  pulled = 0;
  auto shorter = std::vector<engine::EventPtr>(recorded.begin(), recorded.begin() + 1 + 2 * 102);
  scaffold::recordings::StreamingComparison cut(
      [&]() -> scaffold::Result<std::optional<RecordedEvent>> {
        if (pulled == shorter.size()) return std::optional<RecordedEvent>();
        return std::optional<RecordedEvent>(Recorded(shorter[pulled++]));
      },
      Parsed);
  REQUIRE(cut.AddReplayed(replayed).ok());
  REQUIRE(cut.Finish().ok());
  REQUIRE(cut.divergence());
  CHECK(cut.divergence()->recorded_position == 0);
  CHECK(cut.divergence()->phase == "p2");
  // A source that fails stops the comparison with its error.
  scaffold::recordings::StreamingComparison failing(
      []() -> scaffold::Result<std::optional<RecordedEvent>> {
        return scaffold::InvalidArgument("line 7: bad");
      },
      Parsed);
  CHECK(failing.AddReplayed(replayed).message() == "line 7: bad");
}

TEST_CASE("an event's wire text is read without parsing only in the layout Serialize writes",
          "[compare]") {
  auto e = std::make_shared<engine::Event>();
  e->id = "0b1c";
  e->position = 42;
  e->name = "text:delta";
  e->payload = {{"delta", ",\"timestamp\":1}"}, {"agent", "a"}};
  e->timestamp = 1796192812464;
  e->Serialize();
  auto view = engine::ViewWire(e->wire);
  REQUIRE(view);
  CHECK(view->position == 42);
  CHECK(view->name == "text:delta");
  CHECK(view->payload == scaffold::DumpJson(e->payload));

  // Anything else is left to the parser.
  for (const char* text : {
           R"({"position":1,"id":"a","name":"n","payload":{},"timestamp":1})",
           R"({"id":"a", "position":1,"name":"n","payload":{},"timestamp":1})",
           R"({"id":"a","position":01,"name":"n","payload":{},"timestamp":1})",
           R"({"id":"a","position":1,"name":"n\u0041","payload":{},"timestamp":1})",
           R"({"id":"","position":1,"name":"n","payload":{},"timestamp":1})",
           R"({"id":"a","position":1,"name":"n","payload":{},"timestamp":1.5})",
           R"({"id":"a","position":1,"name":"n","payload":[],"timestamp":1})",
           R"({"id":"a","position":1,"name":"n","payload":{},"timestamp":1} )",
           R"({"id":"a","position":1,"name":"n","payload":{})",
           R"({"id":"a","position":1234567890123456789,"name":"n","payload":{},"timestamp":1})",
           "{\"id\":\"\xc3\xa9\",\"position\":1,\"name\":\"n\",\"payload\":{},\"timestamp\":1}",
       }) {
    CAPTURE(text);
    CHECK_FALSE(engine::ViewWire(text));
  }
}

TEST_CASE("recorded events given as text are parsed only where the bytes differ", "[compare]") {
  std::vector<std::pair<std::string, Json>> items = {{"workflow:started", {{"sessionId", "s"}}}};
  for (int v = 0; v < 5; ++v) {
    items.push_back({"phase:entered", {{"phase", "p" + std::to_string(v)}}});
    items.push_back({"agent:started", {{"agent", "a"}}});
    for (int d = 0; d < 50; ++d) items.push_back({"text:delta", {{"agent", "a"}, {"delta", "x"}}});
    items.push_back({"agent:completed", {{"agent", "a"}, {"output", "x"}, {"durationMs", 10 + v}}});
    items.push_back({"phase:exited", {{"phase", "p" + std::to_string(v)}, {"reason", "next"}}});
  }
  auto recorded = Log(items);
  // The replay took another time over each agent: equal once normalized.
  for (auto& [name, payload] : items) {
    if (name == "agent:completed") payload["durationMs"] = 0;
  }
  auto replayed = Log(items);

  auto compare = [&](const std::vector<engine::EventPtr>& now, size_t* parsed) {
    size_t pulled = 0;
    StreamingComparison comparison(
        [&]() -> scaffold::Result<std::optional<RecordedEvent>> {
          if (pulled == recorded.size()) return std::optional<RecordedEvent>();
          return std::optional<RecordedEvent>(Unparsed(recorded[pulled++]));
        },
        [&](const RecordedEvent& e) -> scaffold::Result<engine::EventPtr> {
          ++*parsed;
          return recorded[static_cast<size_t>(e.position - 1)];
        });
    REQUIRE(comparison.AddReplayed(now).ok());
    REQUIRE(comparison.Finish().ok());
    return comparison.divergence();
  };
  size_t parsed = 0;
  CHECK_FALSE(compare(replayed, &parsed));
  CHECK(parsed == 5);  // the agent:completed events, nothing else

  // A delta that differs: its visit is parsed and compared lane by lane, and the divergence
  // names the event as it would have from parsed events.
  auto changed = replayed;
  auto e = std::make_shared<engine::Event>(*changed[2 * 54 + 1 + 2 + 7]);
  e->payload["delta"] = "y";
  e->Serialize();
  changed[2 * 54 + 1 + 2 + 7] = e;
  parsed = 0;
  auto d = compare(changed, &parsed);
  REQUIRE(d);
  CHECK(parsed == 2 + 54);  // the first two agent:completed, then the third visit whole
  CHECK(d->phase == "p2");
  CHECK(d->path == "/payload/delta");
  CHECK(d->recorded_position == 2 * 54 + 1 + 2 + 7 + 1);
  auto expected = CompareEvents(recorded, changed);
  REQUIRE(expected);
  CHECK(d->ToJson() == expected->ToJson());
}
