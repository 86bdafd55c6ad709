#include "engine/event_loop.h"

namespace scaffold::engine {

class EventLoop::Handle : public TimerHandle {
 public:
  explicit Handle(std::shared_ptr<TimerState> state) : state_(std::move(state)) {}
  ~Handle() override { Cancel(); }
  void Cancel() override {
    // Only the loop thread touches the state after scheduling, so no lock is needed.
    state_->cancelled = true;
    state_->fn = nullptr;
  }

 private:
  std::shared_ptr<TimerState> state_;
};

void EventLoop::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

std::unique_ptr<TimerHandle> EventLoop::RunAfter(std::chrono::milliseconds delay,
                                                 std::function<void()> fn) {
  auto state = std::make_shared<TimerState>();
  state->fn = std::move(fn);
  {
    std::lock_guard<std::mutex> lock(mu_);
    timers_.emplace(Clock::now() + delay, state);
  }
  cv_.notify_one();
  return std::make_unique<Handle>(std::move(state));
}

void EventLoop::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  stopped_ = false;
  while (!stopped_) {
    auto now = Clock::now();
    if (!timers_.empty() && timers_.begin()->first <= now) {
      auto state = timers_.begin()->second;
      timers_.erase(timers_.begin());
      if (state->cancelled || !state->fn) continue;
      auto fn = std::move(state->fn);
      state->fn = nullptr;
      lock.unlock();
      fn();
      lock.lock();
      continue;
    }
    if (!tasks_.empty()) {
      auto fn = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      fn();
      lock.lock();
      continue;
    }
    if (timers_.empty()) {
      cv_.wait(lock);
    } else {
      cv_.wait_until(lock, timers_.begin()->first);
    }
  }
  tasks_.clear();
}

void EventLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  cv_.notify_one();
}

}  // namespace scaffold::engine
