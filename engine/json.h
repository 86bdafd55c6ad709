// JSON types and small helpers shared by every module.
//
// `Json` (nlohmann::json, keys sorted) is the value type for state, inputs, outputs, event
// payloads and schemas; sorted keys make dumps canonical. `OrderedJson` is used only where file
// order carries meaning (reading a workflow file: phase order, update order).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace scaffold {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// How deep JSON read from outside the process may nest (arrays and objects, the root counting
// as 1). Parsing enforces it, so nothing downstream (serializing, comparing, validating,
// templates) ever recurses deeper than this on outside data.
inline constexpr int kMaxJsonDepth = 128;

struct JsonParseOptions {
  int max_depth = kMaxJsonDepth;
  // Refuse an object that names a key twice (nlohmann would keep the last one silently).
  bool unique_keys = false;
};

// Parses JSON text from outside the process. Never throws: malformed text, a number out of
// range (1e999), nesting past `max_depth` and, when asked, a duplicate key are kInvalidArgument
// errors whose message says what and where ("invalid JSON: syntax error at line 1, column 7:
// ...", "JSON nested deeper than 128 levels").
// (Workflow files, which keep their key order, are read by engine/workflow_json.h.)
Result<Json> ParseJson(std::string_view text, const JsonParseOptions& options = {});

// The nesting depth of `value` (0 for a scalar, 1 for [] or [1], 2 for [[1]]), counted without
// recursion and stopping once past `limit`.
int JsonDepth(const Json& value, int limit = kMaxJsonDepth);

// Compact JSON text. Never throws: invalid UTF-8 inside strings is replaced with U+FFFD.
std::string DumpJson(const Json& value);
// The same text appended to `*out`.
void AppendJson(const Json& value, std::string* out);
// AppendJson(Json(text), out), without making the Json.
void AppendJsonString(const std::string& text, std::string* out);

// "object", "array", "string", "number", "boolean" or "null".
const char* JsonTypeName(const Json& value);
const char* JsonTypeName(const OrderedJson& value);

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Byte offset of the first invalid UTF-8 sequence in `text`, or npos.
size_t FindInvalidUtf8(std::string_view text);

// RFC 6901: escapes one reference token ("~" -> "~0", "/" -> "~1").
std::string EscapePointerToken(std::string_view token);

// Appends one reference token to a JSON pointer: AppendPointer("/a", "b/c") == "/a/b~1c".
std::string AppendPointer(const std::string& pointer, std::string_view token);
std::string AppendPointer(const std::string& pointer, size_t index);

// A number as JSON: integral values within int64 become integers (so 2.0 prints as 2).
Json NumberToJson(double value);

// Converts between the ordered and the sorted JSON types.
Json ToJson(const OrderedJson& value);

}  // namespace scaffold
