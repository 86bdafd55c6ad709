#include "engine/schema.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "engine/schema_node.h"

namespace scaffold::engine {
namespace {

using schema::Compiled;
using schema::Format;
using schema::kNone;
using schema::Node;

unsigned TypeBits(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return schema::kNull;
    case Json::value_t::boolean:
      return schema::kBoolean;
    case Json::value_t::object:
      return schema::kObject;
    case Json::value_t::array:
      return schema::kArray;
    case Json::value_t::string:
      return schema::kString;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return schema::kNumber | schema::kInteger;
    case Json::value_t::number_float: {
      double d = v.get<double>();
      unsigned integer = std::isfinite(d) && std::floor(d) == d ? schema::kInteger : 0u;
      return schema::kNumber | integer;
    }
    default:
      return 0;
  }
}

std::string TypeNames(unsigned types) {
  static const std::pair<unsigned, const char*> kNames[] = {
      {schema::kNull, "null"},     {schema::kBoolean, "boolean"}, {schema::kObject, "object"},
      {schema::kArray, "array"},   {schema::kNumber, "number"},   {schema::kString, "string"},
      {schema::kInteger, "integer"}};
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (types & bit) out += (out.empty() ? "" : " or ") + std::string(name);
  }
  return out;
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Short(const Json& v) {
  std::string text = DumpJson(v);
  return text.size() > 80 ? text.substr(0, 77) + "..." : text;
}

std::string Number(double d) {
  return DumpJson(NumberToJson(d));
}

// RFC 3339 full-date, partial-time with offset, and date-time.
bool Digits(std::string_view s, size_t at, size_t n, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

bool IsDate(std::string_view s) {
  int y = 0, m = 0, d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !Digits(s, 0, 4, &y) ||
      !Digits(s, 5, 2, &m) || !Digits(s, 8, 2, &d) || m < 1 || m > 12 || d < 1)
    return false;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

bool IsTime(std::string_view s) {
  int h = 0, m = 0, sec = 0;
  if (s.size() < 9 || s[2] != ':' || s[5] != ':' || !Digits(s, 0, 2, &h) ||
      !Digits(s, 3, 2, &m) || !Digits(s, 6, 2, &sec) || h > 23 || m > 59 || sec > 60)
    return false;
  size_t i = 8;
  if (s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  if (i == s.size()) return false;
  if (s[i] == 'Z' || s[i] == 'z') return i + 1 == s.size();
  int oh = 0, om = 0;
  return (s[i] == '+' || s[i] == '-') && s.size() == i + 6 && s[i + 3] == ':' &&
         Digits(s, i + 1, 2, &oh) && Digits(s, i + 4, 2, &om) && oh <= 23 && om <= 59;
}

bool IsDateTime(std::string_view s) {
  return s.size() > 11 && (s[10] == 'T' || s[10] == 't') && IsDate(s.substr(0, 10)) &&
         IsTime(s.substr(11));
}

// A text form equal for equal JSON values (1 and 1.0 alike), for uniqueItems.
void Canonical(const Json& v, std::string* out) {
  switch (v.type()) {
    case Json::value_t::object:
      *out += '{';
      for (const auto& [k, e] : v.items()) {
        *out += DumpJson(Json(k));
        *out += ':';
        Canonical(e, out);
        *out += ',';
      }
      *out += '}';
      return;
    case Json::value_t::array:
      *out += '[';
      for (const auto& e : v) {
        Canonical(e, out);
        *out += ',';
      }
      *out += ']';
      return;
    case Json::value_t::number_float:
      *out += DumpJson(NumberToJson(v.get<double>()));
      return;
    default:
      *out += DumpJson(v);
  }
}

class Validator {
 public:
  explicit Validator(const Compiled& c) : c_(c) {}

  // Applies node `index` to `v`, found at path_. Violations go to `out`; with `out` null only
  // the answer matters and the first failure ends the check.
  bool Check(int index, const Json& v, int depth, std::vector<SchemaViolation>* out) {
    if (aborted_) return false;
    if (++steps_ > kMaxValidationSteps) {
      return Abort("the value is too large, or the schema too complex, to validate (over " +
                   std::to_string(kMaxValidationSteps) + " steps)");
    }
    if (depth > kMaxValidationDepth) {
      return Abort("the schema applies more than " + std::to_string(kMaxValidationDepth) +
                   " nested subschemas here");
    }
    const Node& n = c_.nodes[index];
    if (n.constant) {
      if (*n.constant) return true;
      Report(out, "false", "no value is allowed here");
      return false;
    }
    if (n.ref != kNone) return Check(n.ref, v, depth + 1, out);

    bool ok = true;
    // Records a failed keyword; false when the check can stop here.
    auto fail = [&](const char* keyword, std::string message) {
      ok = false;
      Report(out, keyword, std::move(message));
      return out != nullptr;
    };

    unsigned bits = TypeBits(v);
    if (n.types && !(n.types & bits)) {
      if (!fail("type", "expected " + TypeNames(n.types) + ", got " +
                            TypeNames(bits & ~schema::kInteger)))
        return false;
    }
    if (n.enum_values &&
        std::none_of(n.enum_values->begin(), n.enum_values->end(),
                     [&](const Json& e) { return e == v; })) {
      std::string allowed;
      for (const auto& e : *n.enum_values) {
        if (allowed.size() > 120) {
          allowed += ", ...";
          break;
        }
        allowed += (allowed.empty() ? "" : ", ") + Short(e);
      }
      if (!fail("enum", "must be one of " + allowed + "; got " + Short(v))) return false;
    }
    if (n.const_value && !(*n.const_value == v)) {
      if (!fail("const", "must be " + Short(*n.const_value))) return false;
    }
    if (v.is_number() && !CheckNumber(n, v, fail)) return false;
    if (v.is_string() && !CheckString(n, v.get_ref<const std::string&>(), fail)) return false;
    if (v.is_array() && !CheckArray(n, v, depth, out, fail)) {
      ok = false;
      if (!out) return false;
    }
    if (v.is_object() && !CheckObject(n, v, depth, out, fail)) {
      ok = false;
      if (!out) return false;
    }

    for (int sub : n.all_of) {
      if (!Check(sub, v, depth + 1, out)) {
        ok = false;
        if (!out) return false;
      }
    }
    if (!n.any_of.empty()) {
      bool any = false;
      for (int sub : n.any_of) {
        if ((any = Check(sub, v, depth + 1, nullptr))) break;
      }
      if (!any && !fail("anyOf", "matches none of the " + std::to_string(n.any_of.size()) +
                                     " schemas of anyOf"))
        return false;
    }
    if (!n.one_of.empty()) {
      size_t matched = 0;
      for (int sub : n.one_of) matched += Check(sub, v, depth + 1, nullptr);
      if (matched != 1 &&
          !fail("oneOf", matched == 0 ? "matches none of the " +
                                            std::to_string(n.one_of.size()) +
                                            " schemas of oneOf"
                                      : "matches " + std::to_string(matched) +
                                            " schemas of oneOf; exactly one must match"))
        return false;
    }
    if (n.not_ != kNone && Check(n.not_, v, depth + 1, nullptr)) {
      if (!fail("not", "must not match the schema of not")) return false;
    }
    if (n.if_ != kNone) {
      int branch = Check(n.if_, v, depth + 1, nullptr) ? n.then_ : n.else_;
      if (branch != kNone && !Check(branch, v, depth + 1, out)) {
        ok = false;
        if (!out) return false;
      }
    }
    return ok && !aborted_;
  }

  bool aborted() const { return aborted_; }
  std::vector<SchemaViolation> abort_violations() const { return {abort_}; }

 private:
  template <typename Fail>
  bool CheckNumber(const Node& n, const Json& v, Fail& fail) {
    double d = v.get<double>();
    if (n.minimum && d < *n.minimum && !fail("minimum", "must be at least " + Number(*n.minimum)))
      return false;
    if (n.maximum && d > *n.maximum && !fail("maximum", "must be at most " + Number(*n.maximum)))
      return false;
    if (n.exclusive_minimum && d <= *n.exclusive_minimum &&
        !fail("exclusiveMinimum", "must be greater than " + Number(*n.exclusive_minimum)))
      return false;
    if (n.exclusive_maximum && d >= *n.exclusive_maximum &&
        !fail("exclusiveMaximum", "must be less than " + Number(*n.exclusive_maximum)))
      return false;
    if (n.multiple_of && !IsMultiple(v, *n.multiple_of) &&
        !fail("multipleOf", "must be a multiple of " + Short(*n.multiple_of)))
      return false;
    return true;
  }

  static bool IsMultiple(const Json& v, const Json& m) {
    if (v.is_number_integer() && m.is_number_integer() && !v.is_number_unsigned() &&
        !m.is_number_unsigned()) {
      return v.get<int64_t>() % m.get<int64_t>() == 0;
    }
    double q = v.get<double>() / m.get<double>();
    if (!std::isfinite(q)) return false;
    return std::fabs(q - std::round(q)) <= 1e-9 * std::max(1.0, std::fabs(q));
  }

  template <typename Fail>
  bool CheckString(const Node& n, const std::string& s, Fail& fail) {
    if (n.min_length || n.max_length) {
      size_t length = CodePoints(s);
      if (n.min_length && length < *n.min_length &&
          !fail("minLength", "must be at least " + std::to_string(*n.min_length) +
                                 " characters long"))
        return false;
      if (n.max_length && length > *n.max_length &&
          !fail("maxLength", "must be at most " + std::to_string(*n.max_length) +
                                 " characters long"))
        return false;
    }
    if (n.pattern && !RE2::PartialMatch(s, *n.pattern->re) &&
        !fail("pattern", "does not match the pattern " + n.pattern->source))
      return false;
    bool format_ok = true;
    switch (n.format) {
      case Format::kNone:
        break;
      case Format::kDate:
        format_ok = IsDate(s);
        break;
      case Format::kTime:
        format_ok = IsTime(s);
        break;
      case Format::kDateTime:
        format_ok = IsDateTime(s);
        break;
    }
    if (!format_ok) {
      static const char* kNames[] = {"", "date (YYYY-MM-DD)", "time (hh:mm:ssZ)",
                                     "date-time (RFC 3339)"};
      if (!fail("format", std::string("is not a valid ") + kNames[static_cast<int>(n.format)]))
        return false;
    }
    return true;
  }

  template <typename Fail>
  bool CheckArray(const Node& n, const Json& v, int depth, std::vector<SchemaViolation>* out,
                  Fail& fail) {
    if (n.min_items && v.size() < *n.min_items &&
        !fail("minItems", "must have at least " + std::to_string(*n.min_items) + " items"))
      return false;
    if (n.max_items && v.size() > *n.max_items &&
        !fail("maxItems", "must have at most " + std::to_string(*n.max_items) + " items"))
      return false;
    if (n.unique_items && v.size() > 1) {
      std::unordered_set<std::string> seen;
      for (size_t i = 0; i < v.size(); ++i) {
        if (JsonDepth(v[i], kMaxValidationDepth) > kMaxValidationDepth)
          return Abort("an item nests too deeply to compare");
        steps_ += 1;
        std::string key;
        Canonical(v[i], &key);
        if (!seen.insert(std::move(key)).second) {
          if (!fail("uniqueItems", "item " + std::to_string(i) + " repeats an earlier item"))
            return false;
          break;
        }
      }
    }
    bool ok = true;
    for (size_t i = 0; i < v.size(); ++i) {
      int sub = n.has_item_list ? (i < n.item_list.size() ? n.item_list[i] : n.additional_items)
                                : n.items;
      if (sub == kNone) continue;
      size_t mark = Enter(i);
      bool item_ok = Check(sub, v[i], depth + 1, out);
      Leave(mark);
      if (!item_ok) {
        ok = false;
        if (!out) return false;
      }
    }
    if (n.contains != kNone) {
      bool found = false;
      for (size_t i = 0; i < v.size() && !found; ++i) {
        size_t mark = Enter(i);
        found = Check(n.contains, v[i], depth + 1, nullptr);
        Leave(mark);
      }
      if (!found && !fail("contains", "no item matches the schema of contains")) return false;
    }
    return ok;
  }

  template <typename Fail>
  bool CheckObject(const Node& n, const Json& v, int depth, std::vector<SchemaViolation>* out,
                   Fail& fail) {
    if (n.min_properties && v.size() < *n.min_properties &&
        !fail("minProperties",
              "must have at least " + std::to_string(*n.min_properties) + " properties"))
      return false;
    if (n.max_properties && v.size() > *n.max_properties &&
        !fail("maxProperties",
              "must have at most " + std::to_string(*n.max_properties) + " properties"))
      return false;
    for (const auto& name : n.required) {
      if (!v.contains(name) &&
          !fail("required", "missing required property \"" + name + "\""))
        return false;
    }
    for (const auto& [name, names] : n.dependent_required) {
      if (!v.contains(name)) continue;
      for (const auto& other : names) {
        if (!v.contains(other) &&
            !fail("dependencies", "property \"" + name + "\" requires property \"" + other + "\""))
          return false;
      }
    }
    bool ok = true;
    for (const auto& [name, sub] : n.dependent_schemas) {
      if (v.contains(name) && !Check(sub, v, depth + 1, out)) {
        ok = false;
        if (!out) return false;
      }
    }
    for (const auto& [key, value] : v.items()) {
      if (n.property_names != kNone && !Check(n.property_names, Json(key), depth + 1, nullptr)) {
        if (!fail("propertyNames", "the property name \"" + key.substr(0, 80) +
                                       "\" does not match the schema of propertyNames"))
          return false;
      }
      bool matched = false;
      size_t mark = Enter(key);
      auto prop = std::lower_bound(n.properties.begin(), n.properties.end(), key,
                                   [](const auto& p, const std::string& k) { return p.first < k; });
      if (prop != n.properties.end() && prop->first == key) {
        matched = true;
        if (!Check(prop->second, value, depth + 1, out)) ok = false;
      }
      for (const auto& [pattern, sub] : n.pattern_properties) {
        if (!RE2::PartialMatch(key, *pattern.re)) continue;
        matched = true;
        if (!Check(sub, value, depth + 1, out)) ok = false;
      }
      if (!matched && n.additional_properties != kNone) {
        const Node& extra = c_.nodes[n.additional_properties];
        if (extra.constant && !*extra.constant) {
          ok = false;
          Report(out, "additionalProperties", "the property \"" + key.substr(0, 80) +
                                                  "\" is not allowed here");
        } else if (!Check(n.additional_properties, value, depth + 1, out)) {
          ok = false;
        }
      }
      Leave(mark);
      if (!ok && !out) return false;
    }
    return ok;
  }

  size_t Enter(size_t index) {
    size_t mark = path_.size();
    path_ += '/';
    path_ += std::to_string(index);
    return mark;
  }
  size_t Enter(const std::string& key) {
    size_t mark = path_.size();
    path_ += '/';
    path_ += EscapePointerToken(key);
    return mark;
  }
  void Leave(size_t mark) { path_.resize(mark); }

  void Report(std::vector<SchemaViolation>* out, const char* keyword, std::string message) {
    if (out) out->push_back({path_, keyword, std::move(message)});
  }

  bool Abort(std::string message) {
    if (!aborted_) abort_ = {path_, "schema", std::move(message)};
    aborted_ = true;
    return false;
  }

  const Compiled& c_;
  std::string path_;
  int64_t steps_ = 0;
  bool aborted_ = false;
  SchemaViolation abort_;
};

}  // namespace

std::string SchemaViolation::ToString() const {
  return (instance_path.empty() ? std::string("(root)") : instance_path) + ": " + keyword + ": " +
         message;
}

Result<JsonSchema> JsonSchema::Compile(const Json& source) {
  if (!source.is_object() && !source.is_boolean()) {
    return InvalidArgument(std::string("a schema must be an object or a boolean, got ") +
                           JsonTypeName(source));
  }
  if (JsonDepth(source, kMaxJsonDepth) > kMaxJsonDepth)
    return InvalidArgument("the schema nests deeper than " + std::to_string(kMaxJsonDepth) +
                           " levels");
  auto compiled = std::make_shared<schema::Compiled>();
  SCAFFOLD_RETURN_IF_ERROR(schema::CompileInto(source, compiled.get()));
  JsonSchema out;
  out.compiled_ = std::move(compiled);
  return out;
}

const Json& JsonSchema::source() const {
  return compiled_->source;
}

std::vector<SchemaViolation> JsonSchema::Validate(const Json& instance) const {
  Validator validator(*compiled_);
  std::vector<SchemaViolation> out;
  bool ok = validator.Check(0, instance, 0, &out);
  if (validator.aborted()) return validator.abort_violations();
  if (!ok && out.empty()) out.push_back({"", "schema", "the value does not match the schema"});
  return out;
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
