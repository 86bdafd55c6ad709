// HttpServer: `scaffold serve` on Boost.Beast — HTTP routes (api.h), SSE event streams and
// WebSocket connections (scaffold-protocol(7)). Beast stays in http_server.cc and
// ws_session.cc; nothing else includes it.
//
// Threads: connections run on the server's own event loops (io_loops.h, `loops` threads, one
// loop each), each with one write in flight and a bounded queue behind it; sessions run on the
// caller's io_context, on as many threads as the caller likes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/status.h"
#include "net/server/api.h"
#include "net/server/jwt.h"
#include "net/server/metrics.h"
#include "net/server/session_hub.h"
#include "net/tools/client_tools.h"

namespace boost::asio {
class io_context;
}

namespace scaffold::net {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;                   // 0: the kernel picks one (see HttpServer::port())
  size_t max_body_bytes = 1 << 20;        // larger request bodies get 413
  size_t max_ws_message_bytes = 1 << 20;  // larger WebSocket messages close the connection (1009)
  int max_connections = 10000;            // more are refused with 503
  size_t max_send_queue_bytes = 8 << 20;  // a subscriber further behind is disconnected
  int64_t header_timeout_ms = 10000;      // to receive a request's headers (slowloris)
  int64_t idle_timeout_ms = 60000;  // between requests on a kept-alive connection; a WebSocket
                                    // is pinged at half of it and closed when silent for all of it
  int64_t heartbeat_ms = 15000;     // SSE comment heartbeat
  // Origins whose pages may call the server (CORS, and the Origin check on the WebSocket
  // upgrade and every state-changing route); the server's own origin is always allowed.
  std::vector<std::string> cors_origins;
  // Host names accepted on top of localhost, 127.0.0.1 and [::1] when `check_host` is on.
  std::vector<std::string> allowed_hosts;
  bool check_host = false;    // refuse other Host names (a loopback server without auth)
  bool serve_metrics = true;  // GET /metrics on this listener (off with auth: see metrics_only)
  bool metrics_only = false;  // a --metrics-listen listener: /metrics and /healthz, no auth
  bool access_log = true;     // one line per request on stderr
  int loops = 0;              // connection threads (io_loops.h); 0: one per core
};

class HttpServer {
 public:
  // Borrowed: io, api, hub, metrics; `verifier` null means no authentication.
  // `client_tools` (may be null: tools:register is refused) receives the tools that
  // ?client=osclient WebSocket connections register.
  HttpServer(boost::asio::io_context* io, ServerOptions options, Api* api, SessionHub* hub,
             Metrics* metrics, const JwtVerifier* verifier,
             ClientToolBroker* client_tools = nullptr);

  ~HttpServer();

  // Binds and starts accepting. kUnavailable when the address cannot be bound.
  Status Listen();
  uint16_t port() const;
  // Stops accepting new connections.
  void Stop();
  // Stops serving the connections: their loops stop and the threads are joined (as after a
  // crash, for clients). The connections, their sockets and the loops themselves go when `io`
  // is destroyed, after the handlers queued on it that may hold them. Idempotent; the
  // destructor does it.
  void Halt();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scaffold::net
