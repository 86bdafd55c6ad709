// HeapTrimmer: the heap is trimmed once after a burst of connections (net/server/heap_trim.h).
#include "net/server/heap_trim.h"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>

using scaffold::net::HeapTrimmer;
using namespace std::chrono_literals;

namespace {

HeapTrimmer::Policy Small() {
  HeapTrimmer::Policy p;
  p.burst = 4;
  p.quiet = 20ms;
  p.max_wait = 300ms;
  return p;
}

}  // namespace

TEST_CASE("the heap is trimmed once a burst of connections is over", "[server][trim]") {
  boost::asio::io_context io;
  std::atomic<int64_t> trims{0};
  HeapTrimmer trimmer(io.get_executor(), Small(), trims);

  for (int i = 0; i < 3; ++i) trimmer.Note();
  io.run_for(100ms);
  CHECK(trims == 0);  // under the burst: never

  trimmer.Note();  // the fourth
  for (int i = 0; i < 10; ++i) trimmer.Note();  // the same burst goes on: still one wait
  io.restart();
  io.run_for(100ms);
  CHECK(trims == 1);

  trimmer.Note();  // a new burst starts counting from the trim
  io.restart();
  io.run_for(60ms);
  CHECK(trims == 1);
  for (int i = 0; i < 3; ++i) trimmer.Note();
  io.restart();
  io.run_for(100ms);
  CHECK(trims == 2);
}

TEST_CASE("connections that never stop arriving still get a trim after the longest wait",
          "[server][trim]") {
  boost::asio::io_context io;
  std::atomic<int64_t> trims{0};
  HeapTrimmer trimmer(io.get_executor(), Small(), trims);
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now(), last = start;
  Clock::duration longest_gap{};
  // A connection every 5 ms, so no 20 ms is quiet (unless the machine stalls this loop).
  while (trims == 0 && Clock::now() - start < 3s) {
    trimmer.Note();
    longest_gap = std::max(longest_gap, Clock::now() - last);
    last = Clock::now();
    io.restart();
    io.run_for(5ms);
  }
  CHECK(trims == 1);
  // The trim came from the longest wait, not from a quiet spell.
  CHECK((Clock::now() - start >= 300ms || longest_gap >= 20ms));
}

TEST_CASE("a trimmer destroyed while it waits trims nothing after", "[server][trim]") {
  boost::asio::io_context io;
  std::atomic<int64_t> trims{0};
  {
    HeapTrimmer trimmer(io.get_executor(), Small(), trims);
    for (int i = 0; i < 4; ++i) trimmer.Note();
    io.run_for(5ms);  // the wait has started
  }
  io.restart();
  io.run_for(100ms);
  CHECK(trims == 0);
}
