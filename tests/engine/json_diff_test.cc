#include "engine/json_diff.h"

#include <catch2/catch.hpp>

using scaffold::Json;
using namespace scaffold::engine;

TEST_CASE("json diffs list changed, added and removed fields by path", "[diff]") {
  Json a = Json::parse(R"({"model": "m", "messages": [{"text": "hi"}], "tools": [1, 2], "old": true})");
  Json b = Json::parse(R"({"model": "n", "messages": [{"text": "hi"}], "tools": [1], "new": 3})");
  auto diff = DiffJson(a, b);
  std::vector<std::string> lines;
  for (const auto& c : diff) lines.push_back(c.ToString());
  CHECK(lines == std::vector<std::string>{R"(/model: "m" → "n")", "/old: removed true", "/tools/1: removed 2",
                                          "/new: added 3"});
  CHECK(DiffJson(a, a).empty());
  CHECK_FALSE(FirstDifference(Json(1), Json(1.0)));
  CHECK(FirstDifference(a, b)->path == "/model");
}

TEST_CASE("long strings are shortened around where they differ", "[diff]") {
  std::string base(200, 'x');
  std::string changed = base;
  changed[150] = 'Y';
  auto [x, y] = ShortenAroundChange(base, changed, 30);
  CHECK(x.find("…") == 0);
  CHECK(y.find('Y') != std::string::npos);
  CHECK(y.size() < 50);
  JsonChange c{JsonChange::Kind::kChanged, "/messages/1/content/0/text", base, changed};
  CHECK_THAT(c.ToString(30), Catch::Contains("Y"));
}
