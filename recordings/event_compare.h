// Comparing a replayed session's events with the recorded ones (DESIGN §6).
//
// Both logs are normalized first:
//  - ignored: event ids, positions, timestamps, and the payload fields durationMs, intentId
//    and the generated toolId of tool phases;
//  - dropped: state:checkpoint (derived), session:paused/resumed/forked (bookkeeping of
//    interruptions), and everything an interrupted attempt emitted before a resume (agent
//    invocations and tool calls left open), since a replay runs straight through.
// Then each phase visit is compared lane by lane: the events that belong to an agent
// invocation (payload.agent, plus index inside `each`) form that invocation's lane and must match
// in order; the rest form the main lane. So branches that finish in another order still match.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/event.h"
#include "engine/status.h"

namespace scaffold::recordings {

struct Divergence {
  int64_t recorded_position = 0;     // 0 when the recording has no event here
  int64_t replay_position = 0;       // 0 when the replay has no event here
  std::string event;                 // the recorded event's name (or the replay's)
  std::string lane;                  // "main" or "agent" / "agent[3]"
  std::string phase;                 // the phase visit it happened in
  std::string path;                  // JSON path of the first difference, inside {name, payload}
  Json recorded;                     // the value at `path` in the recording (null when absent)
  Json now;                          // ... in the replay
  std::string recorded_event;        // the whole recorded event, briefly ("32 state:intent {...}")
  std::string replay_event;          // the whole replayed event, briefly
  std::vector<std::string> context;  // the recorded events just before it

  std::string ToText() const;
  Json ToJson() const;
};

// The first divergence between `recorded` and `replayed`, or nothing when they match.
std::optional<Divergence> CompareEvents(const std::vector<engine::EventPtr>& recorded,
                                        const std::vector<engine::EventPtr>& replayed);

// A recorded event as the comparison reads it. A source may hand it over unparsed, as its wire
// text in the layout Event::Serialize writes (engine::ViewWire): when the replay emitted the same
// name and payload bytes at the same place, that settles it, and the text is parsed only when it
// does not (for a payload with fields that differ between runs, such as durationMs, or for a
// visit that differs).
struct RecordedEvent {
  engine::EventPtr parsed;   // null until parsed
  int64_t position = 0;
  std::string_view name;     // into `parsed` or the source's text
  std::string_view payload;  // the payload's wire text; empty when not known
};

// A parsed event as a recorded one (its payload's text read from its wire when it has one).
RecordedEvent Recorded(const engine::EventPtr& e);

// The same comparison one phase visit at a time, so that neither log is held whole: replayed
// events are added as they come, and recorded ones are read from `recorded` only as far as the
// visit being compared needs. Memory is a visit of each, whatever the logs' lengths.
class StreamingComparison {
 public:
  // The next recorded event in position order; nothing after the last.
  using Source = std::function<Result<std::optional<RecordedEvent>>()>;
  // Parses a recorded event the source handed over unparsed.
  using Parser = std::function<Result<engine::EventPtr>(const RecordedEvent&)>;

  StreamingComparison(Source recorded, Parser parse);
  ~StreamingComparison();

  // Adds replayed events, in order (serialized: their `wire` is set), comparing each visit they
  // complete. Fails only when the source or the parser does.
  Status AddReplayed(std::span<const engine::EventPtr> events);
  // The replay is over: compares what is left on both sides.
  Status Finish();

  // The first divergence found so far.
  const std::optional<Divergence>& divergence() const { return divergence_; }

 private:
  template <typename T>
  struct Side;
  Status ReadRecorded();
  Status CompareReady();
  Status CompareHeads();
  Result<bool> SameVisit(std::vector<RecordedEvent>* recorded,
                         const std::vector<engine::EventPtr>& replayed);
  Status Parse(RecordedEvent* e);

  Source recorded_source_;
  Parser parse_;
  std::unique_ptr<Side<RecordedEvent>> recorded_;
  std::unique_ptr<Side<engine::EventPtr>> replayed_;
  std::optional<Divergence> divergence_;
};

}  // namespace scaffold::recordings
