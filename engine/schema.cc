#include "engine/schema.h"

// Valijson aborts the process on an invalid schema unless told to throw.
#define VALIJSON_USE_EXCEPTIONS 1
#include <cmath>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace scaffold::engine {
namespace {

// Valijson reports a description but not the keyword; recover it from the description text.
std::string KeywordOf(const std::string& d) {
  struct Rule {
    const char* fragment;
    const char* keyword;
  };
  static const Rule kRules[] = {
      {"anyOf", "anyOf"},
      {"allOf", "allOf"},
      {"exactly one child schema", "oneOf"},
      {"any child schemas", "oneOf"},
      {"if-then-else", "if"},
      {"'const'", "const"},
      {"'contains'", "contains"},
      {"enum values", "enum"},
      {"valid date", "format"},
      {"valid time", "format"},
      {"more items than allowed", "additionalItems"},
      {"Expected number less than or equal", "maximum"},
      {"Expected number less than", "exclusiveMaximum"},
      {"Expected number greater than or equal", "minimum"},
      {"Expected number greater than", "exclusiveMinimum"},
      {"Array should contain no more than", "maxItems"},
      {"Array should contain no fewer than", "minItems"},
      {"String should be no more than", "maxLength"},
      {"String should be no fewer than", "minLength"},
      {"Object should have no more than", "maxProperties"},
      {"Object should have no fewer than", "minProperties"},
      {"multiple", "multipleOf"},
      {"'not'", "not"},
      {"'pattern'", "pattern"},
      {"associated with pattern", "patternProperties"},
      {"Object contains a property", "additionalProperties"},
      {"additional properties", "additionalProperties"},
      {"property name", "propertyNames"},
      {"Missing required property", "required"},
      {"dependency", "dependencies"},
      {"dependent schema", "dependencies"},
      {"'type'", "type"},
      {"uniqueness", "uniqueItems"},
      {"unique", "uniqueItems"},
      {"item #", "items"},
      {"child schema #", "allOf"},
      {"not equal", "const"},
  };
  for (const auto& rule : kRules) {
    if (d.find(rule.fragment) != std::string::npos) return rule.keyword;
  }
  return "schema";
}

// Valijson's context is ["<root>", "[name]", "[0]", ...].
std::string PointerOf(const std::vector<std::string>& context) {
  std::string pointer;
  for (size_t i = 1; i < context.size(); ++i) {
    const std::string& part = context[i];
    if (part.size() >= 2 && part.front() == '[' && part.back() == ']') {
      pointer = AppendPointer(pointer, part.substr(1, part.size() - 2));
    } else {
      pointer = AppendPointer(pointer, part);
    }
  }
  return pointer;
}

bool IsPrefixOf(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  return a.size() < b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// Refuses remote references before Valijson sees them: only "#..." stays inside the document.
Status CheckRefs(const Json& schema, const std::string& path) {
  if (schema.is_object()) {
    for (const auto& [key, value] : schema.items()) {
      if (key == "$ref" && value.is_string()) {
        const auto& ref = value.get_ref<const std::string&>();
        if (ref.empty() || ref[0] != '#') {
          return InvalidArgument(
              "only local references (\"#/...\") are supported, got \"" + ref + "\"",
              AppendPointer(path, key));
        }
      } else if (key != "enum" && key != "const" && key != "default" && key != "examples") {
        SCAFFOLD_RETURN_IF_ERROR(CheckRefs(value, AppendPointer(path, key)));
      }
    }
  } else if (schema.is_array()) {
    for (size_t i = 0; i < schema.size(); ++i) {
      SCAFFOLD_RETURN_IF_ERROR(CheckRefs(schema[i], AppendPointer(path, i)));
    }
  }
  return Status::Ok();
}

bool IsCheckedFormat(const Json& format) {
  return format.is_string() && (format == "date" || format == "time" || format == "date-time");
}

// Works around two Valijson 1.0 gaps without changing what the schema means:
//  - it applies its date/time format checks to values of every type, while draft-07 applies
//    `format` to strings only: each such `format` becomes
//    `allOf: [{if: {type: string}, then: {format: ...}}]`;
//  - it refuses integral decimals (2.0) where a count is expected (maxItems, minLength, ...).
void NormalizeSchema(Json& schema) {
  if (!schema.is_object()) return;
  static const char* kCounts[] = {"maxItems",  "minItems",      "maxLength",
                                  "minLength", "maxProperties", "minProperties"};
  for (const char* key : kCounts) {
    auto it = schema.find(key);
    if (it != schema.end() && it->is_number_float()) {
      double d = it->get<double>();
      if (d >= 0 && d == static_cast<double>(static_cast<uint64_t>(d)))
        *it = static_cast<uint64_t>(d);
    }
  }
  static const char* kSingle[] = {"additionalItems",
                                  "additionalProperties",
                                  "contains",
                                  "else",
                                  "if",
                                  "items",
                                  "not",
                                  "propertyNames",
                                  "then"};
  static const char* kMaps[] = {"definitions", "$defs", "dependencies", "patternProperties",
                                "properties"};
  static const char* kLists[] = {"allOf", "anyOf", "oneOf", "items"};
  for (const char* key : kSingle) {
    if (auto it = schema.find(key); it != schema.end()) NormalizeSchema(*it);
  }
  for (const char* key : kMaps) {
    if (auto it = schema.find(key); it != schema.end() && it->is_object()) {
      for (auto& [name, sub] : it->items()) NormalizeSchema(sub);
    }
  }
  for (const char* key : kLists) {
    if (auto it = schema.find(key); it != schema.end() && it->is_array()) {
      for (auto& sub : *it) NormalizeSchema(sub);
    }
  }
  auto format = schema.find("format");
  if (format == schema.end() || !IsCheckedFormat(*format)) return;
  Json guard = {{"if", {{"type", "string"}}}, {"then", {{"format", *format}}}};
  schema.erase(format);
  Json& all = schema["allOf"];
  if (!all.is_array()) all = Json::array();
  all.push_back(std::move(guard));
}

bool HasIntegralFloat(const Json& v) {
  if (v.is_number_float()) {
    double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
  }
  if (v.is_structured()) {
    for (const auto& e : v) {
      if (HasIntegralFloat(e)) return true;
    }
  }
  return false;
}

// Draft-07 counts 1.0 as an integer; Valijson checks the stored type. Returns a copy with
// integral decimals stored as integers.
Json IntegralFloatsAsIntegers(const Json& v) {
  if (v.is_number_float()) return NumberToJson(v.get<double>());
  if (v.is_object()) {
    Json out = Json::object();
    for (const auto& [k, e] : v.items()) out[k] = IntegralFloatsAsIntegers(e);
    return out;
  }
  if (v.is_array()) {
    Json out = Json::array();
    for (const auto& e : v) out.push_back(IntegralFloatsAsIntegers(e));
    return out;
  }
  return v;
}

// Combinator summaries that say nothing beyond the violations found at the same place.
bool IsSummaryKeyword(const std::string& keyword) {
  return keyword == "allOf" || keyword == "if";
}

}  // namespace

std::string SchemaViolation::ToString() const {
  return (instance_path.empty() ? std::string("(root)") : instance_path) + ": " + keyword + ": " +
         message;
}

Result<JsonSchema> JsonSchema::Compile(const Json& schema) {
  if (!schema.is_object() && !schema.is_boolean()) {
    return InvalidArgument(std::string("a schema must be an object or a boolean, got ") +
                           JsonTypeName(schema));
  }
  SCAFFOLD_RETURN_IF_ERROR(CheckRefs(schema, ""));
  JsonSchema out;
  out.source_ = std::make_shared<const Json>(schema);
  // Valijson accepts a boolean root schema but does not apply it; handle true/false here.
  if (schema.is_boolean()) return out;
  auto compiled = std::make_shared<valijson::Schema>();
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    Json guarded = schema;
    NormalizeSchema(guarded);
    valijson::adapters::NlohmannJsonAdapter adapter(guarded);
    parser.populateSchema(adapter, *compiled);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("invalid schema: ") + e.what());
  }
  out.schema_ = std::move(compiled);
  return out;
}

std::vector<SchemaViolation> JsonSchema::Validate(const Json& instance) const {
  if (!schema_) {
    if (source_->get<bool>()) return {};
    return {{"", "false", "the schema is false: no value is valid"}};
  }
  valijson::Validator validator;
  valijson::ValidationResults results;
  Json normalized;
  const Json* target = &instance;
  if (HasIntegralFloat(instance)) {
    normalized = IntegralFloatsAsIntegers(instance);
    target = &normalized;
  }
  valijson::adapters::NlohmannJsonAdapter adapter(*target);
  if (validator.validate(*schema_, adapter, &results)) return {};

  std::vector<valijson::ValidationResults::Error> errors;
  valijson::ValidationResults::Error error;
  while (results.popError(error)) errors.push_back(error);
  if (errors.empty()) {
    // Valijson's propertyNames check fails without recording why.
    bool names = source_->dump().find("\"propertyNames\"") != std::string::npos;
    return {{"", names ? "propertyNames" : "schema",
             names ? "a property name is not allowed by propertyNames"
                   : "the value does not match the schema"}};
  }

  std::vector<SchemaViolation> out;
  for (size_t i = 0; i < errors.size(); ++i) {
    bool summary = false;
    for (size_t j = 0; j < errors.size() && !summary; ++j) {
      summary = j != i && IsPrefixOf(errors[i].context, errors[j].context);
    }
    if (summary) continue;
    SchemaViolation v{PointerOf(errors[i].context), KeywordOf(errors[i].description),
                      errors[i].description};
    bool duplicate = false;
    for (const auto& seen : out) {
      duplicate |= seen.instance_path == v.instance_path && seen.message == v.message;
    }
    if (!duplicate) out.push_back(std::move(v));
  }
  std::vector<SchemaViolation> specific;
  for (const auto& v : out) {
    bool redundant = false;
    if (IsSummaryKeyword(v.keyword)) {
      for (const auto& other : out) {
        redundant |= &other != &v && other.instance_path == v.instance_path &&
                     !IsSummaryKeyword(other.keyword);
      }
    }
    if (!redundant) specific.push_back(v);
  }
  return specific;
}

std::string DescribeViolations(const std::vector<SchemaViolation>& violations) {
  std::string out;
  for (const auto& v : violations) {
    if (!out.empty()) out += "; ";
    out += v.ToString();
  }
  return out;
}

}  // namespace scaffold::engine
