// GuardedExecutor: the executor a Session's work runs on, in front of the one it was given.
// A task or timer that throws (a bug: expected failures are Status values) is caught here and
// reported to `on_failure` on the executor's thread, so the session fails with a
// workflow:error instead of the exception ending the process or the server.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/executor.h"

namespace scaffold::engine {

class GuardedExecutor : public Executor {
 public:
  // `inner` is borrowed and must outlive every task posted here. `on_failure` receives the
  // exception's message; it may be called after this object is gone (a task in flight), so it
  // must hold what it needs itself.
  GuardedExecutor(Executor* inner, std::function<void(const std::string&)> on_failure);

  void Post(std::function<void()> fn) override;
  std::unique_ptr<TimerHandle> RunAfter(std::chrono::milliseconds delay,
                                        std::function<void()> fn) override;

  // Replaces the failure handler (for tasks posted from now on and those already queued).
  void SetFailureHandler(std::function<void(const std::string&)> on_failure);

 private:
  struct Guard;
  std::function<void()> Wrap(std::function<void()> fn);

  Executor* inner_;
  std::shared_ptr<Guard> guard_;
};

}  // namespace scaffold::engine
