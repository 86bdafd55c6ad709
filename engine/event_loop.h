// EventLoop: an Executor that runs tasks and timers on the thread that calls Run(). The
// terminal commands run each session on one; tests use it where real time is wanted.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>

#include "engine/executor.h"

namespace scaffold::engine {

class EventLoop : public Executor {
 public:
  EventLoop() = default;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  void Post(std::function<void()> fn) override;
  std::unique_ptr<TimerHandle> RunAfter(std::chrono::milliseconds delay,
                                        std::function<void()> fn) override;

  // Runs tasks and due timers on the calling thread until Stop(). Tasks posted before Stop()
  // that have not run yet are dropped.
  void Run();

  // Makes Run() return after the current task. Thread-safe.
  void Stop();

 private:
  struct TimerState {
    std::function<void()> fn;
    bool cancelled = false;
  };
  class Handle;
  using Clock = std::chrono::steady_clock;

  std::mutex mu_;
  std::condition_variable cv_;
  // Protected by mu_.
  std::deque<std::function<void()>> tasks_;
  std::multimap<Clock::time_point, std::shared_ptr<TimerState>> timers_;
  bool stopped_ = false;
};

}  // namespace scaffold::engine
