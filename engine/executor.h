// Where engine work runs, and what time it is.
//
// Every session runs on one Executor: a single thread or a strand, so a session's state needs
// no locks. Work from other threads (provider streams, HTTP requests, the terminal) reaches a
// session only by Post(). A session that waits (for input, a timer, a paused user) holds no
// thread: it is just state and a pending callback.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

namespace scaffold::engine {

// A scheduled callback. Cancel() (or destroying the handle) on the executor's own thread
// guarantees the callback will not run afterwards.
class TimerHandle {
 public:
  virtual ~TimerHandle() = default;
  virtual void Cancel() = 0;
};

class Executor {
 public:
  virtual ~Executor() = default;

  // Runs `fn` on the executor after the task that is running now. Thread-safe.
  virtual void Post(std::function<void()> fn) = 0;

  // Runs `fn` on the executor once `delay` has passed. Call from the executor's thread.
  virtual std::unique_ptr<TimerHandle> RunAfter(std::chrono::milliseconds delay,
                                                std::function<void()> fn) = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  // Unix time in milliseconds, for event timestamps and durations.
  virtual int64_t NowMillis() const = 0;
};

// The system clock.
class SystemClock : public Clock {
 public:
  int64_t NowMillis() const override;
};

}  // namespace scaffold::engine
