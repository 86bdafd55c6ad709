#include "engine/tool_listing.h"

#include <catch2/catch.hpp>

using scaffold::Json;
using namespace scaffold::engine;

namespace {

ToolDecl Entry(const std::string& name, std::vector<std::string> allow = {}) {
  ToolDecl decl;
  decl.name = name;
  decl.type = "mcp";
  decl.allow = std::move(allow);
  return decl;
}

ListedTool Tool(const std::string& name, Json schema = {{"type", "object"}}) {
  return {name, "", "does " + name, std::move(schema)};
}

}  // namespace

TEST_CASE("mcp tool names fit every provider's tool names", "[mcp]") {
  CHECK(ModelToolName("fs", "read_file") == "fs__read_file");
  CHECK(ModelToolName("my docs", "search.pages/v2") == "my_docs__search_pages_v2");
  CHECK(ModelToolName("é", "x") == "____x");  // each byte of a non-ASCII letter
  std::string long_name(100, 'a');
  std::string cut = ModelToolName("srv", long_name);
  CHECK(cut.size() == kMaxModelToolName);
  CHECK(cut.substr(0, 10) == "srv__aaaaa");
  CHECK(cut != ModelToolName("srv", long_name + "b"));  // the hash tells them apart
}

TEST_CASE("a listing keeps the allowed tools with valid schemas, under free names", "[mcp]") {
  ToolListing raw;
  raw.tools = {Tool("read"), Tool("write"),
               Tool("broken", {{"type", "object"}, {"properties", {{"n", {{"type", 12}}}}}}),
               Tool("odd", Json::array()), Tool("read.")};
  std::set<std::string> taken = {"fs__read_"};  // another tool of the agent
  ToolListing out = PrepareListing(Entry("fs", {"read", "broken", "odd", "read."}), raw, &taken);
  REQUIRE(out.tools.size() == 1);
  CHECK(out.tools[0].as == "fs__read");
  CHECK(out.tools[0].description == "does read");
  REQUIRE(out.skipped.size() == 3);  // "write" is not allowed: not mentioned
  CHECK(out.skipped[0]["name"] == "broken");
  CHECK(out.skipped[1]["name"] == "odd");
  CHECK(out.skipped[2]["name"] == "read.");
  CHECK_THAT(out.skipped[2]["reason"].get<std::string>(), Catch::Contains("already taken"));
  CHECK(taken.count("fs__read"));

  // Preparing a recorded listing again gives the same tools (what a replay does).
  auto recorded = ListingFromJson(ListingToJson(out));
  REQUIRE(recorded.ok());
  std::set<std::string> fresh = {"fs__read_"};
  ToolListing again = PrepareListing(Entry("fs", {"read", "broken", "odd", "read."}), *recorded, &fresh);
  CHECK(ListingToJson(again) == ListingToJson(out));
}

TEST_CASE("a recorded listing is read as hostile input", "[mcp]") {
  CHECK_FALSE(ListingFromJson(Json::object()).ok());
  auto bad = ListingFromJson({{"tools", {{{"name", "x"}, {"inputSchema", "no"}}}}});
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("/payload/tools/0/inputSchema"));
  auto skipped = ListingFromJson({{"tools", Json::array()}, {"skipped", {{{"name", 3}}}}});
  REQUIRE_FALSE(skipped.ok());
  CHECK_THAT(skipped.status().message(), Catch::Contains("/payload/skipped/0/name"));
  auto error = ListingFromJson({{"tools", Json::array()}, {"error", "gone"}});
  REQUIRE(error.ok());
  CHECK(error->error == "gone");
}
