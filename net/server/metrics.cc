#include "net/server/metrics.h"

namespace scaffold::net {
namespace {

void Counter(std::string* out, const char* name, const char* type, const char* help,
             int64_t value) {
  *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
          name + " " + std::to_string(value) + "\n";
}

}  // namespace

std::string Metrics::Render(const std::map<std::string, int64_t>& sessions) const {
  std::string out;
  out +=
      "# HELP scaffold_sessions Sessions in the database, by status.\n# TYPE scaffold_sessions "
      "gauge\n";
  for (const char* status : {"running", "waiting", "paused", "completed", "failed"}) {
    auto it = sessions.find(status);
    out += std::string("scaffold_sessions{status=\"") + status + "\"} " +
           std::to_string(it == sessions.end() ? 0 : it->second) + "\n";
  }
  Counter(&out, "scaffold_events_appended_total", "counter",
          "Events appended by sessions this server runs.", events_appended);
  Counter(&out, "scaffold_sse_connections", "gauge", "Open SSE streams.", sse_open);
  Counter(&out, "scaffold_ws_connections", "gauge", "Open WebSocket connections.", ws_open);
  Counter(&out, "scaffold_deliveries_total", "counter", "Event frames queued to subscribers.",
          deliveries);
  Counter(&out, "scaffold_slow_consumers_dropped_total", "counter",
          "Connections closed because their send queue outgrew the limit.", slow_consumers_dropped);
  Counter(&out, "scaffold_connections_refused_total", "counter",
          "Connections refused over --max-connections.", connections_refused);
  Counter(&out, "scaffold_heap_trims_total", "counter",
          "Free heap pages given back to the system after a burst of connections.", heap_trims);
  Counter(&out, "scaffold_http_requests_total", "counter", "HTTP requests handled.", http_requests);
  Counter(&out, "scaffold_provider_requests_total", "counter", "Model calls started by agents.",
          provider_requests);
  Counter(&out, "scaffold_provider_retries_total", "counter",
          "Model calls retried (agent:retry events).", provider_retries);
  Counter(&out, "scaffold_input_tokens_total", "counter", "Input tokens reported by providers.",
          input_tokens);
  Counter(&out, "scaffold_output_tokens_total", "counter", "Output tokens reported by providers.",
          output_tokens);
  Counter(&out, "scaffold_leases_held", "gauge",
          "Sessions this node drives, by lease (several nodes on PostgreSQL).", leases_held);
  Counter(&out, "scaffold_takeovers_total", "counter",
          "Sessions this node took over after their node died or gave them up.", takeovers);
  Counter(&out, "scaffold_leases_lost_total", "counter",
          "Sessions whose lease this node lost to another node.", leases_lost);
  Counter(&out, "scaffold_peer_requests_total", "counter",
          "Operations sent on to the node driving the session.", peer_requests);
  Counter(&out, "scaffold_commit_notifications_total", "counter",
          "Commit notifications heard from other nodes.", notify_count);
  Counter(&out, "scaffold_commit_notification_lag_ms_sum", "counter",
          "Sum of the delays between an event's timestamp and its notification here (ms).",
          notify_lag_ms_sum);
  Counter(&out, "scaffold_commit_notification_lag_ms_max", "gauge",
          "The longest such delay seen (ms).", notify_lag_ms_max);
  return out;
}

}  // namespace scaffold::net
