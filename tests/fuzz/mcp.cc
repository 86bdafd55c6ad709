// Fuzz target: what an MCP server sends. Each line of the input is one message, read as the
// client reads it (net/mcp/messages.h); a response's result is also read as a tools/list page
// and as a tools/call result, so both readers see every shape the fuzzer finds.

#include "net/mcp/messages.h"

#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest = scaffold::fuzz::AsText(data, size);
  while (!rest.empty()) {
    auto [line, after] = scaffold::fuzz::SplitFirstLine(rest);
    rest = after;
    auto message = scaffold::net::mcp::ParseMessage(line);
    if (!message.ok()) continue;
    if (message->result) {
      (void)scaffold::net::mcp::ParseToolsPage(*message->result);
      (void)scaffold::net::mcp::ParseCallResult(*message->result);
    }
    if (message->error) (void)scaffold::net::mcp::ErrorOfResponse("tools/call", *message->error);
  }
  return 0;
}
