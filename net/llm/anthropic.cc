#include "net/llm/anthropic.h"

#include <set>

#include "engine/json_reader.h"

namespace scaffold::net {
namespace {

bool ThinkingEnabled(const engine::ModelRequest& r) {
  auto it = r.params.find("thinking");
  return it != r.params.end() && it->is_object() && it->value("type", "") == "enabled";
}

std::string TextOf(const Json& content) {
  std::string out;
  for (const auto& b : content) {
    if (b.value("type", "") == "text") out += b.value("text", "");
  }
  return out;
}

// The engine's neutral messages are Anthropic's, except that:
//  - empty text blocks are dropped (the API refuses them);
//  - a tool_use the next user message does not answer (the structured-output tool, after an
//    invalid reply is sent back) gets a tool_result carrying that message's text, because the
//    API requires every tool_use to be answered.
Json Messages(const Json& messages) {
  Json out = Json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json& m = messages[i];
    Json content = Json::array();
    for (const auto& b : m["content"]) {
      if (b.value("type", "") == "text" && b.value("text", "").empty()) continue;
      content.push_back(b);
    }
    if (m["role"] == "user" && i > 0 && messages[i - 1]["role"] == "assistant") {
      std::set<std::string> answered;
      for (const auto& b : content) {
        if (b.value("type", "") == "tool_result") answered.insert(b.value("tool_use_id", ""));
      }
      Json results = Json::array();
      std::string text = TextOf(content);
      for (const auto& b : messages[i - 1]["content"]) {
        if (b.value("type", "") != "tool_use" || answered.count(b.value("id", ""))) continue;
        results.push_back({{"type", "tool_result"},
                           {"tool_use_id", b.value("id", "")},
                           {"content", text.empty() ? "This call was not run." : text},
                           {"is_error", true}});
      }
      if (!results.empty()) {
        for (const auto& b : content) {
          if (b.value("type", "") != "text") results.push_back(b);
        }
        content = std::move(results);
      }
    }
    out.push_back({{"role", m["role"]}, {"content", content}});
  }
  return out;
}

engine::ProviderError ErrorEvent(const Json& data) {
  const Json& e = data.value("error", Json::object());
  static const Json kNone = Json::object();
  JsonReader err(e.is_object() ? e : kNone);
  std::string type = err.OptString("type").value_or("error");
  std::string message =
      "anthropic stream error (" + type + "): " + err.OptString("message").value_or("");
  if (type == "overloaded_error")
    return {engine::ProviderErrorKind::kOverloaded, message, 529, std::nullopt, true};
  if (type == "rate_limit_error")
    return {engine::ProviderErrorKind::kRateLimited, message, 429, std::nullopt, true};
  if (type == "api_error")
    return {engine::ProviderErrorKind::kServerError, message, 500, std::nullopt, true};
  return {engine::ProviderErrorKind::kInvalidRequest, message, 400, std::nullopt, false};
}

class AnthropicDecoder : public StreamDecoder {
 public:
  explicit AnthropicDecoder(const engine::ModelRequest& r)
      : output_tool_(r.output_schema ? AnthropicOutputTool(r) : ""),
        output_schema_(r.output_schema) {}

  std::optional<engine::ProviderError> OnEvent(const SseEvent& event,
                                               std::vector<StreamDelta>* deltas) override {
    if (event.type == "ping") return std::nullopt;
    auto parsed = ParseJson(event.data);
    if (!parsed.ok() || !parsed->is_object()) {
      return StreamError("anthropic sent an event that is not a JSON object: " +
                         event.data.substr(0, 100));
    }
    const Json& data = *parsed;
    JsonReader in(data);
    std::string type = in.OptString("type").value_or(event.type);
    if (!in.ok()) return Malformed(in);
    if (type == "error") return ErrorEvent(data);
    if (type == "message_start") {
      JsonReader message = in.Child("message");
      ReadUsage(message, "usage");
    } else if (type == "content_block_start") {
      size_t index = static_cast<size_t>(in.Int("index", 0, kMaxBlocks - 1));
      JsonReader block = in.Child("content_block", true);
      // Blocks are sent back to the API in later turns and read by Finish(): checked here.
      engine::CheckContentBlock(block);
      if (!in.ok()) return Malformed(in);
      if (blocks_.size() <= index) blocks_.resize(index + 1);
      blocks_[index] = block.json();
      partial_json_.resize(blocks_.size());
    } else if (type == "content_block_delta") {
      size_t index = static_cast<size_t>(in.Int("index", 0, kMaxBlocks - 1));
      if (!in.ok()) return Malformed(in);
      if (index >= blocks_.size() || blocks_[index].is_null())
        return StreamError("anthropic sent a delta for a block it did not start");
      JsonReader delta = in.Child("delta", true);
      std::string kind = delta.String("type");
      Json& block = blocks_[index];
      auto append = [&](const char* field, const char* key) -> std::optional<std::string> {
        std::string piece = delta.String(key, true);
        if (!in.ok()) return std::nullopt;
        const Json& had = block.value(field, Json(""));
        block[field] = (had.is_string() ? had.get<std::string>() : std::string()) + piece;
        return piece;
      };
      if (kind == "text_delta") {
        if (auto text = append("text", "text")) deltas->push_back({false, std::move(*text)});
      } else if (kind == "thinking_delta") {
        if (auto text = append("thinking", "thinking")) deltas->push_back({true, std::move(*text)});
      } else if (kind == "signature_delta") {
        append("signature", "signature");
      } else if (kind == "input_json_delta") {
        partial_json_[index] += delta.String("partial_json", true);
      }
      if (!in.ok()) return Malformed(in);
    } else if (type == "content_block_stop") {
      size_t index = static_cast<size_t>(in.Int("index", 0, kMaxBlocks - 1));
      if (!in.ok()) return Malformed(in);
      // A stop for a block never started is ignored, as the API would never send one.
      if (index < blocks_.size() && blocks_[index].is_object() &&
          blocks_[index].value("type", Json()) == "tool_use") {
        const std::string& raw = partial_json_[index];
        auto input = raw.empty() ? Result<Json>(Json::object()) : ParseJson(raw);
        if (!input.ok() || !input->is_object())
          return StreamError("anthropic sent tool input that is not a JSON object");
        blocks_[index]["input"] = std::move(input).value();
      }
    } else if (type == "message_delta") {
      JsonReader delta = in.Child("delta");
      std::optional<std::string> stop = delta.OptString("stop_reason");
      ReadUsage(in, "usage");
      if (!in.ok()) return Malformed(in);
      if (stop) stop_reason_ = *stop;
    } else if (type == "message_stop") {
      complete_ = true;
    }
    if (!in.ok()) return Malformed(in);
    return std::nullopt;
  }

  bool Complete() const override { return complete_; }

  std::optional<engine::ProviderError> Finish(engine::ModelResponse* r) override {
    bool used_output_tool = false;
    for (const auto& block : blocks_) {
      if (block.is_null()) continue;
      std::string type = block.value("type", "");
      if (type == "text") {
        r->text += block.value("text", "");
      } else if (type == "thinking") {
        r->thinking += block.value("thinking", "");
      } else if (type == "tool_use" && !output_tool_.empty() &&
                 block.value("name", "") == output_tool_) {
        r->structured = UnwrapOutput(*output_schema_, block.value("input", Json::object()));
        used_output_tool = true;
      } else if (type == "tool_use") {
        r->tool_uses.push_back(
            {block.value("id", ""), block.value("name", ""), block.value("input", Json::object())});
      }
      Json kept = block;
      kept.erase("citations");
      r->content.push_back(std::move(kept));
    }
    // Other tools called alongside the output tool run first; the output is asked for again.
    if (used_output_tool && !r->tool_uses.empty()) r->structured.reset();
    r->stop_reason = used_output_tool && r->tool_uses.empty() ? "end_turn" : stop_reason_;
    r->usage = usage_;
    return std::nullopt;
  }

 private:
  static engine::ProviderError Malformed(const JsonReader& in) {
    return StreamError("anthropic sent a malformed event: " + in.status().ToString());
  }

  // Usage counts are cumulative: each one present replaces the one before.
  void ReadUsage(JsonReader& parent, const char* key) {
    if (!parent.Has(key)) return;
    JsonReader u = parent.Child(key);
    auto count = [&](const char* name, int64_t* out) {
      if (auto n = u.OptInt(name, 0)) *out = *n;
    };
    count("input_tokens", &usage_.input_tokens);
    count("output_tokens", &usage_.output_tokens);
    count("cache_read_input_tokens", &usage_.cache_read_tokens);
    count("cache_creation_input_tokens", &usage_.cache_write_tokens);
  }

  static constexpr int64_t kMaxBlocks = 1024;

  std::string output_tool_;
  std::optional<Json> output_schema_;
  std::vector<Json> blocks_;
  std::vector<std::string> partial_json_;
  std::string stop_reason_ = "end_turn";
  engine::Usage usage_;
  bool complete_ = false;
};

}  // namespace

std::string AnthropicOutputTool(const engine::ModelRequest& request) {
  std::string name = "respond";
  auto taken = [&](const std::string& n) {
    for (const auto& t : request.tools) {
      if (t.name == n) return true;
    }
    return false;
  };
  while (taken(name)) name = "scaffold_" + name;
  return name;
}

Json AnthropicBody(const engine::ModelRequest& r) {
  Json body = {
      {"model", r.model}, {"max_tokens", r.max_tokens}, {"messages", Messages(r.messages)}};
  std::string system = r.system;
  if (r.temperature) body["temperature"] = *r.temperature;
  Json tools = Json::array();
  for (const auto& t : r.tools) {
    Json tool = {
        {"name", t.name},
        {"input_schema", t.input_schema.empty() ? Json{{"type", "object"}} : t.input_schema}};
    if (!t.description.empty()) tool["description"] = t.description;
    tools.push_back(std::move(tool));
  }
  if (r.output_schema) {
    std::string name = AnthropicOutputTool(r);
    const Json& schema = *r.output_schema;
    tools.push_back(
        {{"name", name},
         {"description",
          "Give your final answer by calling this tool once, with the answer as its input."},
         {"input_schema", NeedsWrapping(schema) ? WrapSchema(schema) : schema}});
    if (ThinkingEnabled(r)) {
      body["tool_choice"] = {{"type", "auto"}};
      system += std::string(system.empty() ? "" : "\n\n") +
                "When you have the final answer, call the " + name + " tool with it.";
    } else if (r.tools.empty()) {
      body["tool_choice"] = {{"type", "tool"}, {"name", name}};
    } else {
      body["tool_choice"] = {{"type", "any"}};
    }
  }
  if (!tools.empty()) body["tools"] = std::move(tools);
  if (!system.empty()) body["system"] = system;
  for (const auto& [key, value] : r.params.items()) {
    if (key == "model" || key == "messages" || key == "stream") continue;
    body[key] = value;
  }
  body["stream"] = true;
  return body;
}

HttpRequest BuildAnthropicRequest(const engine::ModelRequest& request, const Endpoint& endpoint) {
  HttpRequest http;
  http.url = endpoint.base_url + "/v1/messages";
  http.headers = {"content-type: application/json", "accept: text/event-stream",
                  "anthropic-version: 2023-06-01"};
  if (!endpoint.api_key.empty()) http.headers.push_back("x-api-key: " + endpoint.api_key);
  http.body = DumpJson(AnthropicBody(request));
  http.connect_timeout_ms = endpoint.connect_timeout_ms;
  http.stall_timeout_ms = endpoint.stall_timeout_ms;
  return http;
}

std::unique_ptr<StreamDecoder> NewAnthropicDecoder(const engine::ModelRequest& request) {
  return std::make_unique<AnthropicDecoder>(request);
}

}  // namespace scaffold::net
