// What model calls cost: a price table in US dollars per million tokens, from list prices
// built in, the workflow's `prices` map and --price flags (later ones win). Models are matched
// by name, or by the longest known name they start with, so dated snapshots
// ("claude-sonnet-4-5-20250929") find their model's price. Unknown models have no price: the
// tokens are shown without a cost.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "engine/provider.h"
#include "engine/status.h"

namespace scaffold::engine {

struct ModelPrice {
  double input = 0;        // per million uncached input tokens
  double output = 0;       // per million output tokens
  double cache_read = 0;   // per million cached input tokens read
  double cache_write = 0;  // per million input tokens written to the cache

  double Cost(const Usage& usage) const;
};

class PriceTable {
 public:
  // List prices known to this build (see pricing.cc for the date).
  static PriceTable BuiltIn();
  // The same with `overrides` (a workflow's `prices`) put over them.
  static PriceTable BuiltIn(const std::map<std::string, ModelPrice>& overrides);

  void Set(const std::string& model, const ModelPrice& price) { prices_[model] = price; }
  std::optional<ModelPrice> Find(const std::string& model) const;

  // Parses a --price flag: MODEL=INPUT,OUTPUT[,CACHE_READ[,CACHE_WRITE]].
  Status SetFromFlag(const std::string& flag);

 private:
  std::map<std::string, ModelPrice> prices_;
};

// "$0.0123", "$1.50", "<$0.0001".
std::string FormatCost(double dollars);

}  // namespace scaffold::engine
