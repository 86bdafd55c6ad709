// store_bench: raw append throughput of an event store, group commit (the engine's way:
// everything one step emits in one transaction, here batches of 64) against one transaction per
// event, and the latency of reading the state at a position of a long session.
//
//   store_bench [--events N] [--dir DIR]     SQLite, a file in DIR
//   store_bench [--events N] --db URL        PostgreSQL (an empty database)
//
// Prints one JSON object.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/event.h"
#include "engine/state.h"
#include "engine/uuid.h"
#include "recordings/store.h"

using scaffold::Json;
namespace engine = scaffold::engine;

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

engine::EventPtr MakeEvent(int64_t position, int i) {
  auto e = std::make_shared<engine::Event>();
  e->id = engine::NewUuid();
  e->position = position;
  e->timestamp = 1760000000000 + position;
  if (i % 8 == 7) {
    e->name = "state:intent";
    e->payload = {{"phase", "p"},
                  {"intentId", e->id},
                  {"patches", Json::array({{{"op", "replace"}, {"path", "/n"}, {"value", i}}})}};
  } else {
    e->name = "text:delta";
    e->payload = {{"agent", "writer"}, {"delta", "a few words of model output "}};
  }
  e->Serialize();
  return e;
}

engine::SessionInfo NewSession(const std::string& name) {
  engine::SessionInfo info;
  info.id = engine::NewUuid();
  info.workflow_name = name;
  info.created_at = 1760000000000;
  return info;
}

std::vector<engine::EventPtr> Events(int64_t n) {
  std::vector<engine::EventPtr> out;
  auto start = std::make_shared<engine::Event>();
  start->id = engine::NewUuid();
  start->position = 1;
  start->name = "workflow:started";
  start->payload = {{"state", {{"n", 0}}}, {"input", nullptr}};
  start->Serialize();
  out.push_back(start);
  for (int64_t p = 2; p <= n; ++p) out.push_back(MakeEvent(p, static_cast<int>(p)));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t n = 100000;
  std::string dir = std::filesystem::temp_directory_path() / "scaffold-store-bench";
  std::string db;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--events") n = std::atoll(argv[i + 1]);
    if (flag == "--dir") dir = argv[i + 1];
    if (flag == "--db") db = argv[i + 1];
  }
  if (db.empty()) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    db = dir + "/bench.db";
  }
  auto store = scaffold::recordings::OpenStore(db);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().message().c_str());
    return 1;
  }
  auto events = Events(n);

  // Group commit: batches of 64 events per transaction.
  auto grouped = NewSession("grouped");
  (*store)->CreateSession(grouped);
  auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < events.size(); i += 64) {
    size_t end = std::min(events.size(), i + 64);
    auto s = (*store)->Append(grouped.id, std::span(events.data() + i, end - i));
    if (!s.ok()) return std::fprintf(stderr, "%s\n", s.message().c_str()), 1;
  }
  double grouped_s = Seconds(t0);

  // One transaction per event, on a tenth of the events (it is that much slower).
  int64_t single_n = std::max<int64_t>(1000, n / 10);
  auto single = NewSession("single");
  (*store)->CreateSession(single);
  t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < single_n; ++i) {
    auto s = (*store)->Append(single.id, std::span(events.data() + i, 1));
    if (!s.ok()) return std::fprintf(stderr, "%s\n", s.message().c_str()), 1;
  }
  double single_s = Seconds(t0);

  // State at positions spread over the long session (no checkpoints: the worst case).
  std::vector<double> state_ms;
  for (int i = 1; i <= 20; ++i) {
    int64_t position = n * i / 20;
    auto t = std::chrono::steady_clock::now();
    auto state = engine::StateAt(store->get(), grouped.id, position);
    state_ms.push_back(Seconds(t) * 1000);
    if (!state.ok()) return std::fprintf(stderr, "%s\n", state.status().message().c_str()), 1;
  }
  std::sort(state_ms.begin(), state_ms.end());
  std::printf(
      "{\"events\": %lld, \"group_commit_events_per_s\": %.0f, \"per_event_commit_events_per_s\": "
      "%.0f, \"group_commit_speedup\": %.1f, \"state_at_p50_ms\": %.2f, \"state_at_max_ms\": "
      "%.2f}\n",
      static_cast<long long>(n), n / grouped_s, single_n / single_s,
      (n / grouped_s) / (single_n / single_s), state_ms[state_ms.size() / 2], state_ms.back());
  if (!scaffold::recordings::IsPostgresUrl(db)) std::filesystem::remove_all(dir);
  return 0;
}
