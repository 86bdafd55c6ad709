// RemoteClient: the terminal's client of `scaffold serve` (scaffold-protocol(7)) — JSON
// requests, and a session's event stream that survives dropped connections by reconnecting
// with Last-Event-ID, so every event arrives once and in order.
//
// Requests go through the process's CurlLoop; every callback runs on `executor` (the terminal's
// event loop), so callers need no locks.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/event.h"
#include "engine/executor.h"
#include "net/curl_loop.h"

namespace scaffold::net {

struct RemoteResponse {
  int status = 0;     // 0: no HTTP response (see error)
  Json body;          // the parsed JSON body, or null
  std::string error;  // why there is no response, or the server's error message
};

// A followed event stream; destroying it (or Stop) ends it without further callbacks.
class RemoteEventStream {
 public:
  virtual ~RemoteEventStream() = default;
  virtual void Stop() = 0;
};

struct FollowCallbacks {
  // New events, in position order, each delivered once.
  std::function<void(std::vector<engine::EventPtr>)> on_events;
  // The connection dropped and is being re-established (for a note on stderr).
  std::function<void(const std::string& why, int64_t position)> on_reconnecting;
  // Once: Ok after the final event (the server closes the stream then); otherwise why the
  // stream gave up (unauthorized, no such session, or no connection for `give_up_ms`).
  std::function<void(const Status&)> on_end;
};

class RemoteClient {
 public:
  // `base_url` is "http://host:port" (a trailing slash is ignored); `token` is sent as a
  // Bearer token when not empty. `curl` and `executor` are borrowed.
  RemoteClient(CurlLoop* curl, engine::Executor* executor, std::string base_url, std::string token);

  const std::string& base_url() const { return base_url_; }

  // One request with a JSON body (none when `body` is null).
  void Request(const std::string& method, const std::string& path, const Json& body,
               std::function<void(RemoteResponse)> done);

  // Follows a session's events after `position` (0: from the first). After a dropped
  // connection it reconnects with Last-Event-ID: at once, then after 250 ms doubling up to 4 s.
  std::unique_ptr<RemoteEventStream> Follow(const std::string& session_id, int64_t position,
                                            FollowCallbacks callbacks, int64_t give_up_ms = 60000);

 private:
  HttpRequest Make(const std::string& method, const std::string& path) const;

  CurlLoop* curl_;
  engine::Executor* executor_;
  std::string base_url_;
  std::string token_;
};

// The server's error message from an error body ({"error": {"code", "message"}}), or the HTTP
// status when there is none.
std::string RemoteErrorMessage(const RemoteResponse& response);

}  // namespace scaffold::net
