// VirtualExecutor: a deterministic Executor and Clock with virtual time, for replays. Tasks run
// in the order posted; when none are left, time jumps to the next timer. A replay therefore
// waits for no retry delay or timeout, and runs the same way every time.
//
// Single-threaded: Post() may be called from other threads, but RunUntilIdle() and timers
// belong to the thread that runs it.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include "engine/executor.h"

namespace scaffold::engine {

class VirtualExecutor : public Executor, public Clock {
 public:
  explicit VirtualExecutor(int64_t start_ms) : now_(start_ms) {}

  void Post(std::function<void()> fn) override;
  std::unique_ptr<TimerHandle> RunAfter(std::chrono::milliseconds delay, std::function<void()> fn) override;
  int64_t NowMillis() const override { return now_; }

  // Runs until no task and no timer is left, or Stop() is called.
  void RunUntilIdle();
  void Stop() { stopped_ = true; }

 private:
  struct Timer {
    std::function<void()> fn;
    bool cancelled = false;
  };
  class Handle;

  std::mutex mu_;
  std::deque<std::function<void()>> tasks_;                         // protected by mu_
  std::multimap<std::pair<int64_t, uint64_t>, std::shared_ptr<Timer>> timers_;  // (due, seq)
  uint64_t timer_seq_ = 0;
  int64_t now_;
  bool stopped_ = false;
};

}  // namespace scaffold::engine
