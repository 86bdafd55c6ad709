#include "engine/suggest.h"

#include <algorithm>

namespace scaffold {
namespace {

// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
// transpositions ("promtp" -> "prompt") each cost one edit.
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> before(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], before[j - 2] + 1);
      }
    }
    before.swap(prev);
    prev.swap(cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string ClosestMatch(std::string_view name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = static_cast<size_t>(-1);
  for (const auto& c : candidates) {
    size_t d = EditDistance(name, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  size_t limit = std::max<size_t>(1, name.size() / 3);
  if (best.empty() || best_distance == 0 || best_distance > limit) return {};
  return best;
}

std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates) {
  std::string best = ClosestMatch(name, candidates);
  if (best.empty()) return {};
  return " (did you mean \"" + best + "\"?)";
}

}  // namespace scaffold
