#include "net/llm/llm_api.h"

namespace scaffold::net {

bool NeedsWrapping(const Json& schema) {
  if (!schema.is_object()) return true;
  auto type = schema.find("type");
  if (type == schema.end()) return !schema.contains("properties");
  return !(type->is_string() && *type == "object");
}

Json WrapSchema(const Json& schema) {
  return Json{{"type", "object"},
              {"properties", {{"value", schema}}},
              {"required", Json::array({"value"})},
              {"additionalProperties", false}};
}

Json UnwrapOutput(const Json& schema, const Json& reply) {
  if (!NeedsWrapping(schema)) return reply;
  if (reply.is_object() && reply.size() == 1 && reply.contains("value")) return reply["value"];
  return reply;
}

engine::ProviderError StreamError(std::string message) {
  return engine::ProviderError{engine::ProviderErrorKind::kServerError, std::move(message), 0,
                               std::nullopt, true};
}

std::string ErrorBodyMessage(std::string_view body) {
  auto parsed = ParseJson(body);
  if (parsed.ok() && parsed->is_object()) {
    const Json& j = *parsed;
    auto error = j.find("error");
    if (error != j.end()) {
      if (error->is_object() && error->contains("message") && (*error)["message"].is_string()) {
        return (*error)["message"].get<std::string>();
      }
      if (error->is_string()) return error->get<std::string>();
    }
    if (j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
  }
  std::string text(body.substr(0, 300));
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text.empty() ? "(empty body)" : text;
}

}  // namespace scaffold::net
