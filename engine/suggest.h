// "Did you mean" suggestions for misspelt names in error messages.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace scaffold {

// The candidate closest to `name` by edit distance, if it is close enough to be a likely typo
// (distance at most max(1, len/3)); otherwise empty.
std::string ClosestMatch(std::string_view name, const std::vector<std::string>& candidates);

// " (did you mean \"x\"?)" when a close candidate exists, otherwise "".
std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace scaffold
