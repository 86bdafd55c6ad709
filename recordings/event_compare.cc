#include "recordings/event_compare.h"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include "engine/json_diff.h"
#include "engine/json_patch.h"

namespace scaffold::recordings {
namespace {

namespace ev = engine::events;

struct Normal {
  int64_t position;
  std::string name;
  // The stored payload, or a copy without the fields that may differ between runs (most
  // events have none, and copying every payload cost a sixth of a replay).
  const Json* stored;
  std::optional<Json> normalized;
  std::string lane;
  const Json& payload() const { return normalized ? *normalized : *stored; }
  Json Comparable() const { return Json{{"name", name}, {"payload", payload()}}; }
};

struct Visit {
  std::string phase;
  std::vector<std::string> lane_order;  // lanes in order of first appearance
  std::map<std::string, std::vector<Normal>> lanes;
};

std::string LaneOf(const Json& payload) {
  auto agent = payload.find("agent");
  if (agent == payload.end() || !agent->is_string()) return "main";
  std::string lane = agent->get<std::string>();
  if (payload.contains("index"))
    lane += "[" + std::to_string(payload["index"].get<int64_t>()) + "]";
  return lane;
}

bool Dropped(const std::string& name) {
  return name == ev::kStateCheckpoint || name == ev::kSessionPaused ||
         name == ev::kSessionResumed || name == ev::kSessionForked;
}

// Indices of events emitted by attempts that a resume abandoned.
std::set<size_t> Abandoned(const std::vector<engine::EventPtr>& events) {
  std::set<size_t> out;
  size_t visit_start = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = *events[i];
    if (e.name == ev::kPhaseEntered) visit_start = i;
    if (e.name != ev::kSessionResumed) continue;
    // Lanes and tool-phase calls still open at the resume were restarted after it.
    std::map<std::string, bool> open;
    std::set<std::string> open_tools;
    for (size_t j = visit_start; j < i; ++j) {
      const auto& x = *events[j];
      if (engine::IsExternalToolEvent(x)) continue;
      std::string lane = LaneOf(x.payload);
      if (x.name == ev::kAgentStarted) open[lane] = true;
      if (x.name == ev::kAgentCompleted) open[lane] = false;
      if (lane == "main" && x.name == ev::kToolCalled)
        open_tools.insert(x.payload.value("toolId", ""));
      if (lane == "main" && x.name == ev::kToolResult)
        open_tools.erase(x.payload.value("toolId", ""));
    }
    for (size_t j = visit_start; j < i; ++j) {
      const auto& x = *events[j];
      std::string lane = LaneOf(x.payload);
      bool in_open_lane = lane != "main" && open.count(lane) && open[lane];
      bool open_tool = lane == "main" && (x.name == ev::kToolCalled || x.name == ev::kToolResult) &&
                       open_tools.count(x.payload.value("toolId", ""));
      if (in_open_lane || open_tool) out.insert(j);
    }
  }
  return out;
}

std::optional<Json> Normalize(const std::string& name, const Json& stored) {
  bool tool_id = (name == ev::kToolCalled || name == ev::kToolResult) && stored.contains("phase");
  if (!stored.contains("durationMs") && !stored.contains("intentId") && !tool_id)
    return std::nullopt;
  Json payload = stored;
  payload.erase("durationMs");
  payload.erase("intentId");
  if (name == ev::kStateIntent && payload.contains("patches") && payload.contains("inversePatches")) {
    engine::CompactRecordedIntent(&payload["patches"], &payload["inversePatches"]);
  }
  if (tool_id) payload.erase("toolId");
  return payload;
}

std::vector<Visit> Visits(const std::vector<engine::EventPtr>& events) {
  std::set<size_t> abandoned = Abandoned(events);
  std::vector<Visit> visits(1);  // before the first phase: workflow:started, start updates
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = *events[i];
    // Tool calls made through the server's tool route are not the workflow's doing.
    if (Dropped(e.name) || engine::IsExternalToolEvent(e) || abandoned.count(i)) continue;

    if (e.name == ev::kPhaseEntered) {
      visits.push_back({});
      visits.back().phase = e.payload.value("phase", "");
    }
    Normal n{e.position, e.name, &e.payload, Normalize(e.name, e.payload), LaneOf(e.payload)};
    Visit& v = visits.back();
    if (!v.lanes.count(n.lane)) v.lane_order.push_back(n.lane);
    v.lanes[n.lane].push_back(std::move(n));
  }
  return visits;
}

std::string Brief(const Normal& n) {
  std::string payload = DumpJson(n.payload());
  if (payload.size() > 100) payload = payload.substr(0, 99) + "…";
  return std::to_string(n.position) + " " + n.name + " " + payload;
}

// The first difference within one lane.
std::optional<Divergence> CompareLane(const std::string& phase, const std::string& lane,
                                      const std::vector<Normal>* a, const std::vector<Normal>* b) {
  static const std::vector<Normal> kNone;
  const auto& rec = a ? *a : kNone;
  const auto& now = b ? *b : kNone;
  size_t n = std::max(rec.size(), now.size());
  for (size_t i = 0; i < n; ++i) {
    const Normal* x = i < rec.size() ? &rec[i] : nullptr;
    const Normal* y = i < now.size() ? &now[i] : nullptr;
    Divergence d;
    d.lane = lane;
    d.phase = phase;
    if (x && y) {
      if (x->name == y->name && x->payload() == y->payload()) continue;  // the common case
      auto diff = engine::FirstDifference(x->Comparable(), y->Comparable());

      if (!diff) continue;
      d.path = diff->path;
      d.recorded = diff->before;
      d.now = diff->after;
    } else {
      d.path = "";
      d.recorded = x ? x->Comparable() : Json(nullptr);
      d.now = y ? y->Comparable() : Json(nullptr);
    }
    d.recorded_position = x ? x->position : 0;
    d.replay_position = y ? y->position : 0;
    d.event = x ? x->name : y->name;
    if (x) d.recorded_event = Brief(*x);
    if (y) d.replay_event = Brief(*y);
    return d;
  }
  return std::nullopt;
}

}  // namespace

std::string Divergence::ToText() const {
  std::string where = recorded_position ? "recorded event " + std::to_string(recorded_position)
                                        : "after the recording's events";
  std::string out = "diverged at " + where + " (" + event + ", " +
                    (phase.empty() ? "before any phase" : "phase \"" + phase + "\"") +
                    (lane == "main" ? "" : ", agent " + lane) + ")\n";
  if (!recorded_position) {
    out += "  the replay emitted an event the recording does not have: " + DumpJson(now) + "\n";
  } else if (!replay_position) {
    out += "  the replay never emitted it: " + DumpJson(recorded) + "\n";
  } else {
    engine::JsonChange change{engine::JsonChange::Kind::kChanged, path, recorded, now};
    if (recorded.is_null() && !now.is_null()) change.kind = engine::JsonChange::Kind::kAdded;
    if (now.is_null() && !recorded.is_null()) change.kind = engine::JsonChange::Kind::kRemoved;
    out += "  " + change.ToString(70) + "\n";
    out += "  recorded: " + recorded_event + "\n";
    out += "  now:      " + replay_event + "\n";
  }
  if (!context.empty()) {
    out += "  before it, in the recording:\n";
    for (const auto& c : context) out += "    " + c + "\n";
  }
  return out;
}

Json Divergence::ToJson() const {
  return Json{{"position", recorded_position},
              {"replayPosition", replay_position},
              {"event", event},
              {"lane", lane},
              {"phase", phase},
              {"path", path},
              {"recorded", recorded},
              {"now", now},
              {"context", context},
              {"recordedEvent", recorded_event},
              {"replayEvent", replay_event}};
}

namespace {

// The first divergence between a recorded visit and the replay's visit at the same index.
std::optional<Divergence> CompareVisit(const Visit& x, const Visit& y, bool recorded_has_it) {
  std::string phase = recorded_has_it ? x.phase : y.phase;
  // Lanes in the recording's order, then any the replay added.
  std::vector<std::string> lanes = x.lane_order;
  for (const auto& l : y.lane_order) {
    if (!x.lanes.count(l)) lanes.push_back(l);
  }
  std::optional<Divergence> first;
  for (const auto& lane : lanes) {
    auto xa = x.lanes.find(lane);
    auto yb = y.lanes.find(lane);
    auto d = CompareLane(phase, lane, xa == x.lanes.end() ? nullptr : &xa->second,
                         yb == y.lanes.end() ? nullptr : &yb->second);
    if (!d) continue;
    // Report the divergence that comes first in the recording.
    auto key = [](const Divergence& v) {
      return v.recorded_position ? v.recorded_position : INT64_MAX;
    };
    if (!first || key(*d) < key(*first)) first = std::move(d);
  }
  if (!first) return std::nullopt;
  // A few recorded events before it, in log order.
  int64_t before = first->recorded_position;
  std::vector<std::string> context;
  for (const auto& [lane, list] : x.lanes) {
    for (const auto& e : list) {
      if (before == 0 || e.position < before) context.push_back(Brief(e));
    }
  }
  std::sort(context.begin(), context.end(), [](const std::string& p, const std::string& q) {
    return std::stoll(p.substr(0, p.find(' '))) < std::stoll(q.substr(0, q.find(' ')));
  });
  if (context.size() > 3) context.erase(context.begin(), context.end() - 3);
  first->context = std::move(context);
  return first;
}

std::string_view NameOf(const RecordedEvent& e) { return e.name; }
std::string_view NameOf(const engine::EventPtr& e) { return e->name; }

// Equal once normalized (Normalize), as CompareLane compares them.
bool SameNormalized(const std::string& name, const Json& a, const Json& b) {
  auto x = Normalize(name, a);
  auto y = Normalize(name, b);
  return (x ? *x : a) == (y ? *y : b);
}

}  // namespace

// One side's events, cut into visits at each phase:entered.
template <typename T>
struct StreamingComparison::Side {
  std::vector<T> current;  // the visit being read
  std::deque<std::vector<T>> complete;
  bool ended = false;

  void Add(T e) {
    if (NameOf(e) == ev::kPhaseEntered && !current.empty()) {
      complete.push_back(std::move(current));
      current.clear();
    }
    current.push_back(std::move(e));
  }
  void End() {
    if (ended) return;
    ended = true;
    if (!current.empty()) complete.push_back(std::move(current));
    current.clear();
  }
  std::vector<T> PopFront() {
    if (complete.empty()) return {};
    std::vector<T> out = std::move(complete.front());
    complete.pop_front();
    return out;
  }
};

StreamingComparison::StreamingComparison(Source recorded, Parser parse)
    : recorded_source_(std::move(recorded)),
      parse_(std::move(parse)),
      recorded_(std::make_unique<Side<RecordedEvent>>()),
      replayed_(std::make_unique<Side<engine::EventPtr>>()) {}

StreamingComparison::~StreamingComparison() = default;

Status StreamingComparison::AddReplayed(std::span<const engine::EventPtr> events) {
  for (const auto& e : events) replayed_->Add(e);
  return CompareReady();
}

Status StreamingComparison::Finish() {
  replayed_->End();
  return CompareReady();
}

Status StreamingComparison::ReadRecorded() {
  auto next = recorded_source_();
  if (!next.ok()) return next.status();
  if (*next) {
    recorded_->Add(std::move(**next));
  } else {
    recorded_->End();
  }
  return Status::Ok();
}

Status StreamingComparison::CompareReady() {
  while (!divergence_ && !replayed_->complete.empty()) {
    // Read the recording until it has the visit to compare with (or ends).
    while (recorded_->complete.empty() && !recorded_->ended) {
      SCAFFOLD_RETURN_IF_ERROR(ReadRecorded());
    }
    SCAFFOLD_RETURN_IF_ERROR(CompareHeads());
  }
  if (!replayed_->ended) return Status::Ok();
  // The recording's visits the replay never reached.
  while (!divergence_ && (!recorded_->complete.empty() || !recorded_->ended)) {
    if (recorded_->complete.empty()) {
      SCAFFOLD_RETURN_IF_ERROR(ReadRecorded());
    } else {
      SCAFFOLD_RETURN_IF_ERROR(CompareHeads());
    }
  }
  return Status::Ok();
}

Status StreamingComparison::Parse(RecordedEvent* e) {
  if (e->parsed) return Status::Ok();
  auto parsed = parse_(*e);
  if (!parsed.ok()) return parsed.status();
  e->parsed = std::move(*parsed);
  e->name = e->parsed->name;
  return Status::Ok();
}

Result<bool> StreamingComparison::SameVisit(std::vector<RecordedEvent>* recorded,
                                            const std::vector<engine::EventPtr>& replayed) {
  if (recorded->size() != replayed.size()) return false;
  for (size_t i = 0; i < replayed.size(); ++i) {
    RecordedEvent& x = (*recorded)[i];
    const engine::Event& y = *replayed[i];
    // A resume's abandoned attempts are worked out over the whole visit (Visits).
    if (x.name != y.name || y.name == ev::kSessionResumed) return false;
    auto wire = engine::ViewWire(y.wire);
    if (!x.payload.empty() && wire && wire->payload == x.payload) continue;
    SCAFFOLD_RETURN_IF_ERROR(Parse(&x));
    if (!SameNormalized(y.name, x.parsed->payload, y.payload)) return false;
  }
  return true;
}

Status StreamingComparison::CompareHeads() {
  static const Visit kEmpty;
  std::vector<RecordedEvent> recorded = recorded_->PopFront();
  std::vector<engine::EventPtr> b = replayed_->PopFront();
  if (recorded.empty() && b.empty()) return Status::Ok();
  // Most visits replay byte for byte; the rest are compared lane by lane.
  auto same = SameVisit(&recorded, b);
  if (!same.ok()) return same.status();
  if (*same) return Status::Ok();
  std::vector<engine::EventPtr> a;
  a.reserve(recorded.size());
  for (auto& e : recorded) {
    SCAFFOLD_RETURN_IF_ERROR(Parse(&e));
    a.push_back(e.parsed);
  }
  // Each holds one visit (or the events before the first phase), the Normal entries pointing
  // into events that live until the comparison is done.
  std::vector<Visit> x = a.empty() ? std::vector<Visit>{} : Visits(a);
  std::vector<Visit> y = b.empty() ? std::vector<Visit>{} : Visits(b);
  divergence_ = CompareVisit(x.empty() ? kEmpty : x.back(), y.empty() ? kEmpty : y.back(),
                             !a.empty());
  return Status::Ok();
}

RecordedEvent Recorded(const engine::EventPtr& e) {
  RecordedEvent r{e, e->position, e->name, {}};
  if (auto wire = engine::ViewWire(e->wire)) r.payload = wire->payload;
  return r;
}

std::optional<Divergence> CompareEvents(const std::vector<engine::EventPtr>& recorded,
                                        const std::vector<engine::EventPtr>& replayed) {
  size_t next = 0;
  StreamingComparison comparison(
      [&]() -> Result<std::optional<RecordedEvent>> {
        if (next == recorded.size()) return std::optional<RecordedEvent>();
        return std::optional<RecordedEvent>(Recorded(recorded[next++]));
      },
      [](const RecordedEvent& e) -> Result<engine::EventPtr> { return e.parsed; });
  (void)comparison.AddReplayed(replayed);
  (void)comparison.Finish();
  return comparison.divergence();
}

}  // namespace scaffold::recordings
