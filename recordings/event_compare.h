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

// The same comparison one phase visit at a time, so that neither log is held whole: replayed
// events are added as they come, and recorded ones are read from `recorded` only as far as the
// visit being compared needs. Memory is a visit of each, whatever the logs' lengths.
class StreamingComparison {
 public:
  // The next recorded event in position order; a null EventPtr after the last.
  using Source = std::function<Result<engine::EventPtr>()>;

  explicit StreamingComparison(Source recorded);
  ~StreamingComparison();

  // Adds replayed events, in order, comparing each visit they complete. Fails only when the
  // source does.
  Status AddReplayed(std::span<const engine::EventPtr> events);
  // The replay is over: compares what is left on both sides.
  Status Finish();

  // The first divergence found so far.
  const std::optional<Divergence>& divergence() const { return divergence_; }

 private:
  struct Side;
  Status ReadRecorded();
  Status CompareReady();
  void CompareHeads();

  Source recorded_source_;
  std::unique_ptr<Side> recorded_;
  std::unique_ptr<Side> replayed_;
  std::optional<Divergence> divergence_;
};

}  // namespace scaffold::recordings
