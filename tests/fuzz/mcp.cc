// Fuzz target: what an MCP server or client sends. Each line of the input is one message, read
// as the client reads it (net/mcp/messages.h); a response's result is also read as a tools/list
// page and as a tools/call result (and that turned into a tool result, net/tools/mcp_tools.h);
// a request's params as tools/call's of a workflow tool (net/mcp/workflow_tools.h), as an
// initialize's and as a recorded tool:listed payload (engine/tool_listing.h), so every reader
// sees every shape the fuzzer finds.

#include "engine/tool_listing.h"
#include "net/mcp/messages.h"
#include "net/mcp/workflow_tools.h"
#include "net/tools/mcp_tools.h"

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
      auto call = scaffold::net::mcp::ParseCallResult(*message->result);
      if (call.ok()) (void)scaffold::net::ToolResultOf(*call, 64);
      (void)scaffold::engine::ListingFromJson(*message->result);
    }
    if (!message->params.is_null()) {
      (void)scaffold::net::mcp::ReadCallParams(message->params);
      (void)scaffold::net::mcp::NegotiateVersion(message->params);
    }
    if (message->error) (void)scaffold::net::mcp::ErrorOfResponse("tools/call", *message->error);
  }
  return 0;
}
