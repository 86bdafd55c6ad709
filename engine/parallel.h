// A loop over [0, n) split across the cores, for long reads done before anything else runs (a
// whole log parsed at once, a recording's exchange lines checked).
#pragma once

#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace scaffold::engine {

// Calls fn(i) for every i in [0, n), in contiguous chunks, one per thread, on up to 8 threads
// and at least `per_thread` items each (fewer items: one thread, the caller's). A chunk stops
// at the first i for which fn returns false, so the earliest failure of the whole range is the
// earliest one any call reported. Returns when every chunk is done.
template <typename F>
void ForEachInChunks(size_t n, size_t per_thread, F&& fn) {
  size_t threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
  threads = std::min(threads, std::max<size_t>(1, n / per_thread));
  size_t chunk = (n + threads - 1) / threads;
  auto run = [&](size_t t) {
    for (size_t i = t * chunk; i < std::min(n, (t + 1) * chunk) && fn(i); ++i) {
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(run, t);
  run(0);
  for (auto& thread : pool) thread.join();
}

}  // namespace scaffold::engine
