#include "net/server/io_loops.h"

#include <boost/asio/post.hpp>
#include <cstdio>
#include <exception>

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

boost::asio::io_context& IoLoops::Next() {
  return loops_[next_.fetch_add(1, std::memory_order_relaxed) % loops_.size()]->io;
}

SubscriberLoop* IoLoops::Of(const boost::asio::execution_context& io) {
  for (auto& loop : loops_)
    if (&loop->io == &io) return loop.get();
  return nullptr;
}

void IoLoops::Loop::Post(std::function<void()> fn) {
  boost::asio::post(io, std::move(fn));
}

}  // namespace scaffold::net
