// Provider: how the engine talks to an LLM. net/ implements it for the Anthropic Messages and
// OpenAI Chat Completions streaming APIs; recordings/ wraps it to record and play back; tests
// use scripted fakes.
//
// The conversation is provider-neutral: messages are {"role": "user"|"assistant", "content":
// [blocks]} with blocks {"type": "text", "text"}, {"type": "tool_use", "id", "name", "input"},
// {"type": "tool_result", "tool_use_id", "content", "is_error"} and {"type": "thinking",
// "thinking", "signature"}. Each client translates to and from its API's shape.
//
// When structured output fails validation the engine re-asks by appending the assistant's
// content and a user text message naming the errors; a client that obtained the output through
// a forced tool must answer that tool_use with a tool_result carrying the text instead.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/executor.h"
#include "engine/json.h"
#include "engine/json_reader.h"

namespace scaffold::engine {

struct ToolDefinition {
  std::string name;
  std::string description;
  Json input_schema = Json::object();
};

struct ModelRequest {
  std::string session_id;  // the session making the call (for recordings; not sent)
  std::string agent;       // the workflow agent making the call (for recordings and messages)
  std::string provider;  // "anthropic", "openai" or a key of the workflow's providers map
  std::string model;
  std::string system;
  Json messages = Json::array();
  std::vector<ToolDefinition> tools;
  std::optional<Json> output_schema;  // structured output wanted, with this schema
  int max_tokens = 1024;
  std::optional<double> temperature;
  Json params = Json::object();  // passed through into the API request body

  // The normalized request as JSON (keys sorted), as recorded: what the provider is asked,
  // without the session and agent, which the API never sees.
  Json ToJson() const;
};

// Token counts of a call, the same way for every provider: input_tokens are the uncached input
// tokens, cache reads and writes are counted apart.
struct Usage {
  static Usage FromJson(const Json& j);  // counts that are not integers read as 0
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;

  Usage& operator+=(const Usage& other);
  // {"inputTokens", "outputTokens", "cacheReadTokens"?, "cacheWriteTokens"?}
  Json ToJson() const;
};

struct ToolUse {
  std::string id;
  std::string name;
  Json input = Json::object();
};

struct ModelResponse {
  std::string text;                // all text blocks, concatenated
  std::string thinking;            // all thinking blocks, concatenated
  Json content = Json::array();    // the assistant's content blocks, in order
  std::vector<ToolUse> tool_uses;  // tools to run before the model continues (never the
                                   // mechanism used to obtain structured output)
  std::optional<Json> structured;  // the final structured output, when the request asked for one
  std::string stop_reason;  // normalized: end_turn, tool_use, max_tokens, stop_sequence, refusal
  Usage usage;

  Json ToJson() const;
  // Reads a recorded response; a field of the wrong type is an error naming its path.
  static Result<ModelResponse> FromJson(const Json& j);
};

// Checks the fields scaffold reads of one content block (an object with a string "type";
// text blocks a string "text"; tool_use blocks string "id" and "name" and an object "input").
void CheckContentBlock(JsonReader& block);

enum class ProviderErrorKind {
  kRateLimited,       // 429
  kOverloaded,        // 529
  kServerError,       // 5xx, 408, 409, connection failures
  kTimeout,           // connect or stall timeout
  kInvalidRequest,    // 400, 404, 413, 422: the request itself is wrong
  kAuthentication,    // 401, 403
  kMissingRecording,  // playback found no recorded exchange
  kOther,
};

struct ProviderError {
  ProviderErrorKind kind = ProviderErrorKind::kOther;
  std::string message;  // never contains credentials
  int http_status = 0;
  std::optional<int64_t> retry_after_ms;  // from retry-after-ms / retry-after
  bool retryable = false;                 // the engine may try again after a delay

  Json ToJson() const;
  static Result<ProviderError> FromJson(const Json& j);
};

// agent:retry reason for a retryable error kind.
const char* RetryReason(ProviderErrorKind kind);

// Receives one call's stream. Invoked on the executor passed to Provider::Start.
class ModelStreamHandler {
 public:
  virtual ~ModelStreamHandler() = default;
  virtual void OnTextDelta(std::string_view delta) = 0;
  virtual void OnThinkingDelta(std::string_view delta) = 0;
  // Exactly one of OnComplete or OnError ends every call that was not cancelled.
  virtual void OnComplete(ModelResponse response) = 0;
  virtual void OnError(ProviderError error) = 0;
};

// An in-flight call. Cancel() (or destruction) on the executor stops all further callbacks and
// aborts the transfer promptly.
class ModelCall {
 public:
  virtual ~ModelCall() = default;
  virtual void Cancel() = 0;
  // Cancels because the engine's per-call timeout ran out (not because the session stopped).
  // Recording providers keep such calls, so replays time out the same way.
  virtual void TimedOut() { Cancel(); }
};

class Provider {
 public:
  virtual ~Provider() = default;
  // Starts a streaming call. Callbacks run on `executor`, never inside Start(). `handler` is
  // borrowed and must stay valid until the call ends or is cancelled.
  virtual std::unique_ptr<ModelCall> Start(const ModelRequest& request, Executor* executor,
                                           ModelStreamHandler* handler) = 0;
};

}  // namespace scaffold::engine
