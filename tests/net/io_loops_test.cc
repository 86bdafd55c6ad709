// IoLoops: the connection threads of the server (net/server/io_loops.h).
#include "net/server/io_loops.h"

#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <set>
#include <stdexcept>

using scaffold::net::IoLoops;

TEST_CASE("connections are spread over the loops in turn, each found again by its io_context",
          "[server][loops]") {
  IoLoops loops(3);
  CHECK(loops.size() == 3);
  std::set<boost::asio::io_context*> seen;
  for (int i = 0; i < 6; ++i) seen.insert(&loops.Next());
  CHECK(seen.size() == 3);
  for (auto* io : seen) CHECK(loops.Of(*io) != nullptr);
  boost::asio::io_context other;
  CHECK(loops.Of(other) == nullptr);
  CHECK(IoLoops(0).size() == 1);
}

TEST_CASE("a handler that throws does not stop its loop", "[server][loops]") {
  IoLoops loops(1);
  loops.Start();
  boost::asio::io_context& io = loops.Next();
  std::promise<std::thread::id> ran;
  boost::asio::post(io, [] { throw std::runtime_error("a bug in a handler"); });
  loops.Of(io)->Post([&] { ran.set_value(std::this_thread::get_id()); });
  auto done = ran.get_future();
  REQUIRE(done.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  CHECK(done.get() != std::this_thread::get_id());
  loops.Halt();
  loops.Halt();  // twice is once
}
