#include "engine/regex.h"

namespace scaffold::engine {

Result<std::shared_ptr<const RE2>> CompileRegex(const std::string& pattern) {
  if (pattern.size() > kMaxRegexBytes) {
    return InvalidArgument("the pattern is over " + std::to_string(kMaxRegexBytes) + " bytes");
  }
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kMaxRegexMemory);
  auto re = std::make_shared<const RE2>(pattern, options);
  if (re->ok()) return re;
  std::string why = re->error();
  for (const char* look : {"(?=", "(?!", "(?<=", "(?<!"}) {
    if (pattern.find(look) != std::string::npos)
      why = "lookahead and lookbehind are not supported";
  }
  for (size_t i = 0; i + 1 < pattern.size(); ++i) {
    if (pattern[i] != '\\') continue;
    if (pattern[i + 1] >= '1' && pattern[i + 1] <= '9') why = "backreferences are not supported";
    ++i;
  }
  std::string shown = pattern.size() > 200 ? pattern.substr(0, 200) + "..." : pattern;
  return InvalidArgument("pattern \"" + shown + "\": " + why +
                         " (patterns use RE2 syntax and match in linear time)");
}

}  // namespace scaffold::engine
