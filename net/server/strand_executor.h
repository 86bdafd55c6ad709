// StrandExecutor: the engine's Executor on an Asio strand, so a served session runs on the
// server's shared threads without a thread of its own, one task at a time.
#pragma once

#include <memory>

#include "engine/executor.h"

namespace boost::asio {
class io_context;
}

namespace scaffold::net {

class StrandExecutor : public engine::Executor {
 public:
  // `io` is borrowed and must outlive the executor.
  explicit StrandExecutor(boost::asio::io_context* io);
  ~StrandExecutor() override;

  void Post(std::function<void()> fn) override;
  std::unique_ptr<engine::TimerHandle> RunAfter(std::chrono::milliseconds delay,
                                                std::function<void()> fn) override;

  // True when called from a task of this strand.
  bool InStrand() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scaffold::net
