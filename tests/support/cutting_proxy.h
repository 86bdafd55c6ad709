// A TCP proxy on 127.0.0.1 that drops connections on purpose: each one is cut after the server
// has sent it a chosen number of bytes. For testing clients that must reconnect and resume.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>

namespace scaffold::testing {

class CuttingProxy {
 public:
  // Forwards to 127.0.0.1:`target`. `cut_after` is asked, per connection, how many bytes from
  // the server to let through before closing both sides (0: never).
  CuttingProxy(uint16_t target, std::function<size_t()> cut_after);
  ~CuttingProxy();
  uint16_t port() const { return port_; }
  int cuts() const { return cuts_; }

 private:
  void Run();

  uint16_t target_;
  std::function<size_t()> cut_after_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> cuts_{0};
  std::thread thread_;
};

}  // namespace scaffold::testing
