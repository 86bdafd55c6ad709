// Fuzz target: the OpenAI Chat Completions stream decoder (SSE frames from the model provider).

#include "net/llm/openai.h"

#include "tests/fuzz/provider_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto request = scaffold::fuzz::StreamRequest("openai");
  auto decoder = scaffold::net::NewOpenAiDecoder(request);
  scaffold::fuzz::DecodeStream(scaffold::fuzz::AsText(data, size), decoder.get());
  return 0;
}
