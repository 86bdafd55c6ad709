#include "engine/json.h"

#include <cmath>
#include <limits>

namespace scaffold {

std::string DumpJson(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
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
