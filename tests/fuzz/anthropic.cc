// Fuzz target: the Anthropic Messages stream decoder (SSE frames from the model provider).

#include "net/llm/anthropic.h"

#include "tests/fuzz/provider_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto request = scaffold::fuzz::StreamRequest("anthropic");
  auto decoder = scaffold::net::NewAnthropicDecoder(request);
  scaffold::fuzz::DecodeStream(scaffold::fuzz::AsText(data, size), decoder.get());
  return 0;
}
