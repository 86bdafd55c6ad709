// Helpers shared by the fuzz targets: splitting one input into parts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace scaffold::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The first line and the rest: "rule\ndata" -> {"rule", "data"}.
inline std::pair<std::string_view, std::string_view> SplitFirstLine(std::string_view text) {
  size_t eol = text.find('\n');
  if (eol == std::string_view::npos) return {text, {}};
  return {text.substr(0, eol), text.substr(eol + 1)};
}

}  // namespace scaffold::fuzz
