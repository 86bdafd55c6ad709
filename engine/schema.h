// JSON Schema (draft-07) for workflow input, agent output, `ask` answers and tool inputs.
//
// A JsonSchema is compiled once and is then immutable: copies share the compiled form and may
// validate from several threads at once.
//
// Schemas come from outside (workflow files, desktop clients registering tools), and so do the
// values checked against them, so the validator is scaffold's own rather than Debian's Valijson
// 1.0, which matches `pattern`, `patternProperties` and date formats with std::regex
// (backtracking: exponential time and stack overflow on long subjects) and recurses without
// bound on a schema that refers to itself. Here:
//  - every pattern is compiled once with RE2 and matched in linear time; a pattern RE2 cannot
//    express (backreferences, lookahead, lookbehind) is refused when the schema is compiled;
//  - only local references resolve (`#/definitions/...`, `#/$defs/...`, any JSON pointer into
//    the document); remote references and `$id`-based ones are refused at compile time;
//  - a cycle of references that never moves into the value (`{"$ref": "#"}`, two definitions
//    that refer to each other through allOf/anyOf/oneOf/not/if/then/else) is refused at compile
//    time with the cycle and its JSON path; recursion through properties or items is allowed
//    (a tree schema) and is bounded by the value's depth;
//  - validation is bounded in depth (kMaxValidationDepth) and in work (kMaxValidationSteps):
//    past either, the value is reported invalid with a violation saying so;
//  - `format` checks `date`, `time` and `date-time` (RFC 3339) on strings and ignores the
//    others, as draft-07 allows.
// Held to the draft-07 test suite in ../shared/conformance (tests/engine/schema_test.cc).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/json.h"
#include "engine/status.h"

namespace scaffold::engine {

namespace schema {
struct Compiled;
}

inline constexpr int kMaxValidationDepth = 512;         // nested subschema applications
inline constexpr int64_t kMaxValidationSteps = 8 << 20;  // subschemas applied, items compared

struct SchemaViolation {
  std::string instance_path;  // JSON pointer into the validated value ("" is the root)
  std::string keyword;        // the failing keyword: "required", "enum", "type", ...
  std::string message;

  // "/category: enum: Failed to match against any enum values."
  std::string ToString() const;
};

class JsonSchema {
 public:
  // Compiles `schema`. An invalid schema fails (kInvalidArgument) with the JSON path of the
  // problem inside the schema.
  static Result<JsonSchema> Compile(const Json& schema);

  // The violations, each at the most specific place (a failure inside a property is reported
  // at that property, with the keyword that failed); empty when `instance` is valid.
  std::vector<SchemaViolation> Validate(const Json& instance) const;

  const Json& source() const;

 private:
  std::shared_ptr<const schema::Compiled> compiled_;
};

// Joins violations as "path: keyword: message; path: ...", for error messages.
std::string DescribeViolations(const std::vector<SchemaViolation>& violations);

}  // namespace scaffold::engine
