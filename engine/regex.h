// Regular expressions. Every pattern scaffold matches against outside data (schema `pattern`
// and `patternProperties`, `--redact`) is compiled here with RE2: matching takes time linear
// in the subject and bounded memory, whatever the pattern and the subject. RE2's syntax is
// Perl's without the features that need backtracking, so a pattern with backreferences or
// lookaround is refused when it is compiled, with a message saying so.
#pragma once

#include <re2/re2.h>

#include <memory>
#include <string>

#include "engine/status.h"

namespace scaffold::engine {

inline constexpr size_t kMaxRegexBytes = 4096;
inline constexpr int64_t kMaxRegexMemory = 1 << 20;  // RE2's budget per compiled pattern

// Compiles `pattern`, or explains why it cannot be (kInvalidArgument).
Result<std::shared_ptr<const RE2>> CompileRegex(const std::string& pattern);

}  // namespace scaffold::engine
