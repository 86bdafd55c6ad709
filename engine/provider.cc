#include "engine/provider.h"

namespace scaffold::engine {

Json ModelRequest::ToJson() const {
  Json tools_json = Json::array();
  for (const auto& t : tools) {
    tools_json.push_back(
        {{"name", t.name}, {"description", t.description}, {"input_schema", t.input_schema}});
  }
  Json out = {{"agent", agent},           {"provider", provider}, {"model", model},
              {"system", system},         {"messages", messages}, {"tools", tools_json},
              {"max_tokens", max_tokens}, {"params", params}};
  out["output_schema"] = output_schema ? *output_schema : Json(nullptr);
  out["temperature"] = temperature ? Json(*temperature) : Json(nullptr);
  return out;
}

Usage& Usage::operator+=(const Usage& other) {
  input_tokens += other.input_tokens;
  output_tokens += other.output_tokens;
  cache_read_tokens += other.cache_read_tokens;
  cache_write_tokens += other.cache_write_tokens;
  return *this;
}

Json Usage::ToJson() const {
  Json out = {{"inputTokens", input_tokens}, {"outputTokens", output_tokens}};
  if (cache_read_tokens) out["cacheReadTokens"] = cache_read_tokens;
  if (cache_write_tokens) out["cacheWriteTokens"] = cache_write_tokens;
  return out;
}

const char* RetryReason(ProviderErrorKind kind) {
  switch (kind) {
    case ProviderErrorKind::kRateLimited:
      return "rate_limited";
    case ProviderErrorKind::kOverloaded:
      return "overloaded";
    case ProviderErrorKind::kTimeout:
      return "timeout";
    default:
      return "server_error";
  }
}

}  // namespace scaffold::engine
