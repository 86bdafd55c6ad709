#include "engine/provider.h"

namespace scaffold::engine {

Json ModelRequest::ToJson() const {
  Json tools_json = Json::array();
  for (const auto& t : tools) {
    tools_json.push_back(
        {{"name", t.name}, {"description", t.description}, {"input_schema", t.input_schema}});
  }
  Json out = {{"provider", provider},     {"model", model},

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

Usage Usage::FromJson(const Json& j) {
  return Usage{j.value("inputTokens", int64_t{0}), j.value("outputTokens", int64_t{0}),
               j.value("cacheReadTokens", int64_t{0}), j.value("cacheWriteTokens", int64_t{0})};
}

Json ModelResponse::ToJson() const {
  Json uses = Json::array();
  for (const auto& t : tool_uses)
    uses.push_back({{"id", t.id}, {"name", t.name}, {"input", t.input}});
  return Json{{"text", text},
              {"thinking", thinking},
              {"content", content},
              {"tool_uses", uses},
              {"structured", structured ? *structured : Json(nullptr)},
              {"has_structured", structured.has_value()},
              {"stop_reason", stop_reason},
              {"usage", usage.ToJson()}};
}

ModelResponse ModelResponse::FromJson(const Json& j) {
  ModelResponse r;
  r.text = j.value("text", "");
  r.thinking = j.value("thinking", "");
  r.content = j.value("content", Json::array());
  for (const auto& t : j.value("tool_uses", Json::array())) {
    r.tool_uses.push_back(
        {t.value("id", ""), t.value("name", ""), t.value("input", Json::object())});
  }
  if (j.value("has_structured", false)) r.structured = j.value("structured", Json());
  r.stop_reason = j.value("stop_reason", "");
  r.usage = Usage::FromJson(j.value("usage", Json::object()));
  return r;
}

namespace {
const char* const kKindNames[] = {
    "rate_limited",    "overloaded",     "server_error",      "timeout",
    "invalid_request", "authentication", "missing_recording", "other"};
}

Json ProviderError::ToJson() const {
  Json out = {{"kind", kKindNames[static_cast<int>(kind)]},
              {"message", message},
              {"http_status", http_status},
              {"retryable", retryable}};
  out["retry_after_ms"] = retry_after_ms ? Json(*retry_after_ms) : Json(nullptr);
  return out;
}

ProviderError ProviderError::FromJson(const Json& j) {
  ProviderError e;
  std::string kind = j.value("kind", "other");
  for (int i = 0; i < 8; ++i) {
    if (kind == kKindNames[i]) e.kind = static_cast<ProviderErrorKind>(i);
  }
  e.message = j.value("message", "");
  e.http_status = j.value("http_status", 0);
  e.retryable = j.value("retryable", false);
  if (j.contains("retry_after_ms") && j["retry_after_ms"].is_number())
    e.retry_after_ms = j["retry_after_ms"].get<int64_t>();
  return e;
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
