// Reading JSON from outside: the nesting limit, numbers out of range, duplicate keys, and typed
// field access that names the JSON path of what is wrong.

#include <catch2/catch.hpp>

#include "engine/json.h"
#include "engine/json_reader.h"

using scaffold::Json;
using scaffold::JsonParseOptions;
using scaffold::JsonReader;
using scaffold::ParseJson;

namespace {
std::string Nested(int depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}
}  // namespace

TEST_CASE("JSON nested exactly to the limit parses and one level more is refused", "[json]") {
  CHECK(ParseJson(Nested(scaffold::kMaxJsonDepth)).ok());
  auto past = ParseJson(Nested(scaffold::kMaxJsonDepth + 1));
  REQUIRE_FALSE(past.ok());
  CHECK(past.status().message() == "JSON nested deeper than 128 levels");
  std::string objects;
  for (int i = 0; i < scaffold::kMaxJsonDepth; ++i) objects += "{\"a\":";
  objects += "1" + std::string(scaffold::kMaxJsonDepth, '}');
  CHECK(ParseJson(objects).ok());
  CHECK_FALSE(ParseJson("{\"a\":" + objects + "}").ok());
  // 100 KB of brackets: refused at once, and nothing recursed.
  CHECK_FALSE(ParseJson(std::string(100000, '[')).ok());
  CHECK(scaffold::JsonDepth(*ParseJson(Nested(10))) == 10);
}

TEST_CASE("malformed JSON, numbers out of range and duplicate keys are errors, never exceptions",
          "[json]") {
  for (const char* text : {"", "{", "[1,]", "{\"a\" 1}", "1e999", "-1e999", "[1e400]",
                           "\"\\ud800\"", "\"\xff\"", "nul", "{} {}", "\"a\nb\""}) {
    INFO(text);
    auto r = ParseJson(text);
    CHECK_FALSE(r.ok());
    CHECK(r.status().code() == scaffold::ErrorCode::kInvalidArgument);
    CHECK_THAT(r.status().message(), Catch::StartsWith("invalid JSON"));
  }
  CHECK_THAT(ParseJson("1e999").status().message(), Catch::Contains("number overflow"));
  CHECK(ParseJson(R"({"sub": "a", "sub": "b"})").ok());  // nlohmann keeps the last by default
  JsonParseOptions unique;
  unique.unique_keys = true;
  auto dup = ParseJson(R"({"x": {"sub": "a", "sub": "b"}})", unique);
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.status().message() == "duplicate key \"sub\"");
  CHECK(ParseJson(R"({"a": {"k": 1}, "b": {"k": 2}})", unique).ok());
}

TEST_CASE("typed access names the path of the first wrong field", "[json]") {
  Json body = Json::parse(
      R"({"id": null, "n": "3", "ok": 1, "list": [{"name": 5}], "big": 18446744073709551615,
          "neg": -4, "frac": 2.5, "whole": 3.0, "obj": {"deep": {"x": true}}})");
  struct Case {
    std::function<void(JsonReader&)> read;
    std::string path, message;
  };
  for (const Case& c : std::vector<Case>{
           {[](JsonReader& in) { in.String("id"); }, "/id", "required: a string"},
           {[](JsonReader& in) { in.OptInt("n"); }, "/n", "expected an integer, got a string"},
           {[](JsonReader& in) { in.OptBool("ok"); }, "/ok", "expected true or false, got a number"},
           {[](JsonReader& in) { in.List("list").Item(0).String("name"); }, "/list/0/name",
            "expected a string, got a number"},
           {[](JsonReader& in) { in.OptInt("big"); }, "/big",
            "must be at most 9223372036854775807, got 18446744073709551615"},
           {[](JsonReader& in) { in.OptInt("neg", 0); }, "/neg", "must be at least 0, got -4"},
           {[](JsonReader& in) { in.OptInt("frac"); }, "/frac",
            "expected an integer, got a number (2.5)"},
           {[](JsonReader& in) { in.Child("obj").Child("deep").OptString("x"); }, "/obj/deep/x",
            "expected a string, got a boolean"},
           {[](JsonReader& in) { in.Child("n"); }, "/n", "expected an object, got a string"},
           {[](JsonReader& in) { in.OptArray("obj"); }, "/obj", "expected an array, got an object"},
       }) {
    JsonReader in(body);
    c.read(in);
    INFO(c.path);
    REQUIRE_FALSE(in.ok());
    CHECK(in.status().path() == c.path);
    CHECK(in.status().message() == c.message);
  }
  JsonReader in(body);
  CHECK(in.OptInt("whole") == 3);
  CHECK_FALSE(in.OptString("id"));  // null reads as absent
  CHECK_FALSE(in.OptString("missing"));
  CHECK(in.ok());
  // Only the first problem is kept.
  in.OptInt("n");
  in.OptBool("ok");
  CHECK(in.status().path() == "/n");
  // Reading a field of something that is not an object is an error at that value.
  Json not_object = Json::array();
  JsonReader list(not_object, "/body");
  list.OptString("x");
  CHECK(list.status().ToString() == "/body: expected an object, got an array");
}

TEST_CASE("DumpJson writes what the JSON library writes, byte for byte", "[json]") {
  auto library = [](const Json& v) { return v.dump(-1, ' ', false, Json::error_handler_t::replace); };
  std::vector<Json> values = {
      nullptr, true, false, 0, -1, 42, INT64_MIN, INT64_MAX, UINT64_MAX, 0.0, -0.0, 0.1, 1.0,
      1e20, 1e-7, 3.141592653589793, "", "plain text", "quote \" and back\\slash",
      "control \x01\x1f and \n\t\r", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "bad \xff\xfe utf-8",
      "truncated \xe2\x82", "del \x7f", Json::array(), Json::object(),
      Json::parse(R"({"b":[1,2,{"c":null}],"a":{"nested":[[],{}]},"k\"ey":"v","é":1.5})"),
      Json::parse(R"([{"op":"replace","path":"/count","value":3},{"op":"add","path":"/l/-","value":"x"}])"),
  };
  for (const auto& v : values) {
    INFO(library(v));
    CHECK(scaffold::DumpJson(v) == library(v));
    std::string appended = "prefix:";
    scaffold::AppendJson(v, &appended);
    CHECK(appended == "prefix:" + library(v));
  }
}
