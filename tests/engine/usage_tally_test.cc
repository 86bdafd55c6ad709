#include "engine/usage_tally.h"

#include <catch2/catch.hpp>

using namespace scaffold;
using namespace scaffold::engine;

namespace {

Event Make(const std::string& name, Json payload) {
  Event e;
  e.name = name;
  e.payload = std::move(payload);
  return e;
}

}  // namespace

TEST_CASE("usage is tallied per agent with the model of each invocation", "[usage]") {
  PriceTable prices;
  prices.Set("cheap", ModelPrice{1, 2, 0.5, 0});
  UsageTally tally(prices);
  // Two `each` invocations of one agent interleave; each completion finds its own model.
  tally.Add(Make("agent:started", {{"agent", "a"}, {"index", 0}, {"model", "cheap"}}));
  tally.Add(Make("agent:started", {{"agent", "a"}, {"index", 1}, {"model", "unknown-model"}}));
  tally.Add(
      Make("agent:completed",
           {{"agent", "a"}, {"index", 1}, {"usage", {{"inputTokens", 10}, {"outputTokens", 1}}}}));
  tally.Add(Make(
      "agent:completed",
      {{"agent", "a"},
       {"index", 0},
       {"usage",
        {{"inputTokens", 1000000}, {"outputTokens", 1000000}, {"cacheReadTokens", 1000000}}}}));
  tally.Add(Make("agent:started", {{"agent", "b"}, {"model", "cheap"}}));
  tally.Add(Make("agent:completed", {{"agent", "b"}, {"usage", {{"outputTokens", 500000}}}}));
  // Hostile payloads change nothing and throw nothing.
  tally.Add(Make("agent:completed", Json::array({1, 2})));
  tally.Add(Make("agent:started", {{"agent", 7}, {"model", {{"x", 1}}}}));

  Json total = UsageTally::TotalsJson(tally.total());
  CHECK(total["agentCalls"] == 3);
  CHECK(total["inputTokens"] == 2000010);
  CHECK(total["outputTokens"] == 1500001);
  CHECK(total["unpriced"] == Json::array({"unknown-model"}));
  CHECK_FALSE(total.contains("costUsd"));

  Json b = UsageTally::TotalsJson(tally.agents().at("b"));
  CHECK(b["costUsd"].get<double>() == Approx(1.0));
  CHECK(tally.agents().at("a").cost == Approx(1 + 2 + 0.5));
}
