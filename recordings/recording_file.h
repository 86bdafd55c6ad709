// Recording files (scaffold-recording(5)): a session, its events and its provider exchanges in
// one JSON Lines file, to commit to a repository and replay anywhere.
//
//   line 1     {"scaffold_recording": 1, "scaffold_version", "session": {...}, "workflow": text,
//               "workflow_sha256", "input", "redact", "events": N, "exchanges": M}
//   then       {"exchange": {...}}  M lines, in recording order
//   then       {"event": <event in wire form>}  N lines, positions 1..N
//   last line  {"end": {"events": N, "exchanges": M, "sha256": hex of every byte before it}}
//
// Export is deterministic, so export, import, export gives the same bytes.
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "recordings/exchange.h"
#include "recordings/store.h"

namespace scaffold::recordings {

inline constexpr int kRecordingFormat = 1;

Status ExportRecording(Store* store, const std::string& session_id, std::ostream& out);

struct Recording {
  engine::SessionInfo info;
  std::vector<engine::EventPtr> events;
  std::vector<Exchange> exchanges;
};

// Reads and checks a whole recording file. Every problem names its line; a file cut short or
// altered after export is refused.
Result<Recording> ReadRecording(std::istream& in);

// Stores a recording's session, events and exchanges, all or nothing.
Status ImportRecording(Store* store, const Recording& recording);

}  // namespace scaffold::recordings
