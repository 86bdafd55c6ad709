// IoLoops: the threads that serve the server's connections, one event loop each.
//
// Every accepted connection lives on one loop for its whole life (HTTP requests, then perhaps
// an SSE stream or a WebSocket): its handlers run on that loop's thread, one at a time, so a
// connection needs no strand, and what a handler starts on its socket completes on the same
// thread without taking the loop's lock or waking another thread. Sessions, timers and the
// cluster stay on the server's shared io_context (its own threads); a commit reaches a loop's
// subscribers as one task per loop (SessionHub's fan-out), not one per connection.
//
// The price is the event-loop one: a slow handler (a large read of the log for a client that
// catches up) delays the other connections of its loop, never those of the other loops.
//
// Internal to http_server.cc and ws_session.cc.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "net/server/session_hub.h"

namespace scaffold::net {

class IoLoops {
 public:
  explicit IoLoops(int count);  // at least one
  ~IoLoops();                   // Halt()

  // Loops that live as long as `owner`: destroyed with it, after the handlers still queued on
  // it, which may hold connections of these loops (a connection's socket must go before its
  // loop). The server's loops are made this way, on the sessions' io_context.
  static IoLoops* OwnedBy(boost::asio::io_context& owner, int count);

  // Starts a thread per loop. A handler that throws is reported on stderr and the loop goes
  // on (no exception ends the server).
  void Start();
  // Stops the loops and joins their threads; connections are left as they are, dropped when
  // the loops are destroyed. Idempotent.
  void Halt();

  // The loop the next connection goes to (round robin). Any thread.
  boost::asio::io_context& Next();
  // The loop that runs `io`, as the hub's fan-out sees it; null for an io_context that is not
  // one of these loops.
  SubscriberLoop* Of(const boost::asio::execution_context& io);
  // The loop a connection's socket runs on (its executor's io_context).
  SubscriberLoop* Of(const boost::asio::any_io_executor& executor);
  size_t size() const { return loops_.size(); }

 private:
  struct Loop : SubscriberLoop {
    ~Loop() override { DropPendingFlushes(); }
    boost::asio::io_context io{1};  // one thread runs it
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
    std::thread thread;
    void Post(std::function<void()> fn) override;
  };
  std::vector<std::unique_ptr<Loop>> loops_;
  std::atomic<size_t> next_{0};
  bool started_ = false;
};

}  // namespace scaffold::net
