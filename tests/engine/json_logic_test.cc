#include "engine/json_logic.h"

#include <catch2/catch.hpp>

#include "tests/support/conformance.h"

using scaffold::Json;
using namespace scaffold::engine;

TEST_CASE("json logic passes every case of the upstream suite", "[conformance][jsonlogic]") {
  Json suite = scaffold::testing::LoadConformance("jsonlogic/tests.json");
  std::string group;
  int cases = 0;
  for (const auto& entry : suite) {
    if (entry.is_string()) {
      group = entry.get<std::string>();
      continue;
    }
    ++cases;
    const Json& rule = entry[0];
    const Json& data = entry[1];
    const Json& expected = entry[2];
    INFO("case " << cases << " (" << group << "): rule " << rule.dump() << " data " << data.dump());
    auto result = EvaluateLogic(rule, data);
    REQUIRE(result.ok());
    CHECK(result->dump() == expected.dump());
  }
  CHECK(cases == 278);
}

TEST_CASE("json logic reports unknown operators with their path", "[jsonlogic]") {
  Json rule = Json::parse(R"({"if": [{"vaar": "x"}, 1, 2]})");
  auto result = EvaluateLogic(rule, Json::object());
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().path() == "/if/0/vaar");

  std::vector<LogicIssue> issues;
  CheckLogic(rule, "/phases/a/next", &issues);
  REQUIRE(issues.size() == 1);
  CHECK(issues[0].path == "/phases/a/next/if/0/vaar");
  CHECK(issues[0].message == "unknown operator \"vaar\" (did you mean \"var\"?)");
}

TEST_CASE("json logic preserve returns a one-key object as a constant", "[jsonlogic]") {
  auto result = EvaluateLogic(Json::parse(R"({"preserve": {"mode": "fast"}})"), Json::object());
  REQUIRE(result.ok());
  CHECK(*result == Json::parse(R"({"mode": "fast"})"));
}

TEST_CASE("json logic arithmetic keeps integers integral", "[jsonlogic]") {
  auto result = EvaluateLogic(Json::parse(R"({"+": [{"var": "state.rounds"}, 1]})"),
                              Json::parse(R"({"state": {"rounds": 2}})"));
  REQUIRE(result.ok());
  CHECK(result->dump() == "3");
}

TEST_CASE("json logic collects var names outside scoped operators", "[jsonlogic]") {
  Json rule = Json::parse(
      R"({"and": [{"var": "state.a"}, {"map": [{"var": "state.list"}, {"var": "x"}]}]})");
  std::vector<LogicVar> vars;
  CollectLogicVars(rule, "", &vars);
  REQUIRE(vars.size() == 2);
  CHECK(vars[0].name == "state.a");
  CHECK(vars[1].name == "state.list");
  CHECK(vars[1].path == "/and/1/map/0/var");
}

TEST_CASE("json logic lists the constant results of branching expressions", "[jsonlogic]") {
  std::vector<std::string> results;
  CHECK(CollectLogicResults(Json::parse(R"({"if": [{"var": "ok"}, "done", "draft"]})"), &results));
  CHECK(results == std::vector<std::string>{"done", "draft"});
  results.clear();
  CHECK_FALSE(CollectLogicResults(Json::parse(R"({"cat": ["a", "b"]})"), &results));
}
