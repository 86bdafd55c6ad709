#include "net/llm/llm_provider.h"

#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <thread>

#include "net/llm/anthropic.h"
#include "net/llm/openai.h"
#include "tests/support/fake_upstream.h"
#include "tests/support/provider_call.h"

using scaffold::Json;
using scaffold::engine::ModelRequest;
using scaffold::engine::ProviderErrorKind;
using scaffold::net::Endpoint;
using scaffold::net::LlmProvider;
using scaffold::testing::CallProvider;
using scaffold::testing::FakeUpstream;

namespace {

constexpr const char* kSecret = "sk-test-0123456789-SECRET";

Endpoint Anthropic(const FakeUpstream& up) {
  return {"anthropic", "anthropic", up.url(), kSecret, "ANTHROPIC_API_KEY", 2000, 2000};
}
Endpoint OpenAi(const FakeUpstream& up) {
  return {"openai", "openai", up.url() + "/v1", kSecret, "OPENAI_API_KEY", 2000, 2000};
}

LlmProvider Provider(const FakeUpstream& up) {
  return LlmProvider({{"anthropic", Anthropic(up)}, {"openai", OpenAi(up)}});
}

ModelRequest Request(const std::string& provider, const std::string& prompt = "hi") {
  ModelRequest r;
  r.agent = "a";
  r.provider = provider;
  r.model = "m-1";
  r.max_tokens = 100;
  r.messages = Json::array(
      {{{"role", "user"}, {"content", Json::array({{{"type", "text"}, {"text", prompt}}})}}});
  return r;
}

// A conversation with a tool call and its result, as the engine builds it.
ModelRequest ToolTurnRequest(const std::string& provider) {
  ModelRequest r = Request(provider);
  r.system = "Be brief.";
  r.temperature = 0.5;
  r.messages = Json::parse(R"([
    {"role": "user", "content": [{"type": "text", "text": "hi"}]},
    {"role": "assistant", "content": [{"type": "text", "text": "checking"},
                                      {"type": "tool_use", "id": "t1", "name": "lookup", "input": {"q": "x"}}]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "found", "is_error": false}]}
  ])");
  r.tools.push_back(
      {"lookup", "Look up",
       Json::parse(R"({"type": "object", "properties": {"q": {"type": "string"}}})")});
  r.params = {{"top_k", 5}};
  return r;
}

}  // namespace

TEST_CASE("anthropic requests carry the exact body and headers the API expects", "[provider]") {
  Json body = scaffold::net::AnthropicBody(ToolTurnRequest("anthropic"));
  CHECK(body == Json::parse(R"({
    "model": "m-1", "max_tokens": 100, "temperature": 0.5, "system": "Be brief.", "stream": true, "top_k": 5,
    "messages": [
      {"role": "user", "content": [{"type": "text", "text": "hi"}]},
      {"role": "assistant", "content": [{"type": "text", "text": "checking"},
                                        {"type": "tool_use", "id": "t1", "name": "lookup", "input": {"q": "x"}}]},
      {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "found", "is_error": false}]}],
    "tools": [{"name": "lookup", "description": "Look up",
               "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}}}]})"));

  FakeUpstream up;
  up.Push(FakeUpstream::AnthropicText({"ok"}));
  auto provider = Provider(up);
  auto out = CallProvider(provider, ToolTurnRequest("anthropic"));
  REQUIRE(out.response);
  auto req = up.requests().at(0);
  CHECK(req.method == "POST");
  CHECK(req.path == "/v1/messages");
  CHECK(req.headers["x-api-key"] == kSecret);
  CHECK(req.headers["anthropic-version"] == "2023-06-01");
  CHECK(req.headers["content-type"] == "application/json");
  CHECK(req.json() == body);
}

TEST_CASE("anthropic structured output is a forced tool, wrapped when the schema is not an object",
          "[provider]") {
  ModelRequest r = Request("anthropic");
  r.output_schema =
      Json::parse(R"({"type": "object", "properties": {"c": {"enum": ["x"]}}, "required": ["c"]})");
  Json body = scaffold::net::AnthropicBody(r);
  CHECK(body["tool_choice"] == Json::parse(R"({"type": "tool", "name": "respond"})"));
  CHECK(body["tools"][0]["name"] == "respond");
  CHECK(body["tools"][0]["input_schema"] == *r.output_schema);

  r.output_schema = Json::parse(R"({"type": "array", "items": {"type": "string"}})");
  body = scaffold::net::AnthropicBody(r);
  CHECK(body["tools"][0]["input_schema"] ==
        Json::parse(R"({"type": "object", "additionalProperties": false,
      "properties": {"value": {"type": "array", "items": {"type": "string"}}}, "required": ["value"]})"));

  r.tools.push_back({"respond", "", Json::object()});  // a user tool with the same name
  body = scaffold::net::AnthropicBody(r);
  CHECK(body["tool_choice"] == Json::parse(R"({"type": "any"})"));
  CHECK(body["tools"][1]["name"] == "scaffold_respond");

  r.tools.clear();
  r.params = {{"thinking", {{"type", "enabled"}, {"budget_tokens", 1024}}}};
  body = scaffold::net::AnthropicBody(r);
  CHECK(body["tool_choice"] == Json::parse(R"({"type": "auto"})"));
  CHECK_THAT(body["system"].get<std::string>(), Catch::Contains("call the respond tool"));
}

TEST_CASE("anthropic answers an unanswered output-tool call when output is re-asked",
          "[provider]") {
  ModelRequest r = Request("anthropic");
  r.output_schema = Json::parse(R"({"type": "object"})");
  r.messages.push_back(Json::parse(R"({"role": "assistant", "content": [
      {"type": "tool_use", "id": "r1", "name": "respond", "input": {"c": "bad"}}]})"));
  r.messages.push_back(Json::parse(
      R"({"role": "user", "content": [{"type": "text", "text": "Your output did not match"}]})"));
  Json body = scaffold::net::AnthropicBody(r);
  CHECK(body["messages"][2]["content"] == Json::parse(R"([
      {"type": "tool_result", "tool_use_id": "r1", "content": "Your output did not match", "is_error": true}])"));
}

TEST_CASE("openai requests carry the exact body and headers the API expects", "[provider]") {
  FakeUpstream up;
  Endpoint local = OpenAi(up);
  Json body = scaffold::net::OpenAiBody(ToolTurnRequest("openai"), local);
  CHECK(body == Json::parse(R"({
    "model": "m-1", "max_tokens": 100, "temperature": 0.5, "stream": true, "top_k": 5,
    "stream_options": {"include_usage": true},
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "hi"},
      {"role": "assistant", "content": "checking", "tool_calls": [
        {"id": "t1", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":\"x\"}"}}]},
      {"role": "tool", "tool_call_id": "t1", "content": "found"}],
    "tools": [{"type": "function", "function": {"name": "lookup", "description": "Look up",
               "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}]})"));

  Endpoint hosted = local;
  hosted.base_url = "https://api.openai.com/v1";
  Json hosted_body = scaffold::net::OpenAiBody(ToolTurnRequest("openai"), hosted);
  CHECK(hosted_body["max_completion_tokens"] == 100);
  CHECK_FALSE(hosted_body.contains("max_tokens"));

  up.Push(FakeUpstream::OpenAiText({"ok"}));
  auto provider = Provider(up);
  auto out = CallProvider(provider, ToolTurnRequest("openai"));
  REQUIRE(out.response);
  auto req = up.requests().at(0);
  CHECK(req.path == "/v1/chat/completions");
  CHECK(req.headers["authorization"] == std::string("Bearer ") + kSecret);
  CHECK(req.json() == body);
}

TEST_CASE("openai structured output uses json_schema, strict only when the schema allows it",
          "[provider]") {
  FakeUpstream up;
  ModelRequest r = Request("openai");
  r.output_schema = Json::parse(R"({"type": "object", "additionalProperties": false,
      "properties": {"c": {"type": "string"}}, "required": ["c"]})");
  Json body = scaffold::net::OpenAiBody(r, OpenAi(up));
  CHECK(body["response_format"] ==
        Json::parse(R"({"type": "json_schema", "json_schema": {"name": "output",
      "strict": true, "schema": {"type": "object", "additionalProperties": false,
      "properties": {"c": {"type": "string"}}, "required": ["c"]}}})"));

  r.output_schema = Json::parse(R"({"type": "object", "properties": {"c": {"type": "string"}}})");
  CHECK(scaffold::net::OpenAiBody(r, OpenAi(up))["response_format"]["json_schema"]["strict"] ==
        false);
  CHECK_FALSE(scaffold::net::StrictSchemaAllowed(
      Json::parse(R"({"type": "object", "additionalProperties": false,
      "properties": {"c": {"type": "string", "minLength": 2}}, "required": ["c"]})")));
  CHECK(scaffold::net::StrictSchemaAllowed(
      scaffold::net::WrapSchema(Json::parse(R"({"enum": ["a", "b"]})"))));
}

TEST_CASE("the anthropic fixtures stream text, tool calls, thinking and usage",
          "[provider][fixtures]") {
  FakeUpstream up;
  auto provider = Provider(up);

  up.Push(FakeUpstream::Fixture("anthropic-basic_response.sse"));
  auto basic = CallProvider(provider, Request("anthropic"));
  REQUIRE(basic.response);
  CHECK(basic.all_text() == basic.response->text);
  CHECK_FALSE(basic.response->text.empty());
  CHECK(basic.response->stop_reason == "end_turn");
  CHECK(basic.response->usage.input_tokens > 0);
  CHECK(basic.response->usage.output_tokens > 0);

  up.Push(FakeUpstream::Fixture("anthropic-tool_use_response.sse"));
  auto tool = CallProvider(provider, Request("anthropic"));
  REQUIRE(tool.response);
  CHECK(tool.all_text() == "I'll check the current weather in Paris for you.");
  REQUIRE(tool.response->tool_uses.size() == 1);
  CHECK(tool.response->tool_uses[0].id == "toolu_01NRLabsLyVHZPKxbKvkfSMn");
  CHECK(tool.response->tool_uses[0].name == "get_weather");
  CHECK(tool.response->tool_uses[0].input == Json::parse(R"({"location": "Paris"})"));
  CHECK(tool.response->stop_reason == "tool_use");
  CHECK(tool.response->usage.input_tokens == 377);
  CHECK(tool.response->usage.output_tokens == 65);

  up.Push(FakeUpstream::Fixture("anthropic-thinking-refusal.sse"));
  auto thinking = CallProvider(provider, Request("anthropic"));
  REQUIRE(thinking.response);
  CHECK_FALSE(thinking.thinking.empty());
  CHECK_THAT(thinking.response->thinking, Catch::StartsWith("Simple educational question"));
  CHECK(thinking.response->text == "Hi");
  CHECK(thinking.response->stop_reason == "refusal");
  CHECK(thinking.response->content[0]["signature"] ==
        "c3ludGhldGljLXNpZ25hdHVyZS1maXh0dXJlLWEtbm90LWEtcmVhbC1zaWduYXR1cmU=");
  CHECK(thinking.response->usage.output_tokens == 106);
}

TEST_CASE("the openai fixtures stream text, merged tool calls and usage", "[provider][fixtures]") {
  FakeUpstream up;
  auto provider = Provider(up);

  up.Push(FakeUpstream::Fixture("openai-chat-e2aad469b71d.sse"));
  auto text = CallProvider(provider, Request("openai"));
  REQUIRE(text.response);
  CHECK_THAT(text.response->text,
             Catch::StartsWith("I'm unable to provide real-time weather updates."));
  CHECK(text.all_text() == text.response->text);
  CHECK(text.response->stop_reason == "end_turn");
  CHECK(text.response->usage.input_tokens == 14);
  CHECK(text.response->usage.output_tokens == 30);

  up.Push(FakeUpstream::Fixture("openai-chat-a247c49c5fcd.sse"));
  auto one = CallProvider(provider, Request("openai"));
  REQUIRE(one.response);
  REQUIRE(one.response->tool_uses.size() == 1);
  CHECK(one.response->tool_uses[0].id == "call_CTf1nWJLqSeRgDqaCG27xZ74");
  CHECK(one.response->tool_uses[0].input ==
        Json::parse(R"({"city": "San Francisco", "state": "CA"})"));
  CHECK(one.response->stop_reason == "tool_use");

  up.Push(FakeUpstream::Fixture("openai-chat-f82268f2fefd.sse"));
  auto two = CallProvider(provider, Request("openai"));
  REQUIRE(two.response);
  REQUIRE(two.response->tool_uses.size() == 2);
  CHECK(two.response->tool_uses[0].name == "GetWeatherArgs");
  CHECK(two.response->tool_uses[1].name == "get_stock_price");
  CHECK(two.response->tool_uses[1].input ==
        Json::parse(R"({"ticker": "AAPL", "exchange": "NASDAQ"})"));
  CHECK(two.response->usage.input_tokens == 149);
}

TEST_CASE("whole tool calls without ids, as Ollama sends them, are accepted", "[provider]") {
  FakeUpstream up;
  up.Push(FakeUpstream::OpenAiToolCall("", "lookup", {{"q", "ollama"}}, /*whole=*/true));
  auto provider = Provider(up);
  auto out = CallProvider(provider, Request("openai"));
  REQUIRE(out.response);
  REQUIRE(out.response->tool_uses.size() == 1);
  CHECK(out.response->tool_uses[0].id == "call_0");
  CHECK(out.response->tool_uses[0].input == Json::parse(R"({"q": "ollama"})"));
}

TEST_CASE("streams written one byte at a time decode the same", "[provider]") {
  FakeUpstream up;
  auto provider = Provider(up);
  auto slow = FakeUpstream::Fixture("anthropic-tool_use_response.sse");
  slow.one_byte_writes = true;
  up.Push(slow);
  auto anthropic = CallProvider(provider, Request("anthropic"));
  REQUIRE(anthropic.response);
  CHECK(anthropic.response->tool_uses.at(0).input == Json::parse(R"({"location": "Paris"})"));

  auto slow_openai = FakeUpstream::Fixture("openai-chat-f82268f2fefd.sse");
  slow_openai.one_byte_writes = true;
  up.Push(slow_openai);
  auto openai = CallProvider(provider, Request("openai"));
  REQUIRE(openai.response);
  CHECK(openai.response->tool_uses.size() == 2);
}

TEST_CASE("structured output comes back parsed and unwrapped from both APIs", "[provider]") {
  FakeUpstream up;
  auto provider = Provider(up);
  ModelRequest r = Request("anthropic");
  r.output_schema = Json::parse(R"({"type": "array", "items": {"type": "string"}})");
  up.Push(FakeUpstream::AnthropicToolUse("r1", "respond", {{"value", {"a", "b"}}}));
  auto a = CallProvider(provider, r);
  REQUIRE(a.response);
  CHECK(a.response->structured == Json::parse(R"(["a", "b"])"));
  CHECK(a.response->tool_uses.empty());
  CHECK(a.response->stop_reason == "end_turn");

  r.provider = "openai";
  up.Push(FakeUpstream::OpenAiText({"{\"value\": ", "[\"c\"]}"}));
  auto o = CallProvider(provider, r);
  REQUIRE(o.response);
  CHECK(o.response->structured == Json::parse(R"(["c"])"));
}

TEST_CASE("HTTP errors become provider errors with the right kind and retry hints", "[provider]") {
  FakeUpstream up;
  auto provider = Provider(up);
  struct Case {
    int status;
    std::vector<std::pair<std::string, std::string>> headers;
    ProviderErrorKind kind;
    bool retryable;
    std::optional<int64_t> retry_after;
  };
  std::vector<Case> cases = {
      {429, {{"retry-after", "2"}}, ProviderErrorKind::kRateLimited, true, 2000},
      {429,
       {{"retry-after-ms", "1500"}, {"retry-after", "9"}},
       ProviderErrorKind::kRateLimited,
       true,
       1500},
      {529, {}, ProviderErrorKind::kOverloaded, true, std::nullopt},
      {500, {}, ProviderErrorKind::kServerError, true, std::nullopt},
      {503, {{"x-should-retry", "false"}}, ProviderErrorKind::kServerError, false, std::nullopt},
      {408, {}, ProviderErrorKind::kServerError, true, std::nullopt},
      {409, {}, ProviderErrorKind::kServerError, true, std::nullopt},
      {400, {}, ProviderErrorKind::kInvalidRequest, false, std::nullopt},
      {400, {{"x-should-retry", "true"}}, ProviderErrorKind::kInvalidRequest, true, std::nullopt},
      {404, {}, ProviderErrorKind::kInvalidRequest, false, std::nullopt},
      {401, {}, ProviderErrorKind::kAuthentication, false, std::nullopt},
  };
  for (const auto& c : cases) {
    INFO("HTTP " << c.status);
    up.Push(FakeUpstream::Error(
        c.status,
        {{"type", "error"},
         {"error", {{"type", "x"}, {"message", "nope " + std::to_string(c.status)}}}},
        c.headers));
    auto out = CallProvider(provider, Request("anthropic"));
    REQUIRE(out.error);
    CHECK(out.error->kind == c.kind);
    CHECK(out.error->retryable == c.retryable);
    CHECK(out.error->retry_after_ms == c.retry_after);
    CHECK(out.error->http_status == c.status);
    CHECK_THAT(out.error->message,
               Catch::Contains("anthropic returned HTTP " + std::to_string(c.status) + ": nope"));
    CHECK(out.error->message.find(kSecret) == std::string::npos);
  }
}

TEST_CASE("a 401 names the key variable to check, never the key", "[provider]") {
  FakeUpstream up;
  auto provider = Provider(up);
  up.Push(FakeUpstream::Error(401, {{"error", {{"message", "invalid x-api-key"}}}}));
  auto out = CallProvider(provider, Request("anthropic"));
  REQUIRE(out.error);
  CHECK_THAT(out.error->message, Catch::Contains("(check ANTHROPIC_API_KEY)"));
  CHECK(out.error->message.find(kSecret) == std::string::npos);
}

TEST_CASE("errors in the middle of a stream end the call with what was said", "[provider]") {
  FakeUpstream up;
  auto provider = Provider(up);
  SECTION("an anthropic overloaded_error event") {
    auto r = FakeUpstream::AnthropicText({"partial"});
    r.writes.resize(4);  // message_start, block start, ping, one delta
    r.writes.push_back(
        {"event: error\ndata: "
         "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}"
         "\n\n",
         0});
    up.Push(r);
    auto out = CallProvider(provider, Request("anthropic"));
    REQUIRE(out.error);
    CHECK(out.all_text() == "partial");
    CHECK(out.error->kind == ProviderErrorKind::kOverloaded);
    CHECK(out.error->retryable);
  }
  SECTION("an openai error frame") {
    auto r = FakeUpstream::OpenAiText({"par"});
    r.writes.resize(2);
    r.writes.push_back(
        {"data: {\"error\": {\"message\": \"server had an error\", \"type\": "
         "\"server_error\"}}\n\n",
         0});
    up.Push(r);
    auto out = CallProvider(provider, Request("openai"));
    REQUIRE(out.error);
    CHECK(out.all_text() == "par");
    CHECK(out.error->kind == ProviderErrorKind::kServerError);
    CHECK_THAT(out.error->message, Catch::Contains("server had an error"));
  }
  SECTION("a dropped connection") {
    auto r = FakeUpstream::AnthropicText({"a", "b", "c"});
    r.writes.resize(5);
    r.drop = true;
    up.Push(r);
    auto out = CallProvider(provider, Request("anthropic"));
    REQUIRE(out.error);
    CHECK(out.error->kind == ProviderErrorKind::kServerError);
    CHECK(out.error->retryable);
  }
  SECTION("a stream that ends cleanly but early") {
    auto r = FakeUpstream::OpenAiText({"a"});
    r.writes.resize(2);  // no finish_reason, no [DONE]
    up.Push(r);
    auto out = CallProvider(provider, Request("openai"));
    REQUIRE(out.error);
    CHECK_THAT(out.error->message, Catch::Contains("ended before the response was complete"));
    CHECK(out.error->retryable);
  }
}

TEST_CASE("a reply whose event never ends is refused at the bound, with what was said",
          "[provider]") {
  FakeUpstream up;
  LlmProvider provider = Provider(up);
  auto r = FakeUpstream::AnthropicText({"before"});
  // message_start, the text block's start, a ping, the one delta; then a data line 17 MiB
  // long that never ends, a mebibyte per write.
  r.writes.resize(4 + 1 + 17);
  r.writes[4].data = "event: content_block_delta\ndata: ";
  for (int i = 0; i < 17; ++i) r.writes[5 + i].data.assign(1 << 20, 'x');
  up.Push(r);
  auto out = CallProvider(provider, Request("anthropic"));
  REQUIRE(out.error);
  CHECK(out.all_text() == "before");
  CHECK_THAT(out.error->message, Catch::Contains("has an event larger than 16777216 bytes"));
  CHECK_FALSE(out.error->retryable);
}

TEST_CASE("a reply larger than the bound is refused, however small its events", "[provider]") {
  FakeUpstream up;
  Endpoint e = Anthropic(up);
  CHECK(e.max_reply_bytes == 128u << 20);
  e.max_reply_bytes = 1 << 20;
  LlmProvider provider({{"anthropic", e}});
  // 40 deltas of 32 KiB: every event is well within the event bound, the whole is not.
  std::vector<std::string> deltas(40);
  for (auto& d : deltas) d.assign(32 << 10, 'y');
  up.Push(FakeUpstream::AnthropicText(deltas));
  auto out = CallProvider(provider, Request("anthropic"));
  REQUIRE(out.error);
  CHECK(out.all_text().size() < (1u << 20));
  CHECK_THAT(out.error->message, Catch::Contains("is larger than 1048576 bytes"));
  CHECK_FALSE(out.error->retryable);
}

TEST_CASE("a stalled stream times out and a refused connection is a server error", "[provider]") {
  FakeUpstream up;
  Endpoint e = Anthropic(up);
  e.stall_timeout_ms = 300;
  LlmProvider provider({{"anthropic", e}});
  auto r = FakeUpstream::AnthropicText({"a"});
  r.writes.resize(3);
  r.stall_ms = 5000;
  up.Push(r);
  auto start = std::chrono::steady_clock::now();
  auto out = CallProvider(provider, Request("anthropic"));
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(out.error);
  CHECK(out.error->kind == ProviderErrorKind::kTimeout);
  CHECK(out.error->retryable);
  CHECK_THAT(out.error->message, Catch::Contains("stalled"));
  CHECK(took < std::chrono::seconds(4));

  Endpoint closed = e;
  closed.base_url = "http://127.0.0.1:1";
  LlmProvider nowhere({{"anthropic", closed}});
  auto refused = CallProvider(nowhere, Request("anthropic"));
  REQUIRE(refused.error);
  CHECK(refused.error->kind == ProviderErrorKind::kServerError);
  CHECK(refused.error->retryable);
  CHECK_THAT(refused.error->message,
             Catch::Contains("cannot connect to anthropic (http://127.0.0.1:1)"));
}

TEST_CASE("cancelling a call stops its callbacks and closes the connection promptly",
          "[provider]") {
  FakeUpstream up;
  auto provider = Provider(up);
  auto r = FakeUpstream::AnthropicText({"a"});
  r.writes.resize(4);
  r.stall_ms = 10000;
  up.Push(r);
  scaffold::engine::EventLoop loop;
  scaffold::testing::RecordingHandler handler(&loop);
  auto call = provider.Start(Request("anthropic"), &loop, &handler);
  // Run until the first delta arrived, then cancel.
  std::function<void()> poll = [&] {
    if (!handler.outcome.text.empty()) {
      call->Cancel();
      loop.Stop();
      return;
    }
    loop.Post(poll);
  };
  auto guard = loop.RunAfter(std::chrono::seconds(5), [&] { loop.Stop(); });
  loop.Post(poll);
  loop.Run();
  REQUIRE(handler.outcome.text.size() == 1);
  auto start = std::chrono::steady_clock::now();
  // The upstream can see the connection close before the transfer loop has counted it gone.
  while ((up.abandoned() == 0 || provider.active() != 0) &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(3)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(up.abandoned() == 1);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  CHECK_FALSE(handler.outcome.response);
  CHECK_FALSE(handler.outcome.error);
  CHECK(provider.active() == 0);
}

TEST_CASE("providers resolve from the environment and the workflow, and missing keys are named",
          "[provider]") {
  auto wf = scaffold::engine::LoadWorkflow(R"json({
    "scaffold": 1, "name": "p", "state": {},
    "providers": {"local": {"type": "openai", "base_url": "http://127.0.0.1:11434/v1/"},
                  "corp": {"type": "anthropic", "base_url": "https://llm.example.com", "api_key_env": "CORP_KEY",
                           "stall_timeout_ms": 5000}},
    "agents": {"a": {"model": "m", "prompt": "x"}, "b": {"model": "m", "prompt": "x", "provider": "openai"},
               "c": {"model": "m", "prompt": "x", "provider": "local"}, "d": {"model": "m", "prompt": "x", "provider": "corp"}},
    "phases": {"p": {"parallel": ["a", "b", "c", "d"], "next": "done"}, "done": {"terminal": true}}})json");
  REQUIRE(wf.workflow);
  std::map<std::string, std::string> vars = {{"ANTHROPIC_API_KEY", "k1"},
                                             {"OPENAI_API_KEY", "k2"},
                                             {"CORP_KEY", "k3"},
                                             {"OPENAI_BASE_URL", "https://proxy.example.com/v1"}};
  auto env = [&](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  auto endpoints = scaffold::net::ResolveEndpoints(*wf.workflow, "", env);
  REQUIRE(endpoints.ok());
  CHECK(endpoints->at("anthropic").base_url == "https://api.anthropic.com");
  CHECK(endpoints->at("anthropic").api_key == "k1");
  CHECK(endpoints->at("openai").base_url == "https://proxy.example.com/v1");
  CHECK(endpoints->at("local").base_url == "http://127.0.0.1:11434/v1");
  CHECK(endpoints->at("corp").api_key == "k3");
  CHECK(endpoints->at("corp").stall_timeout_ms == 5000);

  vars.erase("OPENAI_API_KEY");
  vars.erase("OPENAI_BASE_URL");
  vars.erase("CORP_KEY");
  auto missing = scaffold::net::ResolveEndpoints(*wf.workflow, "", env);
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.status().message(),
             Catch::Contains(
                 "provider \"openai\" needs an API key: set OPENAI_API_KEY (used by agent b)"));
  CHECK_THAT(missing.status().message(), Catch::Contains("set CORP_KEY"));
  CHECK(missing.status().message().find("local") == std::string::npos);  // loopback needs no key

  auto unknown = scaffold::net::ResolveEndpoints(*wf.workflow, "bedrock", env);
  REQUIRE_FALSE(unknown.ok());
  CHECK_THAT(unknown.status().message(), Catch::Contains("unknown provider \"bedrock\""));
  auto overridden = scaffold::net::ResolveEndpoints(*wf.workflow, "local", env);
  REQUIRE(overridden.ok());
  CHECK(overridden->size() == 1);
}

TEST_CASE("1,000 concurrent streams complete through one curl loop", "[provider][slow]") {
  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = std::max<rlim_t>(lim.rlim_cur, std::min<rlim_t>(lim.rlim_max, 8192));
  setrlimit(RLIMIT_NOFILE, &lim);
  REQUIRE(lim.rlim_cur >= 2100);

  FakeUpstream up;
  up.SetDefault([](const FakeUpstream::Request&) {
    std::vector<std::string> deltas(20, "tok ");
    auto r = FakeUpstream::AnthropicText(deltas);
    for (auto& w : r.writes) w.delay_ms = 5;
    return r;
  });
  // Generous timeouts: this checks that every stream completes, not how fast (sanitizer
  // builds on a loaded 2-core machine are slow).
  Endpoint endpoint = Anthropic(up);
  endpoint.connect_timeout_ms = 60000;
  endpoint.stall_timeout_ms = 60000;
  LlmProvider provider({{"anthropic", endpoint}});
  constexpr int kStreams = 1000;

  scaffold::engine::EventLoop loop;
  struct Counter : scaffold::engine::ModelStreamHandler {
    int* done;
    int* deltas;
    scaffold::engine::EventLoop* loop;
    void OnTextDelta(std::string_view) override { ++*deltas; }
    void OnThinkingDelta(std::string_view) override {}
    void OnComplete(scaffold::engine::ModelResponse) override { Finish(); }
    void OnError(scaffold::engine::ProviderError e) override {
      FAIL_CHECK(e.message);
      Finish();
    }
    void Finish() {
      if (++*done == kStreams) loop->Stop();
    }
  };
  int done = 0, deltas = 0;
  std::vector<Counter> handlers(kStreams);
  std::vector<std::unique_ptr<scaffold::engine::ModelCall>> calls;
  auto start = std::chrono::steady_clock::now();
  for (auto& h : handlers) {
    h.done = &done;
    h.deltas = &deltas;
    h.loop = &loop;
    calls.push_back(provider.Start(Request("anthropic"), &loop, &h));
  }
  auto guard = loop.RunAfter(std::chrono::seconds(120), [&] { loop.Stop(); });
  loop.Run();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK(done == kStreams);
  CHECK(deltas == kStreams * 20);
  WARN("1000 concurrent streams of 20 deltas (5 ms apart) completed in " << seconds << " s");
}
