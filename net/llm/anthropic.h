// The Anthropic Messages API: POST {base}/v1/messages with stream: true.
//
// Request: model, max_tokens, system, messages (the engine's neutral blocks are Anthropic's),
// temperature, tools, and `params` merged at the top level (they cannot replace model,
// messages or stream). Structured output uses a forced tool whose input schema is the agent's
// output schema (wrapped in {"value": ...} when it is not an object); with other tools present
// the choice is "any", and with extended thinking (which forbids forced tools) it is "auto"
// with a line in the system prompt asking for the tool.
//
// Stream: message_start, content_block_start/delta/stop (text_delta, input_json_delta parsed at
// block stop, thinking_delta, signature_delta), message_delta (stop reason, cumulative usage),
// message_stop, ping and unknown events (ignored), and error events (overloaded_error and
// api_error are retryable).
#pragma once

#include "net/llm/llm_api.h"

namespace scaffold::net {

// Name of the forced tool that carries structured output for `request`.
std::string AnthropicOutputTool(const engine::ModelRequest& request);

HttpRequest BuildAnthropicRequest(const engine::ModelRequest& request, const Endpoint& endpoint);
// The JSON body alone, as sent.
Json AnthropicBody(const engine::ModelRequest& request);

std::unique_ptr<StreamDecoder> NewAnthropicDecoder(const engine::ModelRequest& request);

}  // namespace scaffold::net
