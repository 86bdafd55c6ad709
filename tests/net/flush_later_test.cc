// SubscriberLoop::FlushLater: connections are flushed once the tasks already queued on their
// loop have run, so the frames of commits fanned out back to back leave together
// (net/server/session_hub.h).
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "net/server/session_hub.h"

using scaffold::net::Flushable;
using scaffold::net::SubscriberLoop;

namespace {

struct TestLoop : SubscriberLoop {
  explicit TestLoop(boost::asio::io_context& io) : io(io) {}
  void Post(std::function<void()> fn) override { boost::asio::post(io, std::move(fn)); }
  boost::asio::io_context& io;
};

struct Recorder : Flushable {
  Recorder(std::vector<std::string>* log, std::string name) : log(log), name(std::move(name)) {}
  void Flush() override { log->push_back("flush " + name); }
  std::vector<std::string>* log;
  std::string name;
};

}  // namespace

TEST_CASE("a loop flushes after the tasks queued before the flush", "[server][flush]") {
  boost::asio::io_context io;
  TestLoop loop(io);
  std::vector<std::string> log;
  auto a = std::make_shared<Recorder>(&log, "a");
  auto b = std::make_shared<Recorder>(&log, "b");

  // Two fan-outs queued back to back: the flush the first asks for runs after the second, and
  // once for both connections.
  loop.Post([&] {
    log.push_back("fan-out 1");
    loop.FlushLater(a);
  });
  loop.Post([&] {
    log.push_back("fan-out 2");
    loop.FlushLater(b);
    loop.FlushLater(a);  // asked already: still one flush of a
  });
  io.run();
  CHECK(log == std::vector<std::string>{"fan-out 1", "fan-out 2", "flush a", "flush b"});

  // A later turn gets a flush of its own.
  log.clear();
  loop.Post([&] {
    log.push_back("fan-out 3");
    loop.FlushLater(a);
  });
  io.restart();
  io.run();
  CHECK(log == std::vector<std::string>{"fan-out 3", "flush a"});
}

TEST_CASE("a connection asked for during a flush is flushed in the next turn", "[server][flush]") {
  boost::asio::io_context io;
  TestLoop loop(io);
  std::vector<std::string> log;
  auto b = std::make_shared<Recorder>(&log, "b");
  struct Again : Flushable {
    Again(TestLoop* loop, std::vector<std::string>* log, std::shared_ptr<Flushable> next)
        : loop(loop), log(log), next(std::move(next)) {}
    void Flush() override {
      log->push_back("flush again");
      loop->FlushLater(next);  // a flush that asks for another: not lost, not run in this one
    }
    TestLoop* loop;
    std::vector<std::string>* log;
    std::shared_ptr<Flushable> next;
  };
  auto again = std::make_shared<Again>(&loop, &log, b);
  loop.Post([&] { loop.FlushLater(again); });
  io.run();
  CHECK(log == std::vector<std::string>{"flush again", "flush b"});
}
