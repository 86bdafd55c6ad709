#include "engine/usage_tally.h"

namespace scaffold::engine {
namespace {

std::string InvocationKey(const Json& payload) {
  std::string agent = payload.contains("agent") && payload["agent"].is_string()
                          ? payload["agent"].get<std::string>()
                          : "";
  int64_t index = payload.contains("index") && payload["index"].is_number_integer()
                      ? payload["index"].get<int64_t>()
                      : -1;
  return agent + "#" + std::to_string(index);
}

}  // namespace

void UsageTally::Add(const Event& event) {
  if (!event.payload.is_object()) return;
  if (event.name == events::kAgentStarted) {
    const Json& model = event.payload.contains("model") ? event.payload["model"] : Json();
    models_[InvocationKey(event.payload)] = model.is_string() ? model.get<std::string>() : "";
    return;
  }
  if (event.name != events::kAgentCompleted) return;
  Usage usage = event.payload.contains("usage") ? Usage::FromJson(event.payload["usage"]) : Usage();
  std::string key = InvocationKey(event.payload);
  std::string model = models_[key];
  std::string agent = key.substr(0, key.rfind('#'));
  std::optional<ModelPrice> price = model.empty() ? std::nullopt : prices_.Find(model);
  for (Totals* t : {&total_, &agents_[agent]}) {
    ++t->calls;
    t->usage += usage;
    if (!model.empty()) t->models.insert(model);
    if (price) {
      t->cost += price->Cost(usage);
    } else if (!model.empty()) {
      t->unpriced.insert(model);
    }
  }
}

Json UsageTally::TotalsJson(const Totals& t) {
  Json out = {{"agentCalls", t.calls},
              {"inputTokens",
               t.usage.input_tokens + t.usage.cache_read_tokens + t.usage.cache_write_tokens},
              {"outputTokens", t.usage.output_tokens},
              {"cacheReadTokens", t.usage.cache_read_tokens},
              {"cacheWriteTokens", t.usage.cache_write_tokens},
              {"models", t.models}};
  if (t.unpriced.empty()) {
    out["costUsd"] = t.cost;
  } else {
    out["unpriced"] = t.unpriced;
  }
  return out;
}

}  // namespace scaffold::engine
