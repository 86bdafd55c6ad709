// JSON types and small helpers shared by every module.
//
// `Json` (nlohmann::json, keys sorted) is the value type for state, inputs, outputs, event
// payloads and schemas; sorted keys make dumps canonical. `OrderedJson` is used only where file
// order carries meaning (reading a workflow file: phase order, update order).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace scaffold {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// Compact JSON text. Never throws: invalid UTF-8 inside strings is replaced with U+FFFD.
std::string DumpJson(const Json& value);

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
