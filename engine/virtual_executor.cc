#include "engine/virtual_executor.h"

namespace scaffold::engine {

class VirtualExecutor::Handle : public TimerHandle {
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

void VirtualExecutor::Post(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  tasks_.push_back(std::move(fn));
}

std::unique_ptr<TimerHandle> VirtualExecutor::RunAfter(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto timer = std::make_shared<Timer>();
  timer->fn = std::move(fn);
  timers_.emplace(std::make_pair(now_ + delay.count(), timer_seq_++), timer);
  return std::make_unique<Handle>(timer);
}

void VirtualExecutor::RunUntilIdle() {
  stopped_ = false;
  while (!stopped_) {
    std::function<void()> fn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!tasks_.empty()) {
        fn = std::move(tasks_.front());
        tasks_.pop_front();
      }
    }
    if (!fn) {
      while (!timers_.empty() && timers_.begin()->second->cancelled) timers_.erase(timers_.begin());
      if (timers_.empty()) return;
      auto it = timers_.begin();
      now_ = std::max(now_, it->first.first);
      auto timer = it->second;
      timers_.erase(it);
      fn = std::move(timer->fn);
      timer->cancelled = true;
    }
    if (fn) fn();
  }
}

}  // namespace scaffold::engine
