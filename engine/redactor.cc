#include "engine/redactor.h"

namespace scaffold::engine {

Result<Redactor> Redactor::Compile(const std::vector<std::string>& patterns) {
  Redactor r;
  for (const auto& p : patterns) {
    if (p.empty()) return InvalidArgument("--redact: an empty pattern would match everywhere");
    try {
      r.regexes_.emplace_back(p, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      return InvalidArgument("--redact " + p + ": not a valid regular expression (" + e.what() + ")");
    }
    r.patterns_.push_back(p);
  }
  return r;
}

std::string Redactor::Apply(const std::string& text) const {
  std::string out = text;
  for (const auto& re : regexes_) out = std::regex_replace(out, re, kRedacted);
  return out;
}

Json Redactor::Apply(const Json& value) const {
  if (regexes_.empty()) return value;
  if (value.is_string()) return Apply(value.get<std::string>());
  if (value.is_object()) {
    Json out = Json::object();
    for (const auto& [k, v] : value.items()) out[k] = Apply(v);
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (const auto& v : value) out.push_back(Apply(v));
    return out;
  }
  return value;
}

}  // namespace scaffold::engine
