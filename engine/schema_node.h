// The compiled form of a JsonSchema (schema.h): internal to schema.cc and schema_compile.cc.
//
// A schema compiles to a vector of nodes, one per subschema; subschemas refer to each other by
// index, `$ref` included, so a recursive schema is a graph and not an infinite tree. Patterns
// are compiled once to RE2. Immutable once built; shared by every copy of the JsonSchema.
#pragma once

#include <re2/re2.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/json.h"
#include "engine/status.h"

namespace scaffold::engine::schema {

// Bits of Node::types.
enum TypeBit : unsigned {
  kNull = 1,
  kBoolean = 2,
  kObject = 4,
  kArray = 8,
  kNumber = 16,
  kString = 32,
  kInteger = 64,
};

enum class Format { kNone, kDate, kTime, kDateTime };

struct Pattern {
  std::string source;
  std::shared_ptr<const RE2> re;
};

inline constexpr int kNone = -1;

struct Node {
  // A boolean schema (true accepts everything, false nothing); the other fields are unused.
  std::optional<bool> constant;
  // Draft-07: a schema with `$ref` is only its reference.
  int ref = kNone;

  unsigned types = 0;  // 0: any type
  const Json* enum_values = nullptr;  // into the source document
  const Json* const_value = nullptr;

  std::optional<double> minimum, maximum, exclusive_minimum, exclusive_maximum;
  const Json* multiple_of = nullptr;
  std::optional<uint64_t> min_length, max_length;
  std::optional<Pattern> pattern;
  Format format = Format::kNone;

  std::optional<uint64_t> min_items, max_items;
  bool unique_items = false;
  int items = kNone;                 // one schema for every item
  std::vector<int> item_list;        // `items` as an array: one schema per position
  bool has_item_list = false;
  int additional_items = kNone;
  int contains = kNone;

  std::optional<uint64_t> min_properties, max_properties;
  std::vector<std::string> required;
  std::vector<std::pair<std::string, int>> properties;
  std::vector<std::pair<Pattern, int>> pattern_properties;
  int additional_properties = kNone;
  int property_names = kNone;
  std::vector<std::pair<std::string, std::vector<std::string>>> dependent_required;
  std::vector<std::pair<std::string, int>> dependent_schemas;

  std::vector<int> all_of, any_of, one_of;
  int not_ = kNone;
  int if_ = kNone, then_ = kNone, else_ = kNone;
};

struct Compiled {
  Json source;              // the schema as given
  std::vector<Node> nodes;  // nodes[0] is the root
};

// Compiles `schema` (an object or a boolean) into `out`. Errors name the schema path.
Status CompileInto(const Json& schema, Compiled* out);

}  // namespace scaffold::engine::schema
