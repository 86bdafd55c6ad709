// What the Anthropic and OpenAI modules share: where a provider lives, and the interface that
// turns a streamed response into deltas and a final ModelResponse.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/provider.h"
#include "net/curl_loop.h"
#include "net/sse_parser.h"

namespace scaffold::net {

struct Endpoint {
  std::string name;         // the provider's name in the workflow ("anthropic", "local", ...)
  std::string type;         // "anthropic" or "openai"
  std::string base_url;     // no trailing slash; Anthropic's has no /v1, OpenAI's has it
  std::string api_key;      // secret: sent as a header, never logged or stored
  std::string api_key_env;  // where the key came from, for error messages
  int64_t connect_timeout_ms = 10000;
  int64_t stall_timeout_ms = 60000;
  // The most a reply's stream may carry: 128 MiB, about four times the stream of a reply of
  // 128,000 tokens sent one per event. What a reply holds in memory (its text, thinking and
  // tool arguments) is at most what its stream carried. A larger reply fails the call, not
  // retried: the same request would get the same reply.
  size_t max_reply_bytes = size_t{128} << 20;
};

// Tool calls one reply may carry; a stream that names more is refused as malformed.
inline constexpr int kMaxToolCalls = 128;

struct StreamDelta {
  bool thinking = false;
  std::string text;
};

// Decodes one streamed response. Used on the CurlLoop thread only.
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  // Handles one SSE event, appending text/thinking deltas. An error (a mid-stream error frame,
  // malformed JSON, a field of the wrong type: StreamError naming its JSON path) ends the call.
  // Never throws.
  virtual std::optional<engine::ProviderError> OnEvent(const SseEvent& event,
                                                       std::vector<StreamDelta>* deltas) = 0;
  // True when the stream has said everything it will (so its end is not a dropped connection).
  virtual bool Complete() const = 0;
  // The whole response, once Complete().
  virtual std::optional<engine::ProviderError> Finish(engine::ModelResponse* response) = 0;
};

// Both APIs want an object at the root of a structured-output schema. Other schemas are wrapped
// as {"value": schema} and the value unwrapped from the reply.
bool NeedsWrapping(const Json& schema);
Json WrapSchema(const Json& schema);
// The structured output for `reply`, unwrapped when the schema was wrapped.
Json UnwrapOutput(const Json& schema, const Json& reply);

// A retryable server error, as mid-stream decoding problems are reported.
engine::ProviderError StreamError(std::string message);

// The default error message of an HTTP error body: the API's error.message when it has one,
// otherwise the body itself, shortened.
std::string ErrorBodyMessage(std::string_view body);

}  // namespace scaffold::net
