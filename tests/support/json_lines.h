// Output of `--json` commands: one JSON document per line.
#pragma once

#include <string>
#include <vector>

#include "engine/json.h"

namespace scaffold::testing {

inline std::vector<Json> ParseJsonLines(const std::string& text) {
  std::vector<Json> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (!line.empty()) out.push_back(Json::parse(line));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

}  // namespace scaffold::testing
