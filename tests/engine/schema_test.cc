#include "engine/schema.h"

#include <catch2/catch.hpp>
#include <map>
#include <set>

#include "tests/support/conformance.h"

using scaffold::Json;
using namespace scaffold::engine;

namespace {

// Out of scope, with the reason. Every other file, group and case of draft7 must pass.
const std::set<std::string> kExcludedFiles = {
    "refRemote.json",  // remote $refs need network fetches; scaffold schemas are self-contained
};
// Resolution through `$id` base URIs, anchors and URNs: scaffold resolves only local JSON-pointer
// references ("#/definitions/...", "#/$defs/..."), as DESIGN §3 specifies, and refuses others.
const char* const kIdBased = "needs $id-based reference resolution";
const std::map<std::string, std::string> kExcludedGroups = {
    {"ref.json: $ref prevents a sibling $id from changing the base uri", kIdBased},
    {"ref.json: remote ref, containing refs itself", kIdBased},
    {"ref.json: Recursive references between schemas", kIdBased},
    {"ref.json: Location-independent identifier", kIdBased},
    {"ref.json: Reference an anchor with a non-relative URI", kIdBased},
    {"ref.json: Location-independent identifier with base URI change in subschema", kIdBased},
    {"ref.json: refs with relative uris and defs", kIdBased},
    {"ref.json: relative refs with absolute uris and defs", kIdBased},
    {"ref.json: $id must be resolved against nearest parent, not just immediate parent", kIdBased},
    {"ref.json: simple URN base URI with $ref via the URN", kIdBased},
    {"ref.json: URN base URI with URN and JSON pointer ref", kIdBased},
    {"ref.json: URN base URI with URN and anchor ref", kIdBased},
    {"ref.json: ref to if", kIdBased},
    {"ref.json: ref to then", kIdBased},
    {"ref.json: ref to else", kIdBased},
    {"ref.json: ref with absolute-path-reference", kIdBased},
    {"definitions.json: validate definition against metaschema",
     "refers to the draft-07 metaschema by its remote URL"},
};

}  // namespace

TEST_CASE("schemas pass the JSON Schema draft7 suite", "[conformance][schema]") {
  const char* files[] = {"additionalItems.json",
                         "additionalProperties.json",
                         "allOf.json",
                         "anyOf.json",
                         "boolean_schema.json",
                         "const.json",
                         "contains.json",
                         "default.json",
                         "definitions.json",
                         "dependencies.json",
                         "enum.json",
                         "exclusiveMaximum.json",
                         "exclusiveMinimum.json",
                         "format.json",
                         "if-then-else.json",
                         "infinite-loop-detection.json",
                         "items.json",
                         "maxItems.json",
                         "maxLength.json",
                         "maxProperties.json",
                         "maximum.json",
                         "minItems.json",
                         "minLength.json",
                         "minProperties.json",
                         "minimum.json",
                         "multipleOf.json",
                         "not.json",
                         "oneOf.json",
                         "pattern.json",
                         "patternProperties.json",
                         "properties.json",
                         "propertyNames.json",
                         "ref.json",
                         "refRemote.json",
                         "required.json",
                         "type.json",
                         "uniqueItems.json"};
  int cases = 0;
  for (const char* file : files) {
    if (kExcludedFiles.count(file)) continue;
    Json groups = scaffold::testing::LoadConformance(std::string("json-schema/draft7/") + file);
    for (const auto& group : groups) {
      std::string gid = std::string(file) + ": " + group["description"].get<std::string>();
      if (kExcludedGroups.count(gid)) continue;
      INFO(gid << "\nschema: " << group["schema"].dump());
      auto schema = JsonSchema::Compile(group["schema"]);
      CHECK(schema.ok());
      if (!schema.ok()) continue;
      for (const auto& test : group["tests"]) {
        ++cases;
        INFO("case: " << test["description"].get<std::string>()
                      << "\ndata: " << test["data"].dump());
        auto violations = schema->Validate(test["data"]);
        CHECK(violations.empty() == test["valid"].get<bool>());
      }
    }
  }
  CHECK(cases > 800);
}

TEST_CASE("schema violations name the instance path and the keyword", "[schema]") {
  auto schema = JsonSchema::Compile(Json::parse(R"({
    "type": "object",
    "properties": {"category": {"enum": ["billing", "bug"]}, "n": {"type": "integer", "maximum": 3}},
    "required": ["category", "n"]})"));
  REQUIRE(schema.ok());
  auto v = schema->Validate(Json::parse(R"({"category": "other", "n": 9})"));
  REQUIRE(v.size() == 2);
  std::set<std::string> seen;
  for (const auto& x : v) seen.insert(x.instance_path + " " + x.keyword);
  CHECK(seen == std::set<std::string>{"/category enum", "/n maximum"});

  auto missing = schema->Validate(Json::parse(R"({"n": 1})"));
  REQUIRE(missing.size() == 1);
  CHECK(missing[0].keyword == "required");
  CHECK(missing[0].instance_path == "");
}

TEST_CASE("schemas with local $defs references compile and validate", "[schema]") {
  auto schema = JsonSchema::Compile(Json::parse(R"({
    "$defs": {"tag": {"type": "string", "minLength": 2}},
    "type": "array", "items": {"$ref": "#/$defs/tag"}})"));
  REQUIRE(schema.ok());
  CHECK(schema->Validate(Json::parse(R"(["ab", "cd"])")).empty());
  auto v = schema->Validate(Json::parse(R"(["ab", "c"])"));
  REQUIRE(v.size() == 1);
  CHECK(v[0].instance_path == "/1");
  CHECK(v[0].keyword == "minLength");
}

TEST_CASE("date formats apply to strings only and report the format keyword", "[schema]") {
  auto schema = JsonSchema::Compile(Json::parse(R"({"properties": {"d": {"format": "date"}}})"));
  REQUIRE(schema.ok());
  CHECK(schema->Validate(Json::parse(R"({"d": 12})")).empty());
  CHECK(schema->Validate(Json::parse(R"({"d": "2026-11-21"})")).empty());
  auto v = schema->Validate(Json::parse(R"({"d": "yesterday"})"));
  REQUIRE(v.size() == 1);
  CHECK(v[0].instance_path == "/d");
  CHECK(v[0].keyword == "format");
}

TEST_CASE("invalid and remote schemas are refused at compile time", "[schema]") {
  CHECK_FALSE(JsonSchema::Compile(Json::parse(R"({"type": "strng"})")).ok());
  auto remote = JsonSchema::Compile(Json::parse(R"({"$ref": "http://example.com/s.json"})"));
  REQUIRE_FALSE(remote.ok());
  CHECK(remote.status().path() == "/$ref");
  CHECK_FALSE(JsonSchema::Compile(Json(3)).ok());
}

TEST_CASE("a reference cycle that never reaches into the value is refused with its path",
          "[schema]") {
  auto self = JsonSchema::Compile(Json::parse(R"({"$ref": "#"})"));
  REQUIRE_FALSE(self.ok());
  CHECK(self.status().path() == "/$ref");
  CHECK(self.status().message().find("cycle") != std::string::npos);

  auto mutual = JsonSchema::Compile(Json::parse(R"({
    "definitions": {"a": {"allOf": [{"$ref": "#/definitions/b"}]},
                    "b": {"anyOf": [{"type": "string"}, {"$ref": "#/definitions/a"}]}},
    "properties": {"x": {"$ref": "#/definitions/a"}}})"));
  REQUIRE_FALSE(mutual.ok());
  CHECK(mutual.status().message().find("#/definitions/a") != std::string::npos);

  CHECK_FALSE(JsonSchema::Compile(Json::parse(R"({"not": {"$ref": "#"}})")).ok());
  CHECK_FALSE(
      JsonSchema::Compile(Json::parse(R"({"if": true, "then": {"$ref": "#"}})")).ok());
}

TEST_CASE("a recursive schema through properties validates a tree and stays bounded",
          "[schema]") {
  auto tree = JsonSchema::Compile(Json::parse(R"({
    "type": "object",
    "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#"}}},
    "required": ["name"]})"));
  REQUIRE(tree.ok());
  CHECK(tree->Validate(Json::parse(
                           R"({"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]})"))
            .empty());
  auto v = tree->Validate(Json::parse(R"({"name": "a", "children": [{"children": []}]})"));
  REQUIRE(v.size() == 1);
  CHECK(v[0].instance_path == "/children/0");
  CHECK(v[0].keyword == "required");

  // 2,000 levels (built here, deeper than any parsed input may be): an answer, not a crash.
  Json deep = {{"name", "leaf"}};
  for (int i = 0; i < 2000; ++i) deep = Json{{"name", "n"}, {"children", Json::array({deep})}};
  auto too_deep = tree->Validate(deep);
  REQUIRE(too_deep.size() == 1);
  CHECK(too_deep[0].keyword == "schema");
}

TEST_CASE("exponential anyOf branching is cut off by the step budget", "[schema]") {
  auto s = JsonSchema::Compile(Json::parse(
      R"({"anyOf": [{"items": {"$ref": "#"}, "contains": {"const": "x"}}, {"items": {"$ref": "#"}}]})"));
  REQUIRE(s.ok());
  Json deep = Json::array();
  for (int i = 0; i < 100; ++i) deep = Json::array({deep, false});
  auto v = s->Validate(deep);  // 2^100 paths without the budget
  REQUIRE(v.size() == 1);
  CHECK(v[0].keyword == "schema");
  CHECK(v[0].message.find("too complex") != std::string::npos);
}

TEST_CASE("patterns match long subjects in linear time and refuse backtracking features",
          "[schema]") {
  auto ab = JsonSchema::Compile(Json::parse(R"({"pattern": "^(a|b)*$"})"));
  REQUIRE(ab.ok());
  CHECK(ab->Validate(Json(std::string(200000, 'a'))).empty());
  auto nested = JsonSchema::Compile(Json::parse(R"({"pattern": "^(a+)+$"})"));
  REQUIRE(nested.ok());
  CHECK(nested->Validate(Json(std::string(100000, 'a') + "!")).size() == 1);
  auto letters = JsonSchema::Compile(Json::parse(R"({"pattern": "^[a-z]+$", "maxLength": 100})"));
  REQUIRE(letters.ok());
  CHECK_FALSE(letters->Validate(Json(std::string(50000, 'x'))).empty());

  auto backref = JsonSchema::Compile(Json::parse(R"({"properties": {"a": {"pattern": "(x)\\1"}}})"));
  REQUIRE_FALSE(backref.ok());
  CHECK(backref.status().path() == "/properties/a/pattern");
  CHECK(backref.status().message().find("backreferences") != std::string::npos);
  auto look = JsonSchema::Compile(Json::parse(R"j({"patternProperties": {"^(?!x)": true}})j"));
  REQUIRE_FALSE(look.ok());
  CHECK(look.status().path() == "/patternProperties/^(?!x)");
  CHECK(look.status().message().find("lookahead") != std::string::npos);
}
