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
    {"ref.json: empty tokens in $ref json-pointer",
     "Valijson cannot resolve a JSON pointer with empty reference tokens"},
    {"definitions.json: validate definition against metaschema",
     "refers to the draft-07 metaschema by its remote URL"},
    {"multipleOf.json: small multiple of large integer",
     "Valijson computes multipleOf in doubles; 12391239123 / 1e-8 is not exact"},
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
