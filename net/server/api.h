// The HTTP API of `scaffold serve` (DESIGN §9, scaffold-protocol(7)) as plain request and
// response values: the routes, their bodies and their errors, with no sockets involved. The
// server (http_server.cc) parses requests, authenticates them and hands them here; event
// streams (SSE) are recognized here and served by the server.
//
// Errors are {"error": {"code", "message"}} with the matching status: 400 bad_request,
// 401 unauthorized, 404 not_found, 405 method_not_allowed, 409 conflict, 413 payload_too_large,
// 501 not_implemented, 503 unavailable, 500 internal.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/json.h"
#include "engine/status.h"
#include "engine/usage_tally.h"
#include "net/server/mcp_route.h"
#include "net/server/metrics.h"
#include "net/server/session_hub.h"

namespace scaffold::net {

struct ApiRequest {
  std::string method;
  std::string path;                            // without the query string, percent-decoded
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string user;  // the authenticated subject; "" without auth
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  static ApiResponse WithJson(int status, const Json& body);
  static ApiResponse Error(int status, const std::string& code, const std::string& message);
  static ApiResponse FromStatus(const Status& status);
  // The HTTP status and error code a Status answers with (kInvalidArgument: 400 "bad_request").
  static int HttpStatusOf(const Status& status);
  static std::string CodeOf(const Status& status);
};

// GET /sessions/:id/events, parsed.
struct EventStreamRoute {
  std::string session_id;
  // First position to send from the log: ?history=true is 1, ?fromPosition=N is N (0 is 1),
  // Last-Event-ID: N is N+1, Last-Event-ID: <event id> the position after that event; 0
  // follows live events only.
  int64_t from_position = 0;
  // ?closeAtEnd=true: end the stream after a finished session's last event. Without it the
  // stream stays open (heartbeats only), as clients that reopen closed streams at once expect.
  bool close_at_end = false;
};

// `text` for one line of a log: control characters, backslashes, quotes and invalid UTF-8
// written as \n, \x1b, \\, \" and \xff, so nothing from a request can forge a line.
std::string EscapeForLog(std::string_view text);

// "17" -> 17; nullopt for anything but a count of at most 18 digits.
std::optional<int64_t> ParsePosition(const std::string& text);

// Splits "/a/b?x=1&y=%20" into a decoded path and query. Fails on malformed escapes.
Result<std::pair<std::string, std::map<std::string, std::string>>> SplitTarget(
    const std::string& target);

class Api {
 public:
  // Borrowed; must outlive the Api.
  Api(SessionHub* hub, Metrics* metrics);

  // The event stream a request asks for, or a 400 for bad parameters; nullopt when the request
  // is not GET /sessions/:id/events.
  std::optional<Result<EventStreamRoute>> MatchEventStream(const ApiRequest& request) const;

  // Every other route. `reply` runs once, possibly on another thread. Never throws: an
  // unexpected failure answers 500 and is logged.
  void Handle(const ApiRequest& request, std::function<void(ApiResponse)> reply);

 private:
  void Route(const ApiRequest& request, std::function<void(ApiResponse)> reply);
  ApiResponse Sessions(const ApiRequest& request);
  // The answer a POST /sessions/:id/input body gives.
  Result<engine::InputAnswer> ReadAnswer(const std::string& session_id, const Json& body) const;
  // The state before a session's first event.
  Result<Json> InitialState(const engine::SessionInfo& info) const;
  void Session(const ApiRequest& request, const std::vector<std::string>& parts,
               std::function<void(ApiResponse)> reply);

  // GET /sessions/:id/state?position=N (api_reads.cc).
  ApiResponse SessionState(const ApiRequest& request, const std::string& id);
  // GET /sessions/:id/workflow: the workflow text the session runs, as stored with it.
  ApiResponse SessionWorkflow(const SessionView& session) const;
  // GET /sessions/:id/usage: tokens and cost, in total and per agent (api_reads.cc).
  ApiResponse SessionUsage(const SessionView& session);

  SessionHub* hub_;
  Metrics* metrics_;
  McpRoute mcp_;  // POST /mcp

  // Usage tallies kept per session and fed only the events that follow, so that a console
  // asking every few seconds costs the new events, not the whole log. Bounded: cleared past
  // kMaxTallies sessions.
  struct Tally {
    std::mutex mu;  // held while the tally is fed
    int64_t position = 0;
    std::unique_ptr<engine::UsageTally> tally;
  };
  static constexpr size_t kMaxTallies = 4096;
  std::mutex tallies_mu_;
  std::map<std::string, std::shared_ptr<Tally>> tallies_;  // guarded by tallies_mu_
};

}  // namespace scaffold::net
