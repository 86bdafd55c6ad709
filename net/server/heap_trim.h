// HeapTrimmer: gives the heap's free pages back to the system after a burst of connections.
//
// A request's state (Beast's parser and buffers, the header maps, the reply) is allocated
// while the connection is being set up, between the small objects a stream keeps for its whole
// life (its socket's state, its timer, its subscription). When thousands of clients connect
// at once, as after a restart or a network blip, the requests' memory is freed as each one
// becomes a stream, and leaves holes: glibc's malloc gives back only the free memory at the
// top of a heap, so the holes stay resident until later allocations reuse them. With 10,000
// idle WebSockets that connected together, about half of the server's growth was such holes
// (bench/README.md, idle memory).
//
// The trimmer counts connections whose request state was freed (they became a stream or
// closed). Once `burst` of them have finished since the last trim, it waits for `quiet`
// without another (the burst is over), or at most `max_wait` from the first wait, and then
// calls malloc_trim(0), which returns every free page of every arena. A steady trickle of
// connections triggers at most one trim per `burst` connections; a server that is never
// connected to never trims. The trim runs on the executor given (one of the server's shared
// threads, not a connection loop); it holds each arena's lock while it walks that arena's
// free chunks (9.6 ms at 10,000 idle WebSockets), so a connection loop that allocates
// meanwhile waits for it. Without glibc, nothing is trimmed.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>

namespace scaffold::net {

class HeapTrimmer {
 public:
  struct Policy {
    uint64_t burst = 256;
    std::chrono::milliseconds quiet{100};
    std::chrono::milliseconds max_wait{2000};
  };

  // Each trim adds one to `trims` (Metrics::heap_trims), which outlives the trimmer's Stop().
  HeapTrimmer(const boost::asio::any_io_executor& executor, Policy policy,
              std::atomic<int64_t>& trims);
  ~HeapTrimmer();  // Stop()

  // No trim starts after this (one under way finishes). The server stops its trimmer when it
  // stops; connections that end later still call Note(). Any thread.
  void Stop();

  // A connection's request state was freed. Any thread; an atomic increment unless a burst
  // has just reached `burst`.
  void Note();

  struct State;  // shared with a wait in progress

 private:
  std::shared_ptr<State> state_;
};

}  // namespace scaffold::net
