// POST /mcp: the served workflows as the tools of an MCP server over Streamable HTTP, behind the
// server's authentication (the session owner is the authenticated user), for MCP clients that
// reach scaffold over the network.
//
// Stateless: no Mcp-Session-Id is given, every POST stands alone, and each request is answered
// with one JSON message (application/json); notifications and responses get 202. GET and DELETE
// get 405 (no server-initiated stream). Revisions 2025-11-25 and 2025-06-18; a request naming
// another in MCP-Protocol-Version gets 400.
//
// tools/list and tools/call as `scaffold mcp` (net/mcp/workflow_tools.h), with one difference:
// the session of a call lives in the server, so an ask is not put to the client (that needs a
// stream); the call answers with the pending ask and the session keeps waiting, to be answered
// with POST /sessions/:id/input, in the web console, or by `scaffold attach`. No progress
// notifications either. A call's HTTP answer comes when the session completes, fails or asks.
//
// What the client sends is hostile: a body that is not a JSON-RPC request gets 400 with a
// JSON-RPC error; bad params -32602 naming the JSON path; unknown methods -32601.
#pragma once

#include <functional>

#include "net/server/session_hub.h"

namespace scaffold::net {

struct ApiRequest;   // api.h
struct ApiResponse;

class McpRoute {
 public:
  explicit McpRoute(SessionHub* hub) : hub_(hub) {}
  // `reply` runs once, possibly later and on another thread.
  void Handle(const ApiRequest& request, std::function<void(ApiResponse)> reply);

 private:
  void CallTool(const ApiRequest& request, const Json& id, const Json& params,
                std::function<void(ApiResponse)> reply);

  SessionHub* hub_;
};

}  // namespace scaffold::net
