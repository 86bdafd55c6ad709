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

#include <deque>
#include <istream>
#include <memory>
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

// The largest recording read: 1 GiB (a session of 105,004 events records as 21 MB). A file or a
// pipe holding more is refused before it is parsed: an endless stream or a huge file does not
// get the memory that reading and parsing it would take.
inline constexpr size_t kMaxRecordingBytes = size_t{1} << 30;

// Reads and checks a whole recording file. Every problem names its line; a file cut short or
// altered after export is refused.
Result<Recording> ReadRecording(std::istream& in, size_t max_bytes = kMaxRecordingBytes);

// A recording file read for a replay: every line checked as ReadRecording checks it (header,
// exchanges, order, counts, the checksum; the exchange lines on several threads when there are
// many) but the events and exchanges left as text in the file's buffer and parsed when asked for,
// so a long recording costs about its own size. Two exchanges with the same key and occurrence
// are refused here (a lookup could not tell them apart; importing such a file fails too).
class RecordingText {
 public:
  const engine::SessionInfo& info() const { return info_; }
  // The session's exchanges, for the provider's lookups (kept as the file's text).
  ExchangeBook* exchanges() const { return exchanges_.get(); }
  size_t event_count() const { return wires_.size(); }
  // Event `i` (0 for position 1) as the file has it, unparsed.
  std::string_view EventText(size_t i) const { return wires_[i]; }
  // Event `i` parsed and checked (position, shape); a problem names its line.
  Result<engine::EventPtr> Event(size_t i) const;

 private:
  friend Result<RecordingText> ReadRecordingText(std::istream& in, size_t max_bytes);
  engine::SessionInfo info_;
  std::shared_ptr<const std::string> data_;  // the file; wires_ and exchanges_ point into it
  std::unique_ptr<ExchangeBook> exchanges_;
  std::shared_ptr<std::deque<std::string>> rewritten_;  // or into these
  std::vector<std::string_view> wires_;
  size_t first_event_line_ = 0;
};
Result<RecordingText> ReadRecordingText(std::istream& in, size_t max_bytes = kMaxRecordingBytes);

// Stores a recording's session, events and exchanges, all or nothing.
Status ImportRecording(Store* store, const Recording& recording);

}  // namespace scaffold::recordings
