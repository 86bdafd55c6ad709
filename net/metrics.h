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
  std::atomic<int64_t> provider_requests{0};
  std::atomic<int64_t> provider_retries{0};
  std::atomic<int64_t> input_tokens{0};
  std::atomic<int64_t> output_tokens{0};

  // The exposition text; `sessions` is the number of sessions per status.
  std::string Render(const std::map<std::string, int64_t>& sessions) const;
};

}  // namespace scaffold::net
