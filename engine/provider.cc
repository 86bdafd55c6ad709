#include "engine/provider.h"

#include "engine/json_reader.h"

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
  static const Json kNone = Json::object();
  JsonReader in(j.is_object() ? j : kNone);
  auto count = [&](const char* key) {
    auto n = in.OptInt(key, 0);
    return in.ok() && n ? *n : 0;
  };
  return Usage{count("inputTokens"), count("outputTokens"), count("cacheReadTokens"),
               count("cacheWriteTokens")};
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

void CheckContentBlock(JsonReader& block) {
  std::string type = block.String("type");
  if (type == "text") block.String("text", true);
  if (type == "thinking") {
    block.OptString("thinking");
    block.OptString("signature");
  }
  if (type == "tool_use") {
    block.String("id");
    block.String("name");
    block.OptObject("input");
  }
}

Result<ModelResponse> ModelResponse::FromJson(const Json& j) {
  JsonReader in(j);
  ModelResponse r;
  r.text = in.OptString("text").value_or("");
  r.thinking = in.OptString("thinking").value_or("");
  JsonReader content = in.List("content");
  for (size_t i = 0; i < content.json().size() && in.ok(); ++i) {
    JsonReader block = content.Item(i);
    CheckContentBlock(block);
  }
  r.content = content.json();
  JsonReader uses = in.List("tool_uses");
  for (size_t i = 0; i < uses.json().size() && in.ok(); ++i) {
    JsonReader t = uses.Item(i);
    ToolUse use{t.String("id"), t.String("name"), t.Value("input")};
    if (use.input.is_null()) use.input = Json::object();
    r.tool_uses.push_back(std::move(use));
  }
  if (in.OptBool("has_structured").value_or(false)) r.structured = in.Value("structured");
  r.stop_reason = in.OptString("stop_reason").value_or("");
  if (in.Has("usage")) {
    JsonReader usage = in.Child("usage");
    for (const char* key : {"inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens"})
      usage.OptInt(key, 0);
    if (in.ok()) r.usage = Usage::FromJson(usage.json());
  }
  if (!in.ok()) return in.status();
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

Result<ProviderError> ProviderError::FromJson(const Json& j) {
  JsonReader in(j);
  ProviderError e;
  std::string kind = in.OptString("kind").value_or("other");
  for (int i = 0; i < 8; ++i) {
    if (kind == kKindNames[i]) e.kind = static_cast<ProviderErrorKind>(i);
  }
  e.message = in.OptString("message").value_or("");
  e.http_status = static_cast<int>(in.OptInt("http_status", 0, 999).value_or(0));
  e.retryable = in.OptBool("retryable").value_or(false);
  e.retry_after_ms = in.OptInt("retry_after_ms", 0);
  if (!in.ok()) return in.status();
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
