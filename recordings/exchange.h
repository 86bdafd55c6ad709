// A recorded provider exchange: one model call's normalized request and what came back.
//
// `request` is ModelRequest::ToJson() (keys sorted, so two requests differing only in a
// property name differ), after --redact masking; `key` is the sha256 of its compact text.
// `occurrence` numbers identical requests within a session (a retried call repeats its request).
// `response` is {"stream": [{"type": "text"|"thinking", "text": ...}, ...], "outcome":
// "complete" | "error" | "timeout", "response": ModelResponse (complete), "error":
// ProviderError (error)}: every delta in order, then how the call ended.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/json.h"
#include "engine/status.h"

namespace scaffold::recordings {

struct Exchange {
  std::string session_id;
  int64_t seq = 0;  // recording order within the session, from 1
  std::string key;
  int64_t occurrence = 1;
  std::string agent;
  Json request;
  Json response;
};

// The key of a canonical request.
std::string ExchangeKey(const Json& request);

// Where recorded exchanges are looked up and recorded: a Store (every session's), or a recording
// file's own (RecordingText). Implementations are thread-safe.
class ExchangeBook {
 public:
  virtual ~ExchangeBook() = default;

  // The --redact patterns session `session_id` was recorded with (none for an unknown session).
  virtual Result<std::vector<std::string>> RedactPatterns(const std::string& session_id) = 0;
  // Appends an exchange to its session (seq is assigned).
  virtual Status AppendExchange(const Exchange& exchange) = 0;
  // How many exchanges with `key` the session has recorded.
  virtual Result<int64_t> CountExchanges(const std::string& session_id,
                                         const std::string& key) = 0;
  // The exchange recorded for (key, occurrence): in `session_id` when given, else the most
  // recent one in any session.
  virtual Result<std::optional<Exchange>> FindExchange(
      const std::string& key, int64_t occurrence, const std::optional<std::string>& session_id) = 0;
  // Recorded requests of `agent` (in `session_id` when given), newest first, at most `limit`.
  virtual Result<std::vector<Exchange>> ExchangesForAgent(
      const std::string& agent, const std::optional<std::string>& session_id, int64_t limit) = 0;
};

}  // namespace scaffold::recordings
