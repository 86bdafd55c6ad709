// The MCP Streamable HTTP transport (revision 2025-11-25, also 2025-06-18), client side.
//
// Every message is a POST to the server's one URL (Accept: application/json, text/event-stream;
// MCP-Protocol-Version once the handshake settled it; Mcp-Session-Id once the server gave one
// in its answer to initialize). The answer is one JSON message, or an SSE stream carrying the
// server's requests and notifications and, last, the response. A stream that breaks before the
// response is resumed with a GET carrying Last-Event-ID when its events had ids (up to
// kMaxResumes times); otherwise the request fails with a JSON-RPC error naming the cause. An
// HTTP error answer fails its request the same way; 404 once a session id was given means the
// server ended the session, and closes the transport (a new one starts a new session). Stop()
// ends the session with a DELETE.
//
// Not built: the optional GET stream for messages the server sends outside any request (a
// server's tools/list_changed then arrives only within the stream of a request).
//
// What the server sends is hostile: a message or an error body past max_message_bytes aborts
// its request; the host of the URL must be allow-listed before anything is sent.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/curl_loop.h"
#include "net/mcp/transport.h"

namespace scaffold::net::mcp {

struct HttpOptions {
  std::string url;
  std::vector<std::string> headers;  // "Name: value", sent with every request
  int64_t max_message_bytes = 16 * 1024 * 1024;
  int64_t connect_timeout_ms = 10000;
  int64_t stall_timeout_ms = 300000;  // a stream silent this long is broken
};

inline constexpr int kMaxResumes = 3;

class HttpTransport : public Transport {
 public:
  static Result<std::unique_ptr<HttpTransport>> Start(HttpOptions options, LineHandler on_line,
                                                      ClosedHandler on_closed);
  ~HttpTransport() override;

  void Run() override {}
  Status Send(std::string_view json) override;
  void Stop() override;
  void Abort(const std::string& why) override;
  void SetProtocolVersion(const std::string& version) override;

  std::string session_id() const;

 private:
  class Exchange;
  HttpTransport(HttpOptions options, LineHandler on_line, ClosedHandler on_closed);
  std::vector<std::string> Headers(bool json_body) const;
  // Starts (or resumes, with `last_event_id`) the exchange's transfer.
  void Launch(const std::shared_ptr<Exchange>& exchange, const std::string& last_event_id);
  // From the curl thread: one message for the client, unless closed.
  void Deliver(std::string_view message);
  void Finished(const std::shared_ptr<Exchange>& exchange);
  void Close(const std::string& why);

  HttpOptions options_;
  LineHandler on_line_;
  ClosedHandler on_closed_;
  CurlLoop curl_;

  mutable std::mutex mu_;
  std::string session_id_;
  std::string protocol_version_;
  std::map<uint64_t, std::shared_ptr<Exchange>> running_;  // by transfer id
  std::atomic<bool> closed_{false};
  std::mutex deliver_mu_;  // one message at a time to on_line_
};

}  // namespace scaffold::net::mcp
