#include "engine/json.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <set>
#include <vector>

namespace scaffold {
namespace {

// nlohmann's own DOM builder behind a SAX filter that counts nesting and, when asked, keys: the
// parser itself is iterative, so refusing to open a container past the limit bounds everything.
template <typename J>
class BoundedSax {
 public:
  BoundedSax(J* root, const JsonParseOptions& options) : dom_(*root, false), options_(options) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(typename J::number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(typename J::number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(typename J::number_float_t v, const typename J::string_t& s) {
    return dom_.number_float(v, s);
  }
  bool string(typename J::string_t& v) { return dom_.string(v); }
  bool binary(typename J::binary_t& v) { return dom_.binary(v); }
  bool start_object(std::size_t n) {
    if (!Enter()) return false;
    if (options_.unique_keys) keys_.emplace_back();
    return dom_.start_object(n);
  }
  bool key(typename J::string_t& k) {
    if (options_.unique_keys && !keys_.back().insert(k).second) {
      error_ = "duplicate key \"" + k.substr(0, 64) + "\"";
      return false;
    }
    return dom_.key(k);
  }
  bool end_object() {
    --depth_;
    if (options_.unique_keys) keys_.pop_back();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) {
    if (!Enter()) return false;
    return dom_.start_array(n);
  }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..." -> the part after
    // the tag.
    if (auto close = what.find("] "); close != std::string::npos && what[0] == '[')
      what = what.substr(close + 2);
    error_ = "invalid JSON: " + what;
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  bool Enter() {
    if (++depth_ > options_.max_depth) {
      error_ = "JSON nested deeper than " + std::to_string(options_.max_depth) + " levels";
      return false;
    }
    return true;
  }

  nlohmann::detail::json_sax_dom_parser<J> dom_;
  const JsonParseOptions& options_;
  int depth_ = 0;
  std::vector<std::set<typename J::string_t>> keys_;
  std::string error_;
};

template <typename J>
Result<J> ParseBounded(std::string_view text, const JsonParseOptions& options) {
  J root;
  BoundedSax<J> sax(&root, options);
  bool ok = false;
  try {
    ok = J::sax_parse(text.begin(), text.end(), &sax);
  } catch (const std::exception& e) {  // allocation failure; nlohmann reports the rest as errors
    return InvalidArgument(std::string("invalid JSON: ") + e.what());
  }
  if (!ok) return InvalidArgument(sax.error().empty() ? "invalid JSON" : sax.error());
  return root;
}

}  // namespace

Result<Json> ParseJson(std::string_view text, const JsonParseOptions& options) {
  return ParseBounded<Json>(text, options);
}

int JsonDepth(const Json& value, int limit) {
  // (container, depth of the container)
  std::vector<std::pair<const Json*, int>> stack;
  int deepest = 0;
  if (value.is_structured()) stack.push_back({&value, 1});
  while (!stack.empty()) {
    auto [v, d] = stack.back();
    stack.pop_back();
    deepest = std::max(deepest, d);
    if (deepest > limit) return deepest;
    for (const auto& child : *v) {
      if (child.is_structured()) stack.push_back({&child, d + 1});
    }
  }
  return deepest;
}

std::string DumpJson(const Json& value) {
  std::string out;
  AppendJson(value, &out);
  return out;
}

namespace {

void AppendWithLibrary(const Json& value, std::string* out) {
  nlohmann::detail::serializer<Json> serializer(
      nlohmann::detail::output_adapter<char, std::string>(*out), ' ',
      Json::error_handler_t::replace);
  serializer.dump(value, false, false, 0);
}

// Printable ASCII other than the quote and the backslash: copied as it is.
bool IsPlainAscii(const std::string& text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\') return false;
  }
  return true;
}

}  // namespace

void AppendJsonString(const std::string& text, std::string* out) {
  if (!IsPlainAscii(text)) return AppendWithLibrary(Json(text), out);
  out->push_back('"');
  out->append(text);
  out->push_back('"');
}

// The library's serializer writes a character at a time; events are mostly plain ASCII
// strings and integers, written here in spans. Anything else (escapes, UTF-8, floating point)
// is left to the library, so the text is byte for byte DumpJson's.
void AppendJson(const Json& value, std::string* out) {
  switch (value.type()) {
    case Json::value_t::object: {
      out->push_back('{');
      bool first = true;
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(it.key(), out);
        out->push_back(':');
        AppendJson(it.value(), out);
      }
      out->push_back('}');
      return;
    }
    case Json::value_t::array: {
      out->push_back('[');
      bool first = true;
      for (const auto& item : value) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(item, out);
      }
      out->push_back(']');
      return;
    }
    case Json::value_t::string:
      return AppendJsonString(value.get_ref<const std::string&>(), out);
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: {
      char buf[24];
      auto res = value.is_number_unsigned()
                     ? std::to_chars(buf, buf + sizeof buf, value.get<uint64_t>())
                     : std::to_chars(buf, buf + sizeof buf, value.get<int64_t>());
      out->append(buf, res.ptr);
      return;
    }
    case Json::value_t::boolean:
      out->append(value.get<bool>() ? "true" : "false");
      return;
    case Json::value_t::null:
      out->append("null");
      return;
    default:
      return AppendWithLibrary(value, out);
  }
}

namespace {
template <typename J>
const char* TypeNameOf(const J& value) {
  switch (value.type()) {
    case J::value_t::object:
      return "object";
    case J::value_t::array:
      return "array";
    case J::value_t::string:
      return "string";
    case J::value_t::boolean:
      return "boolean";
    case J::value_t::number_integer:
    case J::value_t::number_unsigned:
    case J::value_t::number_float:
      return "number";
    case J::value_t::null:
      return "null";
    default:
      return "value";
  }
}
}  // namespace

const char* JsonTypeName(const Json& value) {
  return TypeNameOf(value);
}
const char* JsonTypeName(const OrderedJson& value) {
  return TypeNameOf(value);
}

size_t FindInvalidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    bool overlong =
        (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

bool IsValidUtf8(std::string_view text) {
  return FindInvalidUtf8(text) == std::string_view::npos;
}

std::string EscapePointerToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string AppendPointer(const std::string& pointer, std::string_view token) {
  return pointer + "/" + EscapePointerToken(token);
}

std::string AppendPointer(const std::string& pointer, size_t index) {
  return pointer + "/" + std::to_string(index);
}

Json NumberToJson(double value) {
  if (std::isfinite(value) && std::floor(value) == value &&
      std::fabs(value) < 9007199254740992.0 /* 2^53 */) {
    return Json(static_cast<int64_t>(value));
  }
  if (!std::isfinite(value)) return Json(nullptr);
  return Json(value);
}

Json ToJson(const OrderedJson& value) {
  switch (value.type()) {
    case OrderedJson::value_t::object: {
      Json out = Json::object();
      for (const auto& [k, v] : value.items()) out[k] = ToJson(v);
      return out;
    }
    case OrderedJson::value_t::array: {
      Json out = Json::array();
      for (const auto& v : value) out.push_back(ToJson(v));
      return out;
    }
    case OrderedJson::value_t::string:
      return value.get<std::string>();
    case OrderedJson::value_t::boolean:
      return value.get<bool>();
    case OrderedJson::value_t::number_integer:
      return value.get<int64_t>();
    case OrderedJson::value_t::number_unsigned:
      return value.get<uint64_t>();
    case OrderedJson::value_t::number_float:
      return value.get<double>();
    default:
      return nullptr;
  }
}

}  // namespace scaffold
