#include "tests/support/page_server.h"

#include <poll.h>

#include <chrono>

#include "tests/support/loopback.h"

namespace scaffold::testing {
PageServer::PageServer() {
  listen_fd_ = ListenLoopback(&port_);
  thread_ = std::thread([this] { Run(); });
}

void PageServer::set_html(std::string html) {
  std::lock_guard<std::mutex> lock(mu_);
  html_ = std::move(html);
}

PageServer::~PageServer() {
  stop_ = true;
  thread_.join();
  close(listen_fd_);
}

std::optional<std::string> PageServer::WaitForReport(int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return report_.has_value(); });
  return report_;
}

void PageServer::Run() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    Serve(fd);
    close(fd);
  }
}

// One request per connection, read with a deadline so a stray connection cannot hang the test.
void PageServer::Serve(int fd) {
  std::string in;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  size_t header_end = std::string::npos, want = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (header_end == std::string::npos &&
        (header_end = in.find("\r\n\r\n")) != std::string::npos) {
      size_t cl = in.find("Content-Length: ");
      if (cl == std::string::npos) cl = in.find("content-length: ");
      want = header_end + 4 +
             (cl != std::string::npos && cl < header_end ? std::stoul(in.substr(cl + 16)) : 0);
    }
    if (header_end != std::string::npos && in.size() >= want) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    char buf[8192];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return;
    in.append(buf, static_cast<size_t>(n));
  }
  if (header_end == std::string::npos) return;
  if (in.rfind("GET / ", 0) == 0) {
    std::string html;
    {
      std::lock_guard<std::mutex> lock(mu_);
      html = html_;
    }
    SendAll(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " +
                    std::to_string(html.size()) + "\r\nConnection: close\r\n\r\n" + html);
  } else if (in.rfind("POST /report ", 0) == 0) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      report_ = in.substr(header_end + 4);
    }
    cv_.notify_all();
    SendAll(fd, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
  } else {
    SendAll(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  }
}

}  // namespace scaffold::testing
