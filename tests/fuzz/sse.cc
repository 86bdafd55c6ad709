// Fuzz target: the SSE parser, with the stream cut into chunks where the input says (each
// 0xFF byte ends a chunk), as bytes arrive from a socket.

#include <vector>

#include "net/sse_parser.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = scaffold::fuzz::AsText(data, size);
  scaffold::net::SseParser parser;
  std::vector<scaffold::net::SseEvent> events;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || static_cast<unsigned char>(text[i]) == 0xFF) {
      parser.Feed(text.substr(start, i - start), &events);
      start = i + 1;
    }
  }
  parser.Finish(&events);
  (void)parser.retry();
  return 0;
}
