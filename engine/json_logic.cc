#include "engine/json_logic.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <map>

#include "engine/suggest.h"

namespace scaffold::engine {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Thrown inside the evaluator and turned into a Status at the public boundary.
struct LogicError {
  std::string path;
  std::string message;
};

// Where the evaluator is in the rule: a chain of frames on the stack, made into a JSON pointer
// only when an error names it.
struct RulePath {
  const RulePath* parent = nullptr;  // null for the rule itself
  std::string_view key;              // an operator, unless `is_index`
  size_t index = 0;
  bool is_index = false;

  RulePath Key(std::string_view k) const { return {this, k, 0, false}; }
  RulePath Index(size_t i) const { return {this, {}, i, true}; }
  std::string ToPointer() const {
    if (!parent) return "";
    std::string base = parent->ToPointer();
    return is_index ? AppendPointer(base, index) : AppendPointer(base, key);
  }
};

// ---- JavaScript coercions -----------------------------------------------------------------

std::string JsNumberToString(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d == 0) return "0";
  char buf[64];
  double a = std::fabs(d);
  auto fmt = (a >= 1e-6 && a < 1e21) ? std::chars_format::fixed : std::chars_format::scientific;
  auto res = std::to_chars(buf, buf + sizeof buf, d, fmt);
  return std::string(buf, res.ptr);
}

std::string ToJsString(const Json& v);

std::string JoinArray(const Json& arr) {
  std::string out;
  bool first = true;
  for (const auto& e : arr) {
    if (!first) out += ',';
    first = false;
    if (!e.is_null()) out += ToJsString(e);
  }
  return out;
}

std::string ToJsString(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case Json::value_t::string:
      return v.get<std::string>();
    case Json::value_t::number_integer:
      return std::to_string(v.get<int64_t>());
    case Json::value_t::number_unsigned:
      return std::to_string(v.get<uint64_t>());
    case Json::value_t::number_float:
      return JsNumberToString(v.get<double>());
    case Json::value_t::array:
      return JoinArray(v);
    default:
      return "[object Object]";
  }
}

bool IsJsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsJsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsJsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Length of the longest prefix of `s` that is a decimal literal (sign, digits, fraction,
// exponent), or 0 when there is none.
size_t DecimalPrefix(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) ++i, ++digits;
  }
  if (digits == 0) return 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    size_t exp_digits = 0;
    while (j < s.size() && isdigit(static_cast<unsigned char>(s[j]))) ++j, ++exp_digits;
    if (exp_digits > 0) i = j;
  }
  return i;
}

double ParseDecimal(std::string_view s) {
  std::string text(s);
  if (!text.empty() && text[0] == '+') text.erase(0, 1);
  return std::strtod(text.c_str(), nullptr);
}

// JavaScript Number(string).
double StringToNumber(std::string_view raw) {
  std::string_view s = Trim(raw);
  if (s.empty()) return 0;
  std::string_view unsigned_part = s;
  double sign = 1;
  if (s[0] == '+' || s[0] == '-') {
    sign = s[0] == '-' ? -1 : 1;
    unsigned_part = s.substr(1);
  }
  if (unsigned_part == "Infinity") return sign * std::numeric_limits<double>::infinity();
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    uint64_t value = 0;
    auto res = std::from_chars(s.data() + 2, s.data() + s.size(), value, 16);
    if (res.ec == std::errc() && res.ptr == s.data() + s.size()) return static_cast<double>(value);
    return kNaN;
  }
  size_t n = DecimalPrefix(s);
  if (n == 0 || n != s.size()) return kNaN;
  return ParseDecimal(s);
}

double ToNumber(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return 0;
    case Json::value_t::boolean:
      return v.get<bool>() ? 1 : 0;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return v.get<double>();
    case Json::value_t::string:
      return StringToNumber(v.get_ref<const std::string&>());
    case Json::value_t::array:
      return StringToNumber(JoinArray(v));
    default:
      return kNaN;
  }
}

// JavaScript parseFloat(String(v)).
double ParseFloat(const Json& v) {
  if (v.is_number()) return v.get<double>();
  std::string s = ToJsString(v);
  std::string_view t = s;
  while (!t.empty() && IsJsSpace(t.front())) t.remove_prefix(1);
  std::string_view unsigned_part = t;
  double sign = 1;
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) {
    sign = t[0] == '-' ? -1 : 1;
    unsigned_part = t.substr(1);
  }
  if (unsigned_part.substr(0, 8) == "Infinity")
    return sign * std::numeric_limits<double>::infinity();
  size_t n = DecimalPrefix(t);
  if (n == 0) return kNaN;
  return ParseDecimal(t.substr(0, n));
}

bool IsPrimitive(const Json& v) {
  return !v.is_object() && !v.is_array();
}

Json ToPrimitive(const Json& v) {
  if (v.is_array()) return JoinArray(v);
  if (v.is_object()) return "[object Object]";
  return v;
}

bool StrictEquals(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  if (a.type() != b.type()) return false;
  return a == b;
}

// JavaScript abstract equality (==).
bool LooseEquals(const Json& a, const Json& b) {
  if (a.is_null() || b.is_null()) return a.is_null() && b.is_null();
  if (a.is_number() && b.is_number()) return a.get<double>() == b.get<double>();
  if (a.type() == b.type()) return a == b;
  if (a.is_boolean()) return LooseEquals(Json(ToNumber(a)), b);
  if (b.is_boolean()) return LooseEquals(a, Json(ToNumber(b)));
  if (a.is_number() && b.is_string()) return a.get<double>() == ToNumber(b);
  if (a.is_string() && b.is_number()) return ToNumber(a) == b.get<double>();
  if (!IsPrimitive(a) && IsPrimitive(b)) return LooseEquals(ToPrimitive(a), b);
  if (IsPrimitive(a) && !IsPrimitive(b)) return LooseEquals(a, ToPrimitive(b));
  return false;
}

// JavaScript a < b (`or_equal` gives a <= b).
bool LessThan(const Json& a, const Json& b, bool or_equal) {
  Json pa = ToPrimitive(a), pb = ToPrimitive(b);
  if (pa.is_string() && pb.is_string()) {
    const auto& sa = pa.get_ref<const std::string&>();
    const auto& sb = pb.get_ref<const std::string&>();
    return or_equal ? sa <= sb : sa < sb;
  }
  double x = ToNumber(pa), y = ToNumber(pb);
  return or_equal ? x <= y : x < y;
}

// Code-point view of a UTF-8 string, for substr.
std::vector<std::string_view> CodePoints(const std::string& s) {
  std::vector<std::string_view> out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    len = std::min(len, s.size() - i);
    out.emplace_back(s.data() + i, len);
    i += len;
  }
  return out;
}

// JavaScript String.prototype.substr(start, length).
std::string JsSubstr(const std::string& s, double start, std::optional<double> length) {
  auto cps = CodePoints(s);
  double size = static_cast<double>(cps.size());
  if (std::isnan(start)) start = 0;
  start = std::trunc(start);
  if (start < 0) start = std::max(0.0, size + start);
  start = std::min(start, size);
  double len = length ? (std::isnan(*length) ? 0 : std::trunc(*length)) : size - start;
  len = std::clamp(len, 0.0, size - start);
  std::string out;
  for (size_t i = static_cast<size_t>(start); i < static_cast<size_t>(start + len); ++i)
    out += cps[i];
  return out;
}

// ---- Operator table ------------------------------------------------------------------------

struct OpInfo {
  int min_args;
  int max_args;  // -1: unbounded
};

const std::map<std::string, OpInfo, std::less<>>& Operators() {
  static const std::map<std::string, OpInfo, std::less<>> ops = {
      {"var", {0, 2}},    {"missing", {0, -1}}, {"missing_some", {2, 2}},
      {"if", {0, -1}},    {"?:", {0, -1}},      {"==", {2, 2}},
      {"===", {2, 2}},    {"!=", {2, 2}},       {"!==", {2, 2}},
      {"!", {1, 1}},      {"!!", {1, 1}},       {"or", {1, -1}},
      {"and", {1, -1}},   {">", {2, 2}},        {">=", {2, 2}},
      {"<", {2, 3}},      {"<=", {2, 3}},       {"max", {0, -1}},
      {"min", {0, -1}},   {"+", {0, -1}},       {"-", {1, 2}},
      {"*", {1, -1}},     {"/", {2, 2}},        {"%", {2, 2}},
      {"map", {2, 2}},    {"filter", {2, 2}},   {"reduce", {2, 3}},
      {"all", {2, 2}},    {"none", {2, 2}},     {"some", {2, 2}},
      {"merge", {0, -1}}, {"in", {2, 2}},       {"cat", {0, -1}},
      {"substr", {2, 3}}, {"log", {1, 1}},      {"preserve", {1, 1}},
  };
  return ops;
}

bool IsScopedOp(std::string_view op) {
  return op == "map" || op == "filter" || op == "reduce" || op == "all" || op == "none" ||
         op == "some";
}

bool IsOperation(const Json& rule) {
  return rule.is_object() && rule.size() == 1;
}

// The argument list of an operation: JSON Logic lets a single argument skip the array.
const Json& Args(const Json& value, Json* storage) {
  if (value.is_array()) return value;
  *storage = Json::array();
  storage->push_back(value);
  return *storage;
}

class Evaluator {
 public:
  Json Eval(const Json& rule, const Json& data, const RulePath& path) {
    if (rule.is_array()) {
      Json out = Json::array();
      for (size_t i = 0; i < rule.size(); ++i) out.push_back(Eval(rule[i], data, path.Index(i)));
      return out;
    }
    if (!IsOperation(rule)) return rule;
    const std::string& op = rule.begin().key();
    const Json& value = rule.begin().value();
    RulePath op_path = path.Key(op);
    if (op == "preserve") return value;
    // The most common rule, `{"var": "a.b"}`, is looked up without building argument lists.
    if (op == "var" && value.is_string()) {
      return Lookup(value.get_ref<const std::string&>(), data, nullptr);
    }
    Json storage;
    const Json& args = Args(value, &storage);
    if (auto lazy = EvalLazy(op, args, data, op_path)) return std::move(*lazy);

    Json vals = Json::array();
    vals.get_ref<Json::array_t&>().reserve(args.size());
    for (size_t i = 0; i < args.size(); ++i)
      vals.push_back(Eval(args[i], data, op_path.Index(i)));
    return Apply(op, vals, data, op_path);
  }

 private:
  // Operators that decide which arguments to evaluate.
  std::optional<Json> EvalLazy(const std::string& op, const Json& args, const Json& data,
                               const RulePath& path) {
    auto arg = [&](size_t i) { return path.Index(i); };
    if (op == "if" || op == "?:") {
      size_t i = 0;
      for (; i + 1 < args.size(); i += 2) {
        if (LogicTruthy(Eval(args[i], data, arg(i)))) return Eval(args[i + 1], data, arg(i + 1));
      }
      if (i < args.size()) return Eval(args[i], data, arg(i));
      return Json(nullptr);
    }
    if (op == "or" || op == "and") {
      Json current = nullptr;
      for (size_t i = 0; i < args.size(); ++i) {
        current = Eval(args[i], data, arg(i));
        bool truthy = LogicTruthy(current);
        if ((op == "or") == truthy) return current;
      }
      return current;
    }
    if (!IsScopedOp(op)) return std::nullopt;
    if (args.size() < 2) {
      throw LogicError{path.ToPointer(), "\"" + op + "\" needs a list and an expression"};
    }
    Json items = Eval(args[0], data, arg(0));
    const Json& body = args[1];
    if (op == "reduce") {
      Json acc = args.size() > 2 ? Eval(args[2], data, arg(2)) : Json(nullptr);
      if (!items.is_array()) return acc;
      for (const auto& current : items) {
        acc = Eval(body, Json{{"current", current}, {"accumulator", acc}}, arg(1));
      }
      return acc;
    }
    if (!items.is_array()) {
      if (op == "map" || op == "filter") return Json::array();
      if (op == "all") return Json(false);
      return Json(op == "none");
    }
    if (op == "map") {
      Json out = Json::array();
      for (const auto& item : items) out.push_back(Eval(body, item, arg(1)));
      return out;
    }
    if (op == "all") {
      if (items.empty()) return Json(false);
      for (const auto& item : items) {
        if (!LogicTruthy(Eval(body, item, arg(1)))) return Json(false);
      }
      return Json(true);
    }
    Json kept = Json::array();
    for (const auto& item : items) {
      if (LogicTruthy(Eval(body, item, arg(1)))) kept.push_back(item);
    }
    if (op == "filter") return kept;
    if (op == "some") return Json(!kept.empty());
    return Json(kept.empty());  // none
  }

  Json Var(const Json& vals, const Json& data) {
    if (vals.empty() || vals[0].is_null()) return data;
    Json fallback = vals.size() > 1 ? vals[1] : Json(nullptr);
    if (vals[0].is_string()) return Lookup(vals[0].get_ref<const std::string&>(), data, fallback);
    return Lookup(ToJsString(vals[0]), data, fallback);
  }

  // The value at a dotted name (object keys and array indexes), or `fallback`.
  static Json Lookup(std::string_view name, const Json& data, const Json& fallback) {
    if (name.empty()) return data;
    const Json* cur = &data;
    size_t start = 0;
    while (true) {
      size_t dot = name.find('.', start);
      std::string_view key =
          name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
      if (cur->is_object()) {
        auto it = cur->find(key);
        if (it == cur->end()) return fallback;
        cur = &*it;
      } else if (cur->is_array()) {
        size_t index = 0;
        auto res = std::from_chars(key.data(), key.data() + key.size(), index);
        if (res.ec != std::errc() || res.ptr != key.data() + key.size() || index >= cur->size()) {
          return fallback;
        }
        cur = &(*cur)[index];
      } else {
        return fallback;
      }
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    return *cur;
  }

  Json Missing(const Json& vals, const Json& data) {
    const Json& keys = (!vals.empty() && vals[0].is_array()) ? vals[0] : vals;
    Json missing = Json::array();
    for (const auto& key : keys) {
      Json value = Var(Json::array({key}), data);
      if (value.is_null() || (value.is_string() && value.get_ref<const std::string&>().empty())) {
        missing.push_back(key);
      }
    }
    return missing;
  }

  Json Apply(const std::string& op, const Json& vals, const Json& data, const RulePath& path) {
    auto num = [&](size_t i) { return i < vals.size() ? ToNumber(vals[i]) : kNaN; };
    auto at = [&](size_t i) { return i < vals.size() ? vals[i] : Json(nullptr); };
    if (op == "var") return Var(vals, data);
    if (op == "missing") return Missing(vals, data);
    if (op == "missing_some") {
      double need = num(0);
      Json options = at(1);
      if (!options.is_array()) options = Json::array();
      Json missing = Missing(Json::array({options}), data);
      if (static_cast<double>(options.size() - missing.size()) >= need) return Json::array();
      return missing;
    }
    if (op == "==") return LooseEquals(at(0), at(1));
    if (op == "===") return StrictEquals(at(0), at(1));
    if (op == "!=") return !LooseEquals(at(0), at(1));
    if (op == "!==") return !StrictEquals(at(0), at(1));
    if (op == "!") return !LogicTruthy(at(0));
    if (op == "!!") return LogicTruthy(at(0));
    if (op == ">") return LessThan(at(1), at(0), false);
    if (op == ">=") return LessThan(at(1), at(0), true);
    if (op == "<" || op == "<=") {
      bool eq = op == "<=";
      if (vals.size() >= 3) return LessThan(at(0), at(1), eq) && LessThan(at(1), at(2), eq);
      return LessThan(at(0), at(1), eq);
    }
    if (op == "max" || op == "min") {
      if (vals.empty()) return nullptr;
      double best = num(0);
      for (size_t i = 1; i < vals.size(); ++i) {
        double v = num(i);
        if (std::isnan(v) || std::isnan(best)) {
          best = kNaN;
        } else {
          best = op == "max" ? std::max(best, v) : std::min(best, v);
        }
      }
      return NumberToJson(best);
    }
    if (op == "+") {
      double sum = 0;
      for (const auto& v : vals) sum += ParseFloat(v);
      return NumberToJson(sum);
    }
    if (op == "*") {
      double product = 1;
      for (const auto& v : vals) product *= ParseFloat(v);
      return NumberToJson(product);
    }
    if (op == "-") {
      if (vals.size() == 1) return NumberToJson(-num(0));
      return NumberToJson(num(0) - num(1));
    }
    if (op == "/") return NumberToJson(num(0) / num(1));
    if (op == "%") return NumberToJson(std::fmod(num(0), num(1)));
    if (op == "merge") {
      Json out = Json::array();
      for (const auto& v : vals) {
        if (v.is_array()) {
          for (const auto& e : v) out.push_back(e);
        } else {
          out.push_back(v);
        }
      }
      return out;
    }
    if (op == "in") {
      const Json& hay = at(1);
      if (hay.is_string()) {
        return hay.get_ref<const std::string&>().find(ToJsString(at(0))) != std::string::npos;
      }
      if (hay.is_array()) {
        for (const auto& e : hay) {
          if (StrictEquals(e, at(0))) return true;
        }
      }
      return false;
    }
    if (op == "cat") {
      std::string out;
      for (const auto& v : vals) out += ToJsString(v);
      return out;
    }
    if (op == "substr") {
      std::string source = ToJsString(at(0));
      double start = num(1);
      if (vals.size() < 3 || vals[2].is_null()) return JsSubstr(source, start, std::nullopt);
      double end = num(2);
      if (end < 0) {
        std::string tail = JsSubstr(source, start, std::nullopt);
        double len = static_cast<double>(CodePoints(tail).size()) + end;
        return JsSubstr(tail, 0, len);
      }
      return JsSubstr(source, start, end);
    }
    if (op == "log") return at(0);
    throw LogicError{path.ToPointer(), "unknown operator \"" + op + "\""};
  }
};

std::vector<std::string> OperatorNames() {
  std::vector<std::string> names;
  for (const auto& [name, info] : Operators()) names.push_back(name);
  return names;
}

}  // namespace

bool LogicTruthy(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return false;
    case Json::value_t::boolean:
      return v.get<bool>();
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: {
      double d = v.get<double>();
      return d != 0 && !std::isnan(d);
    }
    case Json::value_t::string:
      return !v.get_ref<const std::string&>().empty();
    case Json::value_t::array:
      return !v.empty();
    default:
      return true;
  }
}

Result<Json> EvaluateLogic(const Json& rule, const Json& data) {
  try {
    return Evaluator().Eval(rule, data, RulePath{});
  } catch (const LogicError& e) {
    return InvalidArgument(e.message, e.path);
  }
}

void CheckLogic(const Json& rule, const std::string& base, std::vector<LogicIssue>* issues) {
  if (rule.is_array()) {
    for (size_t i = 0; i < rule.size(); ++i) CheckLogic(rule[i], AppendPointer(base, i), issues);
    return;
  }
  if (!IsOperation(rule)) return;
  const std::string& op = rule.begin().key();
  const Json& value = rule.begin().value();
  std::string path = AppendPointer(base, op);
  auto it = Operators().find(op);
  if (it == Operators().end()) {
    std::string hint = DidYouMean(op, OperatorNames());
    if (hint.empty()) hint = " (to use an object as a constant, wrap it: {\"preserve\": {...}})";
    issues->push_back({path, "unknown operator \"" + op + "\"" + hint});
    return;
  }
  if (op == "preserve") return;
  int count = value.is_array() ? static_cast<int>(value.size()) : 1;
  const OpInfo& info = it->second;
  if (count < info.min_args || (info.max_args >= 0 && count > info.max_args)) {
    std::string expected = info.min_args == info.max_args ? std::to_string(info.min_args)
                           : info.max_args < 0 ? "at least " + std::to_string(info.min_args)
                                               : std::to_string(info.min_args) + " to " +
                                                     std::to_string(info.max_args);
    issues->push_back({path, "\"" + op + "\" takes " + expected + " argument" +
                                 (expected == "1" ? "" : "s") + ", got " + std::to_string(count)});
  }
  if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) CheckLogic(value[i], AppendPointer(path, i), issues);
  } else {
    CheckLogic(value, path, issues);
  }
}

void CollectLogicVars(const Json& rule, const std::string& base, std::vector<LogicVar>* vars) {
  if (rule.is_array()) {
    for (size_t i = 0; i < rule.size(); ++i)
      CollectLogicVars(rule[i], AppendPointer(base, i), vars);
    return;
  }
  if (!IsOperation(rule)) return;
  const std::string& op = rule.begin().key();
  const Json& value = rule.begin().value();
  std::string path = AppendPointer(base, op);
  if (op == "preserve") return;
  if (op == "var") {
    const Json& name = value.is_array() ? (value.empty() ? Json() : value[0]) : value;
    if (name.is_string()) vars->push_back({name.get<std::string>(), path});
    if (value.is_array() && value.size() > 1)
      CollectLogicVars(value[1], AppendPointer(path, 1), vars);
    return;
  }
  if (IsScopedOp(op)) {
    // Only the list (and reduce's initial value) are evaluated in the outer scope.
    if (value.is_array() && !value.empty())
      CollectLogicVars(value[0], AppendPointer(path, 0), vars);
    if (op == "reduce" && value.is_array() && value.size() > 2) {
      CollectLogicVars(value[2], AppendPointer(path, 2), vars);
    }
    return;
  }
  if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i)
      CollectLogicVars(value[i], AppendPointer(path, i), vars);
  } else {
    CollectLogicVars(value, path, vars);
  }
}

bool CollectLogicResults(const Json& rule, std::vector<std::string>* results) {
  if (rule.is_string()) {
    results->push_back(rule.get<std::string>());
    return true;
  }
  if (!IsOperation(rule)) return !rule.is_array();
  const std::string& op = rule.begin().key();
  const Json& value = rule.begin().value();
  if (op == "preserve") {
    if (value.is_string()) results->push_back(value.get<std::string>());
    return true;
  }
  Json storage;
  const Json& args = Args(value, &storage);
  if (op == "if" || op == "?:") {
    bool all_known = true;
    size_t i = 1;
    for (; i < args.size(); i += 2) all_known &= CollectLogicResults(args[i], results);
    if (args.size() % 2 == 1) all_known &= CollectLogicResults(args.back(), results);
    return all_known;
  }
  if (op == "or" || op == "and") {
    bool all_known = true;
    for (const auto& a : args) all_known &= CollectLogicResults(a, results);
    return all_known;
  }
  return false;
}

}  // namespace scaffold::engine
