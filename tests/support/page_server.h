// A web page for browser tests: serves one HTML document on 127.0.0.1 and keeps what the page
// POSTs back to /report, so a test can read what a real browser saw.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace scaffold::testing {

class PageServer {
 public:
  PageServer();
  // The page to serve (set once its content is known, e.g. after the server it talks to).
  void set_html(std::string html);
  ~PageServer();
  uint16_t port() const { return port_; }
  std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The body of the page's POST /report; nullopt if none came within `timeout_ms`.
  std::optional<std::string> WaitForReport(int timeout_ms);

 private:
  void Run();
  void Serve(int fd);

  std::string html_;  // protected by mu_
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::string> report_;  // protected by mu_
};

}  // namespace scaffold::testing
