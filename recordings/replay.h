// Replay (DESIGN §6): re-run a recorded session with no LLM, no human and no client, and check
// that the workflow produces the same events.
//
// The workflow (the recorded one, or a changed file) runs from the recorded input on a virtual
// clock — retry delays and timeouts take no time and fall the same way every run — against the
// recorded provider exchanges, recorded answers and recorded tool results, into an in-memory
// database under the recorded session id. Then the events are compared (event_compare.h).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "engine/session_log.h"
#include "engine/workflow.h"
#include "recordings/event_compare.h"
#include "recordings/recording_file.h"
#include "recordings/recording_provider.h"
#include "recordings/store.h"

namespace scaffold::recordings {

struct ReplayReport {
  enum class Verdict { kIdentical, kDiverged, kMissingExchange };
  Verdict verdict = Verdict::kIdentical;
  std::string session_id;
  int64_t events = 0;     // recorded events
  int64_t exchanges = 0;  // exchanges played back
  std::optional<Divergence> divergence;
  std::optional<MissingExchange> missing;

  // "identical: 214 events, 6 exchanges", or what went wrong, over several lines.
  std::string ToText() const;
  Json ToJson() const;
};

struct ReplayOptions {
  std::shared_ptr<const engine::Workflow> workflow;  // null: the one the session recorded
  engine::EventSink* view = nullptr;  // sees the replayed events as they come (borrowed)
};

// Replays session `session_id` stored in `source` (which also holds its exchanges).
Result<ReplayReport> ReplaySession(Store* source, const std::string& session_id,
                                   const ReplayOptions& options);

// Replays a recording file's session as read (ReadRecordingText), without storing its events.
Result<ReplayReport> ReplayRecording(const RecordingText& recording,
                                     const ReplayOptions& options);

}  // namespace scaffold::recordings
