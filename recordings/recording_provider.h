// RecordingProvider: records every provider exchange, or plays recorded ones back.
//
// Modes (DESIGN §6):
//   live      call the real provider and record the exchange
//   playback  never touch the network; play the recorded exchange back, or fail the call with
//             kMissingRecording and remember the nearest recorded request for a report
//   auto      play back what is recorded, call and record what is not
// An exchange is recorded when its call ends: completed, failed, or timed out by the engine
// (engine::ModelCall::TimedOut), with every delta it streamed. Calls abandoned because the
// session stopped (Ctrl-C, a crash, DELETE) are not recorded, so a resumed session's exchanges
// line up with a replay that runs straight through. Requests and responses are masked with the
// session's --redact patterns before they are hashed and stored.
//
// Occurrence numbers count identical requests within a session: by completion when recording,
// by start when playing back. Identical requests made concurrently (an `each` over duplicate
// items) may therefore get each other's answers in a replay.
//
// Runs on the sessions' executors; thread-safe (a mutex guards the per-session state).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "engine/json_diff.h"
#include "engine/provider.h"
#include "engine/redactor.h"
#include "recordings/store.h"

namespace scaffold::recordings {

enum class RecordMode { kLive, kPlayback, kAuto };
Result<RecordMode> ParseRecordMode(const std::string& text);
const char* RecordModeName(RecordMode mode);

// A request playback could not find.
struct MissingExchange {
  std::string session_id;
  std::string agent;
  std::string key;
  int64_t occurrence = 0;
  Json request;
  std::optional<Exchange> nearest;       // the closest recorded request of the same agent
  std::vector<engine::JsonChange> diff;  // nearest -> this request

  // "agent \"writer\": no recorded exchange for this request (occurrence 1)" plus the diff.
  std::string Describe() const;
  Json ToJson() const;
};

class RecordingProvider : public engine::Provider {
 public:
  struct Options {
    RecordMode mode = RecordMode::kLive;
    // Play back only exchanges recorded by this session (replays); otherwise any session's
    // (run --mode playback/auto reuses earlier runs' answers).
    bool same_session_only = false;
  };

  // `book` holds the recordings (and the sessions' redaction patterns): a Store, or a recording
  // file's exchanges; `inner` is the real provider, null in playback mode. Both borrowed.
  RecordingProvider(ExchangeBook* book, engine::Provider* inner, Options options);

  std::unique_ptr<engine::ModelCall> Start(const engine::ModelRequest& request,
                                           engine::Executor* executor,
                                           engine::ModelStreamHandler* handler) override;

  // The first request playback could not find, if any.
  std::optional<MissingExchange> first_miss() const;
  // Exchanges played back so far.
  int64_t played() const;

  // Called by calls when they end (internal).
  Status Record(const Exchange& exchange);

 private:
  struct Prepared {
    Json request;  // canonical and masked
    std::string key;
  };
  Prepared Prepare(const engine::ModelRequest& request);
  const engine::Redactor& RedactorFor(const std::string& session_id);
  MissingExchange Explain(const engine::ModelRequest& request, const Prepared& prepared,
                          int64_t occurrence);

  ExchangeBook* const book_;
  engine::Provider* const inner_;
  const Options options_;

  mutable std::mutex mu_;
  // Protected by mu_.
  std::map<std::string, engine::Redactor> redactors_;  // by session id
  std::map<std::pair<std::string, std::string>, int64_t>
      started_;  // (session, key) -> playback starts
  std::optional<MissingExchange> first_miss_;
  int64_t played_ = 0;
};

}  // namespace scaffold::recordings
