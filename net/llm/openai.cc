#include "net/llm/openai.h"

#include <map>
#include <set>

#include "engine/json_reader.h"

namespace scaffold::net {
namespace {

std::string Text(const Json& content) {
  std::string out;
  for (const auto& b : content) {
    if (b.value("type", "") == "text") out += b.value("text", "");
  }
  return out;
}

Json Messages(const engine::ModelRequest& r) {
  Json out = Json::array();
  if (!r.system.empty()) out.push_back({{"role", "system"}, {"content", r.system}});
  for (const auto& m : r.messages) {
    const Json& content = m["content"];
    if (m["role"] == "assistant") {
      Json msg = {{"role", "assistant"}};
      std::string text = Text(content);
      Json calls = Json::array();
      for (const auto& b : content) {
        if (b.value("type", "") != "tool_use") continue;
        calls.push_back({{"id", b.value("id", "")},
                         {"type", "function"},
                         {"function",
                          {{"name", b.value("name", "")},
                           {"arguments", DumpJson(b.value("input", Json::object()))}}}});
      }
      msg["content"] = text.empty() && !calls.empty() ? Json(nullptr) : Json(text);
      if (!calls.empty()) msg["tool_calls"] = std::move(calls);
      out.push_back(std::move(msg));
      continue;
    }
    for (const auto& b : content) {
      if (b.value("type", "") != "tool_result") continue;
      const Json& c = b.value("content", Json(""));
      std::string text = c.is_string() ? c.get<std::string>() : DumpJson(c);
      if (b.value("is_error", false)) text = "Error: " + text;
      out.push_back(
          {{"role", "tool"}, {"tool_call_id", b.value("tool_use_id", "")}, {"content", text}});
    }
    std::string text = Text(content);
    if (!text.empty()) out.push_back({{"role", "user"}, {"content", text}});
  }
  return out;
}

bool IsOpenAiHost(const std::string& base_url) {
  return base_url.find("://api.openai.com") != std::string::npos;
}

// Keywords strict mode accepts (OpenAI structured outputs, supported schemas).
const std::set<std::string>& StrictKeywords() {
  static const std::set<std::string> k = {"type",
                                          "properties",
                                          "required",
                                          "additionalProperties",
                                          "items",
                                          "enum",
                                          "const",
                                          "anyOf",
                                          "$ref",
                                          "$defs",
                                          "definitions",
                                          "description",
                                          "title",
                                          "pattern",
                                          "format",
                                          "minimum",
                                          "maximum",
                                          "exclusiveMinimum",
                                          "exclusiveMaximum",
                                          "multipleOf",
                                          "minItems",
                                          "maxItems"};
  return k;
}

bool StrictNode(const Json& s, bool root) {
  if (!s.is_object()) return false;
  for (const auto& [key, value] : s.items()) {
    if (!StrictKeywords().count(key)) return false;
  }
  if (root && s.contains("anyOf")) return false;
  bool is_object = s.value("type", Json()) == "object" || s.contains("properties");
  if (is_object) {
    if (s.value("additionalProperties", Json(true)) != false) return false;
    const Json& props = s.value("properties", Json::object());
    std::set<std::string> required;
    for (const auto& r : s.value("required", Json::array())) {
      if (r.is_string()) required.insert(r.get<std::string>());
    }
    for (const auto& [name, sub] : props.items()) {
      if (!required.count(name) || !StrictNode(sub, false)) return false;
    }
  }
  if (s.contains("items") && !StrictNode(s["items"], false)) return false;
  for (const char* key : {"anyOf"}) {
    if (s.contains(key)) {
      for (const auto& sub : s[key]) {
        if (!StrictNode(sub, false)) return false;
      }
    }
  }
  for (const char* key : {"$defs", "definitions"}) {
    if (s.contains(key)) {
      for (const auto& [name, sub] : s[key].items()) {
        if (!StrictNode(sub, false)) return false;
      }
    }
  }
  return true;
}

std::string StopReason(const std::string& finish) {
  if (finish == "stop") return "end_turn";
  if (finish == "length") return "max_tokens";
  if (finish == "tool_calls" || finish == "function_call") return "tool_use";
  if (finish == "content_filter") return "refusal";
  return finish;
}

class OpenAiDecoder : public StreamDecoder {
 public:
  explicit OpenAiDecoder(const engine::ModelRequest& r) : output_schema_(r.output_schema) {}

  std::optional<engine::ProviderError> OnEvent(const SseEvent& event,
                                               std::vector<StreamDelta>* deltas) override {
    if (event.data == "[DONE]") {
      done_ = true;
      return std::nullopt;
    }
    auto parsed = ParseJson(event.data);
    if (!parsed.ok() || !parsed->is_object()) {
      return StreamError("the server sent a chunk that is not a JSON object: " +
                         event.data.substr(0, 100));
    }
    const Json& data = *parsed;
    if (data.contains("error")) {
      const Json& e = data["error"];
      static const Json kNone = Json::object();
      JsonReader err(e.is_object() ? e : kNone);
      std::string message = err.OptString("message").value_or(DumpJson(e).substr(0, 500));
      bool invalid = err.OptString("type").value_or("") == "invalid_request_error";
      return engine::ProviderError{invalid ? engine::ProviderErrorKind::kInvalidRequest
                                           : engine::ProviderErrorKind::kServerError,
                                   "stream error: " + message, 0, std::nullopt, !invalid};
    }
    JsonReader in(data);
    // Text and thinking of this chunk, applied only once the whole chunk has been read.
    std::string text, thinking;
    if (in.Has("usage")) {
      JsonReader u = in.Child("usage");
      // prompt_tokens includes cached ones; Usage counts them apart, as Anthropic does.
      int64_t prompt = u.OptInt("prompt_tokens", 0).value_or(0);
      int64_t cached = u.Child("prompt_tokens_details").OptInt("cached_tokens", 0).value_or(0);
      int64_t completion = u.OptInt("completion_tokens", 0).value_or(0);
      if (in.ok()) {
        usage_.input_tokens = std::max<int64_t>(0, prompt - cached);
        usage_.cache_read_tokens = cached;
        usage_.output_tokens = completion;
      }
    }
    JsonReader choices = in.List("choices");
    for (size_t i = 0; in.ok() && i < choices.json().size(); ++i) {
      JsonReader choice = choices.Item(i);
      if (choice.OptInt("index", 0).value_or(0) != 0 || !choice.ok()) continue;
      JsonReader delta = choice.Child("delta");
      text += delta.OptString("content").value_or("");
      for (const char* key : {"reasoning_content", "reasoning"}) {
        thinking += delta.OptString(key).value_or("");
      }
      JsonReader calls = delta.List("tool_calls");
      for (size_t k = 0; in.ok() && k < calls.json().size(); ++k) {
        JsonReader call = calls.Item(k);
        // Whole calls without an index (Ollama) each take the next one.
        int64_t index = call.OptInt("index", 0, kMaxToolCalls - 1)
                            .value_or(static_cast<int64_t>(calls_.size()));
        std::optional<std::string> id = call.OptString("id");
        JsonReader fn = call.Child("function");
        std::string name = fn.OptString("name").value_or("");
        const Json& arguments = fn.Value("arguments");
        if (!arguments.is_null() && !arguments.is_string() && !arguments.is_object())
          fn.Fail("arguments", JsonReader::Expected("a string or an object", arguments));
        if (!in.ok()) break;
        if (calls_.size() >= kMaxToolCalls && !calls_.count(static_cast<int>(index)))
          return StreamError("the model sent more than " + std::to_string(kMaxToolCalls) +
                             " tool calls in one reply");
        Call& c = calls_[static_cast<int>(index)];
        if (id) c.id = *id;
        c.name += name;
        if (arguments.is_string()) c.arguments += arguments.get<std::string>();
        if (arguments.is_object()) c.arguments += DumpJson(arguments);
      }
      if (auto finish = choice.OptString("finish_reason")) finish_reason_ = *finish;
    }
    if (!in.ok())
      return StreamError("the server sent a malformed chunk: " + in.status().ToString());
    if (!text.empty()) {
      text_ += text;
      deltas->push_back({false, std::move(text)});
    }
    if (!thinking.empty()) {
      thinking_ += thinking;
      deltas->push_back({true, std::move(thinking)});
    }
    return std::nullopt;
  }

  bool Complete() const override { return done_ || !finish_reason_.empty(); }

  std::optional<engine::ProviderError> Finish(engine::ModelResponse* r) override {
    r->text = text_;
    r->thinking = thinking_;
    if (!text_.empty()) r->content.push_back({{"type", "text"}, {"text", text_}});
    for (const auto& [index, c] : calls_) {
      auto parsed = c.arguments.empty() ? Result<Json>(Json::object()) : ParseJson(c.arguments);
      if (!parsed.ok()) {
        return StreamError("the model sent tool arguments that are not usable JSON (" +
                           parsed.status().message() + "): " + c.arguments.substr(0, 100));
      }
      Json input = std::move(parsed).value();
      std::string id = c.id.empty() ? "call_" + std::to_string(index) : c.id;
      r->tool_uses.push_back({id, c.name, input});
      r->content.push_back({{"type", "tool_use"}, {"id", id}, {"name", c.name}, {"input", input}});
    }
    if (output_schema_ && calls_.empty()) {
      auto parsed = ParseJson(text_);
      if (parsed.ok()) r->structured = UnwrapOutput(*output_schema_, *parsed);
    }
    r->stop_reason = StopReason(finish_reason_.empty() ? "stop" : finish_reason_);
    r->usage = usage_;
    return std::nullopt;
  }

 private:
  struct Call {
    std::string id, name, arguments;
  };
  std::optional<Json> output_schema_;
  std::string text_, thinking_, finish_reason_;
  std::map<int, Call> calls_;
  engine::Usage usage_;
  bool done_ = false;
};

}  // namespace

bool StrictSchemaAllowed(const Json& schema) {
  return StrictNode(schema, true);
}

Json OpenAiBody(const engine::ModelRequest& r, const Endpoint& endpoint) {
  Json body = {{"model", r.model}, {"messages", Messages(r)}};
  body[IsOpenAiHost(endpoint.base_url) ? "max_completion_tokens" : "max_tokens"] = r.max_tokens;
  if (r.temperature) body["temperature"] = *r.temperature;
  if (!r.tools.empty()) {
    Json tools = Json::array();
    for (const auto& t : r.tools) {
      Json fn = {
          {"name", t.name},
          {"parameters", t.input_schema.empty() ? Json{{"type", "object"}} : t.input_schema}};
      if (!t.description.empty()) fn["description"] = t.description;
      tools.push_back({{"type", "function"}, {"function", fn}});
    }
    body["tools"] = std::move(tools);
  }
  if (r.output_schema) {
    Json schema = NeedsWrapping(*r.output_schema) ? WrapSchema(*r.output_schema) : *r.output_schema;
    bool strict = StrictSchemaAllowed(schema);
    body["response_format"] = {
        {"type", "json_schema"},
        {"json_schema", {{"name", "output"}, {"schema", schema}, {"strict", strict}}}};
  }
  for (const auto& [key, value] : r.params.items()) {
    if (key == "model" || key == "messages" || key == "stream") continue;
    body[key] = value;
  }
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  return body;
}

HttpRequest BuildOpenAiRequest(const engine::ModelRequest& request, const Endpoint& endpoint) {
  HttpRequest http;
  http.url = endpoint.base_url + "/chat/completions";
  http.headers = {"content-type: application/json", "accept: text/event-stream"};
  if (!endpoint.api_key.empty())
    http.headers.push_back("authorization: Bearer " + endpoint.api_key);
  http.body = DumpJson(OpenAiBody(request, endpoint));
  http.connect_timeout_ms = endpoint.connect_timeout_ms;
  http.stall_timeout_ms = endpoint.stall_timeout_ms;
  return http;
}

std::unique_ptr<StreamDecoder> NewOpenAiDecoder(const engine::ModelRequest& request) {
  return std::make_unique<OpenAiDecoder>(request);
}

}  // namespace scaffold::net
