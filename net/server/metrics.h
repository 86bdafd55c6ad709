// Server counters, read by GET /metrics in the Prometheus text format. Lock-free; any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>

namespace scaffold::net {

struct Metrics {
  std::atomic<int64_t> http_requests{0};
  std::atomic<int64_t> events_appended{0};
  std::atomic<int64_t> sse_open{0};
  std::atomic<int64_t> ws_open{0};
  std::atomic<int64_t> deliveries{0};  // event frames handed to a connection
  std::atomic<int64_t> slow_consumers_dropped{0};
  std::atomic<int64_t> connections_refused{0};  // over --max-connections
  std::atomic<int64_t> heap_trims{0};           // net/server/heap_trim.h
  std::atomic<int64_t> provider_requests{0};
  std::atomic<int64_t> provider_retries{0};
  std::atomic<int64_t> input_tokens{0};
  std::atomic<int64_t> output_tokens{0};
  // Several nodes on PostgreSQL (net/server/cluster.h); 0 on one node.
  std::atomic<int64_t> leases_held{0};
  std::atomic<int64_t> takeovers{0};      // sessions this node took over from another
  std::atomic<int64_t> leases_lost{0};    // sessions another node took from this one
  std::atomic<int64_t> peer_requests{0};  // operations sent to the node driving a session
  std::atomic<int64_t> notify_count{0};   // commit notifications heard from other nodes
  std::atomic<int64_t> notify_lag_ms_sum{0};
  std::atomic<int64_t> notify_lag_ms_max{0};

  // The exposition text; `sessions` is the number of sessions per status.
  std::string Render(const std::map<std::string, int64_t>& sessions) const;
};

}  // namespace scaffold::net
