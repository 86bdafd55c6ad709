#include "engine/json_diff.h"

#include <algorithm>

namespace scaffold::engine {
namespace {

// Keeps whole UTF-8 sequences: moves `i` back to the start of the code point it is in.
size_t CharStart(const std::string& s, size_t i) {
  while (i > 0 && i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  return i;
}

std::string Quote(const std::string& s) { return DumpJson(Json(s)); }

std::string Render(const Json& v, size_t width) {
  std::string text = DumpJson(v);
  if (text.size() <= width) return text;
  size_t cut = CharStart(text, width);
  return text.substr(0, cut) + "…";
}

void Walk(const Json& a, const Json& b, const std::string& path, std::vector<JsonChange>* out, bool first_only) {
  if (first_only && !out->empty()) return;
  if (a.is_object() && b.is_object()) {
    for (const auto& [k, v] : a.items()) {
      auto it = b.find(k);
      if (it == b.end()) {
        out->push_back({JsonChange::Kind::kRemoved, AppendPointer(path, k), v, nullptr});
      } else {
        Walk(v, *it, AppendPointer(path, k), out, first_only);
      }
      if (first_only && !out->empty()) return;
    }
    for (const auto& [k, v] : b.items()) {
      if (!a.contains(k)) out->push_back({JsonChange::Kind::kAdded, AppendPointer(path, k), nullptr, v});
      if (first_only && !out->empty()) return;
    }
    return;
  }
  if (a.is_array() && b.is_array()) {
    size_t n = std::min(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
      Walk(a[i], b[i], AppendPointer(path, i), out, first_only);
      if (first_only && !out->empty()) return;
    }
    for (size_t i = n; i < a.size(); ++i) out->push_back({JsonChange::Kind::kRemoved, AppendPointer(path, i), a[i], nullptr});
    for (size_t i = n; i < b.size(); ++i) out->push_back({JsonChange::Kind::kAdded, AppendPointer(path, i), nullptr, b[i]});
    return;
  }
  bool equal = (a.is_number() && b.is_number()) ? a.get<double>() == b.get<double>() : a == b;
  if (!equal) out->push_back({JsonChange::Kind::kChanged, path, a, b});
}

}  // namespace

std::pair<std::string, std::string> ShortenAroundChange(const std::string& a, const std::string& b, size_t width) {
  if (a.size() <= width && b.size() <= width) return {a, b};
  size_t prefix = 0;
  while (prefix < a.size() && prefix < b.size() && a[prefix] == b[prefix]) ++prefix;
  size_t context = width / 3;
  size_t start = CharStart(a, prefix > context ? prefix - context : 0);
  auto cut = [&](const std::string& s) {
    std::string out = start > 0 ? "…" : "";
    size_t end = std::min(s.size(), start + width);
    end = end < s.size() ? CharStart(s, end) : end;
    out += s.substr(start, end - start);
    if (end < s.size()) out += "…";
    return out;
  };
  return {cut(a), cut(b)};
}

std::string JsonChange::ToString(size_t width) const {
  std::string where = path.empty() ? "(root)" : path;
  switch (kind) {
    case Kind::kAdded: return where + ": added " + Render(after, width);
    case Kind::kRemoved: return where + ": removed " + Render(before, width);
    case Kind::kChanged:
      if (before.is_string() && after.is_string()) {
        auto [x, y] = ShortenAroundChange(before.get<std::string>(), after.get<std::string>(), width);
        return where + ": " + Quote(x) + " → " + Quote(y);
      }
      return where + ": " + Render(before, width) + " → " + Render(after, width);
  }
  return where;
}

std::vector<JsonChange> DiffJson(const Json& before, const Json& after) {
  std::vector<JsonChange> out;
  Walk(before, after, "", &out, false);
  return out;
}

std::optional<JsonChange> FirstDifference(const Json& before, const Json& after) {
  std::vector<JsonChange> out;
  Walk(before, after, "", &out, true);
  if (out.empty()) return std::nullopt;
  return out.front();
}

}  // namespace scaffold::engine
