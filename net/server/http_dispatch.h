// What the server does with one HTTP request once Beast has parsed it, apart from the socket:
// CORS preflight, authentication, and the choice between an API answer, an SSE event stream
// and a WebSocket. http_server.cc carries the decision out on the connection; the fuzz target
// drives the same code with bytes and no socket.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "net/server/api.h"
#include "net/server/server_context.h"

namespace scaffold::net {

// A parsed request, as Beast gave it.
struct IncomingRequest {
  std::string method;
  std::string target;                          // raw: path and query, percent-encoded
  std::map<std::string, std::string> headers;  // lower-case names; the last of repeated ones
  std::string body;
  bool upgrade = false;  // a WebSocket upgrade request
  std::string remote;    // the peer's address
};

struct Dispatch {
  enum class Kind { kReply, kApi, kEventStream, kWebSocket };
  Kind kind = Kind::kReply;
  ApiResponse response;    // kReply: send this
  ApiRequest request;      // kApi, kEventStream, kWebSocket: the request, authenticated
  EventStreamRoute route;  // kEventStream
  std::string client;      // kWebSocket: ?client=
  // CORS headers for every answer to this request (empty unless the origin is allowed).
  std::vector<std::pair<std::string, std::string>> cors;
};

// Decides what to do with `in`. Never throws.
Dispatch DispatchRequest(ServerContext* ctx, IncomingRequest in);

}  // namespace scaffold::net
