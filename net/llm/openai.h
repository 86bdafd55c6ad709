// OpenAI Chat Completions, and every server that speaks it (Ollama, vLLM, llama.cpp server,
// LM Studio, hosted compatible APIs): POST {base}/chat/completions with stream: true and
// stream_options.include_usage, where the base URL includes /v1 as in the official SDK.
//
// Request: the neutral conversation becomes system/user/assistant/tool messages (tool results
// as role "tool" messages, assistant tool calls with JSON-string arguments); tools as
// {"type": "function"}; structured output as response_format json_schema, "strict" only when
// the schema meets strict mode's rules (every object closed with additionalProperties: false
// and all properties required, no unsupported keywords), wrapped in {"value": ...} when the
// root is not an object. The token limit is max_completion_tokens for api.openai.com (newer
// models refuse max_tokens) and max_tokens elsewhere; `params` can override either.
//
// Stream quirks handled: data-only frames ending in [DONE] (or, for servers that omit it, the
// end of the stream after a finish_reason); tool_calls merged by index with the id and name
// first and argument fragments after, or whole in one chunk (Ollama), with ids made up when a
// server sends none; arguments sent as an object instead of a string; the usage chunk with
// empty choices; reasoning text as delta.reasoning_content (vLLM, DeepSeek) or
// delta.reasoning (Ollama, LM Studio), reported as thinking; error frames mid-stream.
#pragma once

#include "net/llm/llm_api.h"

namespace scaffold::net {

HttpRequest BuildOpenAiRequest(const engine::ModelRequest& request, const Endpoint& endpoint);
// The JSON body alone, as sent to `endpoint`.
Json OpenAiBody(const engine::ModelRequest& request, const Endpoint& endpoint);

// True when strict structured output accepts `schema` as it is.
bool StrictSchemaAllowed(const Json& schema);

std::unique_ptr<StreamDecoder> NewOpenAiDecoder(const engine::ModelRequest& request);

}  // namespace scaffold::net
