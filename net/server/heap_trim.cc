#include "net/server/heap_trim.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace scaffold::net {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// The counters, shared with the wait in progress. The timer exists only while a wait does, and
// is owned by it: the server's context, which owns the trimmer, can outlive the io_context
// (connections' slots keep it), and then holds no timer of that io_context.
struct HeapTrimmer::State {
  State(const asio::any_io_executor& e, Policy p, std::atomic<int64_t>& t)
      : executor(e), policy(p), trims(t) {}

  const asio::any_io_executor executor;
  const Policy policy;
  std::atomic<int64_t>& trims;
  std::atomic<uint64_t> noted{0};
  std::atomic<uint64_t> trimmed_at{0};  // `noted` at the last trim
  std::atomic<bool> armed{false};
  std::atomic<bool> stopped{false};
};

namespace {

// After a burst: waits for a quiet spell (or the longest wait), then trims. One wait at a time
// (`armed`); `seen` and `since` belong to it.
struct Wait : std::enable_shared_from_this<Wait> {
  explicit Wait(std::shared_ptr<HeapTrimmer::State> s)
      : state(std::move(s)), timer(state->executor), since(Clock::now()),
        seen(state->noted.load(std::memory_order_relaxed)) {}

  void Next() {
    timer.expires_after(state->policy.quiet);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      self->OnTimer(ec);
    });
  }

  void OnTimer(const boost::system::error_code& ec) {
    auto& s = *state;
    if (ec || s.stopped.load(std::memory_order_acquire)) return;
    uint64_t now = s.noted.load(std::memory_order_relaxed);
    if (now != seen && Clock::now() - since < s.policy.max_wait) {
      seen = now;  // still connecting
      return Next();
    }
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
    s.trims.fetch_add(1, std::memory_order_relaxed);
    s.trimmed_at.store(now, std::memory_order_relaxed);
    s.armed.store(false, std::memory_order_release);
  }

  std::shared_ptr<HeapTrimmer::State> state;
  asio::steady_timer timer;
  Clock::time_point since;
  uint64_t seen;
};

}  // namespace

HeapTrimmer::HeapTrimmer(const asio::any_io_executor& executor, Policy policy,
                         std::atomic<int64_t>& trims)
    : state_(std::make_shared<State>(executor, policy, trims)) {}

HeapTrimmer::~HeapTrimmer() {
  Stop();
}

void HeapTrimmer::Stop() {
  state_->stopped.store(true, std::memory_order_release);
}

void HeapTrimmer::Note() {
  State& s = *state_;
  uint64_t n = s.noted.fetch_add(1, std::memory_order_relaxed) + 1;
  if (n - s.trimmed_at.load(std::memory_order_relaxed) < s.policy.burst) return;
  if (s.stopped.load(std::memory_order_acquire)) return;
  if (s.armed.exchange(true, std::memory_order_acq_rel)) return;
  asio::post(s.executor, [state = state_] { std::make_shared<Wait>(state)->Next(); });
}

}  // namespace scaffold::net
