#include "engine/redactor.h"

namespace scaffold::engine {

Result<Redactor> Redactor::Compile(const std::vector<std::string>& patterns) {
  Redactor r;
  for (const auto& p : patterns) {
    if (p.empty()) return InvalidArgument("--redact: an empty pattern would match everywhere");
    auto re = CompileRegex(p);
    if (!re.ok()) return InvalidArgument("--redact: " + re.status().message());
    r.regexes_.push_back(std::move(re).value());
    r.patterns_.push_back(p);
  }
  return r;
}

std::string Redactor::Apply(const std::string& text) const {
  std::string out = text;
  for (const auto& re : regexes_) RE2::GlobalReplace(&out, *re, kRedacted);
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
