// What every connection of the server shares: options, the API, the hub, metrics, the JWT
// verifier, and the connection count. Internal to http_server.cc and ws_session.cc.
#pragma once

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "net/server/api.h"
#include "net/server/heap_trim.h"
#include "net/server/http_server.h"

namespace scaffold::net {

class IoLoops;

// How SSE streams and WebSocket connections read the log and write what they queued.
inline constexpr size_t kHistoryPage = 64;              // events per read of the log
inline constexpr size_t kWriteBatchBytes = 256 * 1024;  // at most this much per gathered write

// A connection's send queue, first in first out, that holds no memory while it is empty: a
// std::deque keeps a map and a 512-byte block even then, for every idle connection.
template <typename Item>
class SendQueue {
 public:
  bool empty() const { return head_ == items_.size(); }
  Item& front() { return items_[head_]; }
  void push_back(Item item) { items_.push_back(std::move(item)); }
  void pop_front() {
    items_[head_++] = Item();
    if (head_ == items_.size()) {
      clear();
    } else if (head_ >= 64 && head_ * 2 >= items_.size()) {
      // Taken items are dropped in bulk, so a queue that never empties does not grow.
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  void clear() {
    std::vector<Item>().swap(items_);
    head_ = 0;
  }
  auto begin() { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  auto end() { return items_.end(); }
  template <typename Pred>
  void EraseIf(Pred pred) {
    items_.erase(items_.begin(), begin());
    head_ = 0;
    std::erase_if(items_, pred);
    if (items_.empty()) clear();
  }

 private:
  std::vector<Item> items_;
  size_t head_ = 0;
};

// Returns a vector's memory when it grew past what a quiet connection needs.
template <typename T>
void ReleaseIfLarge(std::vector<T>& v, size_t keep = 16) {
  if (v.empty() && v.capacity() > keep) std::vector<T>().swap(v);
}

// Takes whole items from the front of a connection's send queue while they fit in one
// gathered write of kWriteBatchBytes (always at least one), handing each to `take`; returns
// what they were charged. `Item` has `bytes` (a shared string) and `cost`.
template <typename Item, typename Take>
size_t TakeWriteBatch(SendQueue<Item>& queue, Take take) {
  size_t batch = 0, cost = 0;
  while (!queue.empty() &&
         (batch == 0 || batch + queue.front().bytes->size() <= kWriteBatchBytes)) {
    batch += queue.front().bytes->size();
    cost += queue.front().cost;
    take(std::move(queue.front()));
    queue.pop_front();
  }
  return cost;
}

struct ServerContext {
  ServerOptions options;
  Api* api = nullptr;
  SessionHub* hub = nullptr;
  Metrics* metrics = nullptr;
  const JwtVerifier* verifier = nullptr;
  ClientToolBroker* client_tools = nullptr;
  IoLoops* loops = nullptr;  // where connections run
  // Told when a connection's request state is freed (stopped with the server).
  std::unique_ptr<HeapTrimmer> trimmer;

  std::atomic<int> connections{0};

  // The user a request acts for: "" without auth, the token's `sub` with it. The token comes
  // from "Authorization: Bearer" or ?token= (browsers cannot set headers on EventSource or
  // WebSocket). Fails with the reason for a 401.
  Result<std::string> Authenticate(const std::map<std::string, std::string>& headers,
                                   const std::map<std::string, std::string>& query) const;

  // History is read from the log while a connection's send queue is under this, so catching
  // up never counts as falling behind.
  size_t HistoryPumpBytes() const {
    return std::min<size_t>(256 * 1024, options.max_send_queue_bytes / 2);
  }

  // CORS headers for a request from `origin`, when it is allowed.

  std::vector<std::pair<std::string, std::string>> Cors(const std::string& origin) const;

  // "2026-11-21T10:04:05.123Z 127.0.0.1 "GET /sessions" 200 512B 3ms user=ada", on stderr.
  // The path is logged without its query, so a ?token= never reaches the log.
  void AccessLog(const std::string& remote, const std::string& method, const std::string& path,
                 int status, size_t bytes, int64_t ms, const std::string& user) const;
};

// Milliseconds on the steady clock, for durations in the access log.
int64_t SteadyMillis();

// One of the server's --max-connections slots, held by a connection for its life and passed
// on when an HTTP connection becomes a stream or a WebSocket. It also keeps the context alive:
// connections still owned by pending handlers are destroyed with the io_context, which may
// outlive the HttpServer.
class ConnectionSlot {
 public:
  ConnectionSlot() = default;
  explicit ConnectionSlot(std::shared_ptr<ServerContext> ctx) : ctx_(std::move(ctx)) {}
  ConnectionSlot(ConnectionSlot&& other) noexcept = default;
  explicit operator bool() const { return ctx_ != nullptr; }  // false once moved from
  ConnectionSlot& operator=(ConnectionSlot&& other) noexcept {
    std::swap(ctx_, other.ctx_);
    return *this;
  }
  ~ConnectionSlot() {
    if (ctx_) --ctx_->connections;
  }

 private:
  std::shared_ptr<ServerContext> ctx_;
};

}  // namespace scaffold::net
