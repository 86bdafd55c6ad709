#include "net/server/io_loops.h"

#include <boost/asio/post.hpp>
#include <cstdio>
#include <exception>
#include <mutex>

namespace scaffold::net {

IoLoops::IoLoops(int count) {
  for (int i = 0; i < std::max(1, count); ++i) loops_.push_back(std::make_unique<Loop>());
}

IoLoops::~IoLoops() {
  Halt();
}

void IoLoops::Start() {
  if (started_) return;
  started_ = true;
  for (auto& loop : loops_) {
    loop->work.emplace(loop->io.get_executor());
    loop->thread = std::thread([io = &loop->io] {
      for (;;) {
        try {
          io->run();
          return;
        } catch (const std::exception& e) {
          std::fprintf(stderr,
                       "scaffold serve: internal error in a connection handler (the server "
                       "carries on): %s\n",
                       e.what());
        }
      }
    });
  }
}

void IoLoops::Halt() {
  for (auto& loop : loops_) {
    loop->work.reset();
    loop->io.stop();
  }
  for (auto& loop : loops_)
    if (loop->thread.joinable()) loop->thread.join();
}

namespace {

// Keeps loops until its io_context is destroyed. Services are destroyed only once every service
// of the context has shut down, and the scheduler's shutdown is what destroys the handlers still
// queued, so the loops outlive every connection those handlers held.
class LoopsKeeper : public boost::asio::execution_context::service {
 public:
  using key_type = LoopsKeeper;
  static inline boost::asio::execution_context::id id;
  explicit LoopsKeeper(boost::asio::execution_context& owner)
      : boost::asio::execution_context::service(owner) {}
  IoLoops* Keep(std::unique_ptr<IoLoops> loops) {
    std::lock_guard lock(mu_);
    kept_.push_back(std::move(loops));
    return kept_.back().get();
  }

 private:
  void shutdown() override {
    // Nothing may run on the loops any more; they are destroyed with this service.
    std::lock_guard lock(mu_);
    for (auto& loops : kept_) loops->Halt();
  }
  std::mutex mu_;
  std::vector<std::unique_ptr<IoLoops>> kept_;
};

}  // namespace

IoLoops* IoLoops::OwnedBy(boost::asio::io_context& owner, int count) {
  return boost::asio::use_service<LoopsKeeper>(owner).Keep(std::make_unique<IoLoops>(count));
}

boost::asio::io_context& IoLoops::Next() {
  return loops_[next_.fetch_add(1, std::memory_order_relaxed) % loops_.size()]->io;
}

SubscriberLoop* IoLoops::Of(const boost::asio::execution_context& io) {
  for (auto& loop : loops_)
    if (&loop->io == &io) return loop.get();
  return nullptr;
}

SubscriberLoop* IoLoops::Of(const boost::asio::any_io_executor& executor) {
  return Of(boost::asio::query(executor, boost::asio::execution::context));
}

void IoLoops::Loop::Post(std::function<void()> fn) {
  boost::asio::post(io, std::move(fn));
}

}  // namespace scaffold::net
