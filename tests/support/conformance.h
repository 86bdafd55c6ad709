// Access to the upstream conformance suites in ../shared/conformance.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "engine/json.h"

namespace scaffold::testing {

inline std::string ConformancePath(const std::string& relative) {
  std::string path = SCAFFOLD_CONFORMANCE_DIR;  // appended to: GCC 12 at -O3 warns falsely on +
  path += '/';
  path += relative;
  return path;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline Json LoadConformance(const std::string& relative) {
  return Json::parse(ReadFile(ConformancePath(relative)));
}

}  // namespace scaffold::testing
