// What the Anthropic and OpenAI fuzz targets share: the input is a streamed response body,
// decoded as the provider client decodes it, chunked where the input has 0xFF bytes.
#pragma once

#include <memory>
#include <vector>

#include "net/llm/llm_api.h"
#include "tests/fuzz/fuzz_input.h"

namespace scaffold::fuzz {

// Decodes `text` with `decoder`; returns when the decoder reports an error, as the client does.
inline void DecodeStream(std::string_view text, net::StreamDecoder* decoder) {
  net::SseParser parser;
  std::vector<net::SseEvent> events;
  std::vector<net::StreamDelta> deltas;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i < text.size() && static_cast<unsigned char>(text[i]) != 0xFF) continue;
    events.clear();
    parser.Feed(text.substr(start, i - start), &events);
    if (i == text.size()) parser.Finish(&events);
    start = i + 1;
    for (const auto& e : events) {
      if (decoder->OnEvent(e, &deltas)) return;
    }
  }
  if (!decoder->Complete()) return;
  engine::ModelResponse response;
  if (decoder->Finish(&response)) return;
  (void)response.ToJson();
}

// A request with tools and structured output, so every decoding path is reachable.
inline engine::ModelRequest StreamRequest(const char* provider) {
  engine::ModelRequest r;
  r.provider = provider;
  r.model = "fuzz-model";
  r.tools.push_back({"lookup", "looks up", Json{{"type", "object"}}});
  r.output_schema = Json{{"type", "object"}, {"properties", {{"a", {{"type", "string"}}}}}};
  return r;
}

}  // namespace scaffold::fuzz
