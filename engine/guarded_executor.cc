#include "engine/guarded_executor.h"

#include <cstdio>
#include <mutex>

namespace scaffold::engine {

struct GuardedExecutor::Guard {
  std::mutex mu;
  std::function<void(const std::string&)> on_failure;  // guarded by mu

  void Report(const std::string& what) {
    std::function<void(const std::string&)> handler;
    {
      std::lock_guard lock(mu);
      handler = on_failure;
    }
    std::fprintf(stderr, "scaffold: internal error in a session task: %s\n", what.c_str());
    if (!handler) return;
    try {
      handler(what);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "scaffold: internal error while failing the session: %s\n", e.what());
    }
  }
};

GuardedExecutor::GuardedExecutor(Executor* inner,
                                 std::function<void(const std::string&)> on_failure)
    : inner_(inner), guard_(std::make_shared<Guard>()) {
  guard_->on_failure = std::move(on_failure);
}

void GuardedExecutor::SetFailureHandler(std::function<void(const std::string&)> on_failure) {
  std::lock_guard lock(guard_->mu);
  guard_->on_failure = std::move(on_failure);
}

std::function<void()> GuardedExecutor::Wrap(std::function<void()> fn) {
  return [guard = guard_, fn = std::move(fn)] {
    try {
      fn();
    } catch (const std::exception& e) {
      guard->Report(e.what());
    } catch (...) {
      guard->Report("an unknown exception");
    }
  };
}

void GuardedExecutor::Post(std::function<void()> fn) {
  inner_->Post(Wrap(std::move(fn)));
}

std::unique_ptr<TimerHandle> GuardedExecutor::RunAfter(std::chrono::milliseconds delay,
                                                       std::function<void()> fn) {
  return inner_->RunAfter(delay, Wrap(std::move(fn)));
}

}  // namespace scaffold::engine
