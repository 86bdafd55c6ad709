#include "net/anthropic.h"

#include <set>

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
  const Json& err = data.value("error", Json::object());
  std::string type = err.value("type", "error");
  std::string message = "anthropic stream error (" + type + "): " + err.value("message", "");
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
    Json data = Json::parse(event.data, nullptr, false);
    if (data.is_discarded())
      return StreamError("anthropic sent an event that is not JSON: " + event.data.substr(0, 100));
    std::string type = data.value("type", event.type);
    if (type == "error") return ErrorEvent(data);
    if (type == "message_start") {
      ReadUsage(data["message"].value("usage", Json::object()));
    } else if (type == "content_block_start") {
      size_t index = data.value("index", size_t{0});
      if (blocks_.size() <= index) blocks_.resize(index + 1);
      blocks_[index] = data.value("content_block", Json::object());
      partial_json_.resize(blocks_.size());
    } else if (type == "content_block_delta") {
      size_t index = data.value("index", size_t{0});
      if (index >= blocks_.size())
        return StreamError("anthropic sent a delta for a block it did not start");
      const Json& delta = data["delta"];
      std::string kind = delta.value("type", "");
      Json& block = blocks_[index];
      if (kind == "text_delta") {
        std::string text = delta.value("text", "");
        block["text"] = block.value("text", "") + text;
        deltas->push_back({false, std::move(text)});
      } else if (kind == "thinking_delta") {
        std::string text = delta.value("thinking", "");
        block["thinking"] = block.value("thinking", "") + text;
        deltas->push_back({true, std::move(text)});
      } else if (kind == "signature_delta") {
        block["signature"] = block.value("signature", "") + delta.value("signature", "");
      } else if (kind == "input_json_delta") {
        partial_json_[index] += delta.value("partial_json", "");
      }
    } else if (type == "content_block_stop") {
      size_t index = data.value("index", size_t{0});
      if (index < blocks_.size() && blocks_[index].value("type", "") == "tool_use") {
        const std::string& raw = partial_json_[index];
        Json input = raw.empty() ? Json::object() : Json::parse(raw, nullptr, false);
        if (input.is_discarded()) return StreamError("anthropic sent tool input that is not JSON");
        blocks_[index]["input"] = std::move(input);
      }
    } else if (type == "message_delta") {
      stop_reason_ = data["delta"].value("stop_reason", stop_reason_);
      ReadUsage(data.value("usage", Json::object()));
    } else if (type == "message_stop") {
      complete_ = true;
    }
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
  void ReadUsage(const Json& u) {
    if (u.contains("input_tokens") && u["input_tokens"].is_number())
      usage_.input_tokens = u["input_tokens"];
    if (u.contains("output_tokens") && u["output_tokens"].is_number())
      usage_.output_tokens = u["output_tokens"];
    if (u.contains("cache_read_input_tokens") && u["cache_read_input_tokens"].is_number()) {
      usage_.cache_read_tokens = u["cache_read_input_tokens"];
    }
    if (u.contains("cache_creation_input_tokens") && u["cache_creation_input_tokens"].is_number()) {
      usage_.cache_write_tokens = u["cache_creation_input_tokens"];
    }
  }

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
