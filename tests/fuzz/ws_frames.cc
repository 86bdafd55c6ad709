// Fuzz target: the bytes a WebSocket client sends to `scaffold serve`, read by the server's
// frame reader (net/server/ws_protocol.h) in pieces of varying size, as reads from a socket
// come. The first byte picks the size of the pieces, the second the message limit. Checked:
// no message over the limit, nothing after a failure or a close, and what the reader holds
// bounded by the largest frame it may wait for and the message it may be putting together.

#include <algorithm>
#include <cstdlib>

#include "net/server/ws_protocol.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

struct Checker : scaffold::net::WsFrameReader::Handler {
  size_t max = 0;
  bool closed = false;
  void OnWsMessage(std::string message) override {
    if (message.size() > max || closed) std::abort();
  }
  void OnWsPing(std::string_view payload) override {
    if (payload.size() > 125 || closed) std::abort();
  }
  void OnWsClose(uint16_t, std::string_view reason) override {
    if (reason.size() > 123 || closed) std::abort();
    closed = true;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  size_t piece = 1 + data[0] % 64;
  Checker checker;
  checker.max = 16 + size_t{data[1]} * 64;
  scaffold::net::WsFrameReader reader(checker.max);
  std::string_view bytes = scaffold::fuzz::AsText(data + 2, size - 2);
  bool failed = false;
  for (size_t at = 0; at < bytes.size(); at += piece) {
    auto failure = reader.Feed(bytes.substr(at, piece), checker);
    if (failure && failed) std::abort();  // a failure is reported once
    if (failure) failed = true;
    // A frame's bytes wait until it is whole: at most a header and the larger of the limit and
    // a control frame's 125 bytes, with the start of the next frame from the same piece (64
    // bytes at most). The fragments of a message wait until its last one: at most the limit.
    // Each is in a string that grows by doubling and keeps its capacity for the next frame.
    size_t frame = std::max<size_t>(checker.max, 125) + 14;
    if (reader.held() > 2 * (frame + 64) + 2 * checker.max) std::abort();
  }
  return 0;
}
