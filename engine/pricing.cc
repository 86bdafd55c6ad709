#include "engine/pricing.h"

#include <cstdio>
#include <cstdlib>

namespace scaffold::engine {

double ModelPrice::Cost(const Usage& u) const {
  return (static_cast<double>(u.input_tokens) * input +
          static_cast<double>(u.output_tokens) * output +
          static_cast<double>(u.cache_read_tokens) * cache_read +
          static_cast<double>(u.cache_write_tokens) * cache_write) /
         1e6;
}

PriceTable PriceTable::BuiltIn() {
  // Published list prices as of November 2026, USD per million tokens: input, output, cache
  // read, cache write. Override them in the workflow ("prices") or with --price.
  PriceTable t;
  t.prices_ = {
      {"claude-opus-4-5", {5, 25, 0.5, 6.25}},
      {"claude-opus-4-1", {15, 75, 1.5, 18.75}},
      {"claude-opus-4", {15, 75, 1.5, 18.75}},
      {"claude-sonnet-4-5", {3, 15, 0.3, 3.75}},
      {"claude-sonnet-4", {3, 15, 0.3, 3.75}},
      {"claude-3-7-sonnet", {3, 15, 0.3, 3.75}},
      {"claude-haiku-4-5", {1, 5, 0.1, 1.25}},
      {"claude-3-5-haiku", {0.8, 4, 0.08, 1}},
      {"gpt-5", {1.25, 10, 0.125, 0}},
      {"gpt-5-mini", {0.25, 2, 0.025, 0}},
      {"gpt-5-nano", {0.05, 0.4, 0.005, 0}},
      {"gpt-4.1", {2, 8, 0.5, 0}},
      {"gpt-4.1-mini", {0.4, 1.6, 0.1, 0}},
      {"gpt-4.1-nano", {0.1, 0.4, 0.025, 0}},
      {"gpt-4o", {2.5, 10, 1.25, 0}},
      {"gpt-4o-mini", {0.15, 0.6, 0.075, 0}},
      {"o3", {2, 8, 0.5, 0}},
      {"o4-mini", {1.1, 4.4, 0.275, 0}},
  };
  return t;
}

PriceTable PriceTable::BuiltIn(const std::map<std::string, ModelPrice>& overrides) {
  PriceTable t = BuiltIn();
  for (const auto& [model, price] : overrides) t.Set(model, price);
  return t;
}

std::optional<ModelPrice> PriceTable::Find(const std::string& model) const {
  if (auto it = prices_.find(model); it != prices_.end()) return it->second;
  const ModelPrice* best = nullptr;
  size_t best_len = 0;
  for (const auto& [name, price] : prices_) {
    // A dated or suffixed snapshot of a known model: "gpt-4o-2024-08-06", not "gpt-4o-mini".
    bool snapshot = model.size() > name.size() + 1 && model.compare(0, name.size(), name) == 0 &&
                    model[name.size()] == '-' &&
                    isdigit(static_cast<unsigned char>(model[name.size() + 1]));
    if (snapshot && name.size() > best_len) {
      best = &price;
      best_len = name.size();
    }
  }
  if (best) return *best;
  return std::nullopt;
}

Status PriceTable::SetFromFlag(const std::string& flag) {
  size_t eq = flag.find('=');
  if (eq == std::string::npos || eq == 0) {
    return InvalidArgument(
        "--price " + flag +
        ": expected MODEL=INPUT,OUTPUT[,CACHE_READ[,CACHE_WRITE]] in USD per million tokens");
  }
  double values[4] = {0, 0, 0, 0};
  int count = 0;
  std::string rest = flag.substr(eq + 1);
  size_t pos = 0;
  while (count < 4) {
    size_t comma = rest.find(',', pos);
    std::string part =
        rest.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    char* end = nullptr;
    double v = std::strtod(part.c_str(), &end);
    if (part.empty() || *end != '\0' || v < 0)
      return InvalidArgument("--price " + flag + ": \"" + part + "\" is not a price");
    values[count++] = v;
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (count < 2)
    return InvalidArgument("--price " + flag + ": give at least the input and output prices");
  prices_[flag.substr(0, eq)] = ModelPrice{values[0], values[1], values[2], values[3]};
  return Status::Ok();
}

std::string FormatCost(double dollars) {
  char buf[32];
  if (dollars > 0 && dollars < 0.0001) return "<$0.0001";
  if (dollars < 1) {
    std::snprintf(buf, sizeof buf, "$%.4f", dollars);
  } else {
    std::snprintf(buf, sizeof buf, "$%.2f", dollars);
  }
  return buf;
}

}  // namespace scaffold::engine
