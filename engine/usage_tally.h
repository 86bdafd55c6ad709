// What a session's model calls used and cost, folded from its events: agent:started names the
// model of an invocation (an agent, and for `each` its index), agent:completed carries its
// usage. Feed events in log order; a tally can be kept and fed the events that follow.
#pragma once

#include <map>
#include <set>
#include <string>

#include "engine/event.h"
#include "engine/pricing.h"

namespace scaffold::engine {

class UsageTally {
 public:
  explicit UsageTally(PriceTable prices) : prices_(std::move(prices)) {}

  void Add(const Event& event);

  struct Totals {
    int64_t calls = 0;
    Usage usage;
    double cost = 0;
    std::set<std::string> models;
    std::set<std::string> unpriced;  // models used without a known price
  };
  const Totals& total() const { return total_; }
  const std::map<std::string, Totals>& agents() const { return agents_; }

  // {"agentCalls", "inputTokens" (cached and written included), "outputTokens",
  //  "cacheReadTokens", "cacheWriteTokens", "costUsd" (absent when a model has no price),
  //  "models", "unpriced"?}
  static Json TotalsJson(const Totals& totals);

 private:
  PriceTable prices_;
  std::map<std::string, std::string> models_;  // "agent#index" -> model of its invocation
  Totals total_;
  std::map<std::string, Totals> agents_;
};

}  // namespace scaffold::engine
