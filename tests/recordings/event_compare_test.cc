#include "recordings/event_compare.h"

#include <catch2/catch.hpp>

using scaffold::Json;
using scaffold::recordings::CompareEvents;
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
      [&]() -> scaffold::Result<engine::EventPtr> {
        return pulled < recorded.size() ? recorded[pulled++] : engine::EventPtr();
      });
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
  scaffold::recordings::StreamingComparison cut([&]() -> scaffold::Result<engine::EventPtr> {
    return pulled < shorter.size() ? shorter[pulled++] : engine::EventPtr();
  });
  REQUIRE(cut.AddReplayed(replayed).ok());
  REQUIRE(cut.Finish().ok());
  REQUIRE(cut.divergence());
  CHECK(cut.divergence()->recorded_position == 0);
  CHECK(cut.divergence()->phase == "p2");
  // A source that fails stops the comparison with its error.
  scaffold::recordings::StreamingComparison failing(
      []() -> scaffold::Result<engine::EventPtr> { return scaffold::InvalidArgument("line 7: bad"); });
  CHECK(failing.AddReplayed(replayed).message() == "line 7: bad");
}
