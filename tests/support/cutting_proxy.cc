#include "tests/support/cutting_proxy.h"

#include <poll.h>

#include <vector>

#include "tests/support/loopback.h"

namespace scaffold::testing {
namespace {

struct Pair {
  int client = -1;
  int server = -1;
  size_t down = 0;   // bytes from the server so far
  size_t limit = 0;  // 0: never cut
};

}  // namespace

CuttingProxy::CuttingProxy(uint16_t target, std::function<size_t()> cut_after)
    : target_(target), cut_after_(std::move(cut_after)) {
  listen_fd_ = ListenLoopback(&port_);
  thread_ = std::thread([this] { Run(); });
}

CuttingProxy::~CuttingProxy() {
  stop_ = true;
  thread_.join();
  close(listen_fd_);
}

void CuttingProxy::Run() {
  std::vector<Pair> pairs;
  auto drop = [&](size_t i) {
    close(pairs[i].client);
    close(pairs[i].server);
    pairs.erase(pairs.begin() + static_cast<long>(i));
  };
  while (!stop_) {
    std::vector<pollfd> fds = {{listen_fd_, POLLIN, 0}};
    for (const auto& p : pairs) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.server, POLLIN, 0});
    }
    if (poll(fds.data(), fds.size(), 20) <= 0) continue;
    const size_t polled = pairs.size();  // a pair accepted below has no pollfd yet
    if (fds[0].revents & POLLIN) {
      int client = accept(listen_fd_, nullptr, nullptr);
      int server = socket(AF_INET, SOCK_STREAM, 0);
      if (client >= 0 && ConnectLoopback(server, target_)) {
        pairs.push_back({client, server, 0, cut_after_()});
      } else {
        if (client >= 0) close(client);
        close(server);
      }
    }
    // Walk backwards so dropping a pair leaves the earlier indices valid.
    for (size_t i = polled; i-- > 0;) {
      const pollfd& c = fds[1 + 2 * i];
      const pollfd& s = fds[2 + 2 * i];
      char buf[16384];
      bool gone = false;
      if (c.revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = recv(pairs[i].client, buf, sizeof buf, 0);
        gone = n <= 0 || !SendAll(pairs[i].server, buf, static_cast<size_t>(n));
      }
      if (!gone && (s.revents & (POLLIN | POLLHUP | POLLERR))) {
        size_t room = sizeof buf;
        if (pairs[i].limit > 0) room = std::min(room, pairs[i].limit - pairs[i].down);
        ssize_t n = recv(pairs[i].server, buf, room, 0);
        gone = n <= 0 || !SendAll(pairs[i].client, buf, static_cast<size_t>(n));
        if (n > 0) pairs[i].down += static_cast<size_t>(n);
        if (!gone && pairs[i].limit > 0 && pairs[i].down >= pairs[i].limit) {
          gone = true;
          ++cuts_;
        }
      }
      if (gone) drop(i);
    }
  }
  for (auto& p : pairs) {
    close(p.client);
    close(p.server);
  }
}

}  // namespace scaffold::testing
