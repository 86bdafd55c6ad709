// JSON Schema (draft-07, as Valijson implements it) for workflow input, agent output and `ask`
// answers.
//
// A JsonSchema is compiled once and is then immutable: copies share the compiled form and may
// validate from several threads at once. Only local `$ref`s (`#/definitions/...`,
// `#/$defs/...`) resolve; remote references are refused when the schema is compiled.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/json.h"
#include "engine/status.h"

namespace valijson {
class Schema;
}

namespace scaffold::engine {

struct SchemaViolation {
  std::string instance_path;  // JSON pointer into the validated value ("" is the root)
  std::string keyword;        // the failing keyword: "required", "enum", "type", ...
  std::string message;

  // "/category: enum: Failed to match against any enum values."
  std::string ToString() const;
};

class JsonSchema {
 public:
  // Compiles `schema`. An invalid schema fails with a message naming the problem.
  static Result<JsonSchema> Compile(const Json& schema);

  // The most specific violations (a failure inside a property is reported, not every enclosing
  // "failed to validate property" summary); empty when `instance` is valid.
  std::vector<SchemaViolation> Validate(const Json& instance) const;

  const Json& source() const { return *source_; }

 private:
  std::shared_ptr<const Json> source_;
  std::shared_ptr<const valijson::Schema> schema_;
};

// Joins violations as "path: keyword: message; path: ...", for error messages.
std::string DescribeViolations(const std::vector<SchemaViolation>& violations);

}  // namespace scaffold::engine
