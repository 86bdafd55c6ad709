// A deterministic Executor and Clock for engine tests: tasks run when the test says so, and
// time is virtual, advancing only to the next timer when nothing else is left to run.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>

#include "engine/executor.h"

namespace scaffold::testing {

class ManualExecutor : public engine::Executor, public engine::Clock {
 public:
  void Post(std::function<void()> fn) override {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(fn));
  }

  std::unique_ptr<engine::TimerHandle> RunAfter(std::chrono::milliseconds delay,
                                                std::function<void()> fn) override {
    auto state = std::make_shared<Timer>();
    state->fn = std::move(fn);
    std::lock_guard<std::mutex> lock(mu_);
    timers_.emplace(now_ + delay.count(), state);
    return std::make_unique<Handle>(state);
  }

  int64_t NowMillis() const override { return now_; }

  // Runs posted tasks until there are none; then, if `advance_time`, jumps to the next timer
  // and continues. Returns when nothing is left (or after `max_steps` tasks, as a guard).
  void RunUntilIdle(bool advance_time = true, int max_steps = 10000000) {
    for (int step = 0; step < max_steps; ++step) {
      std::function<void()> fn;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!tasks_.empty()) {
          fn = std::move(tasks_.front());
          tasks_.pop_front();
        } else {
          while (!timers_.empty() && timers_.begin()->second->cancelled)
            timers_.erase(timers_.begin());
          if (timers_.empty() || !advance_time) return;
          auto it = timers_.begin();
          now_ = std::max(now_, it->first);
          auto timer = it->second;
          timers_.erase(it);
          fn = std::move(timer->fn);
          timer->cancelled = true;
        }
      }
      if (fn) fn();
    }
  }

  // Runs only the tasks already posted and their follow-ups, without moving time.
  void RunPending() { RunUntilIdle(false); }

  void AdvanceTime(int64_t ms) { now_ += ms; }

 private:
  struct Timer {
    std::function<void()> fn;
    bool cancelled = false;
  };
  class Handle : public engine::TimerHandle {
   public:
    explicit Handle(std::shared_ptr<Timer> t) : t_(std::move(t)) {}
    ~Handle() override { Cancel(); }
    void Cancel() override {
      t_->cancelled = true;
      t_->fn = nullptr;
    }

   private:
    std::shared_ptr<Timer> t_;
  };

  std::mutex mu_;
  std::deque<std::function<void()>> tasks_;
  std::multimap<int64_t, std::shared_ptr<Timer>> timers_;
  int64_t now_ = 1795200000000;
};

}  // namespace scaffold::testing
