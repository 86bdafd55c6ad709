// fanout_floor: the least a server can do per SSE delivery on this machine, as a floor under
// the fan-out figures of scaffold and its peers. It speaks just enough of the protocol for
// `fanout_loadgen --only sse` (POST /sessions, GET /sessions/:id/events, POST
// /sessions/:id/input), keeps nothing, parses nothing beyond the request line, and delivers an
// event as one prebuilt frame written with one send() per subscriber, from THREADS writer
// threads that each own a share of the subscribers. Whatever latency it shows at a given K and
// pace is what the kernel's loopback TCP and the load generator cost on these cores, with no
// server around them.
//
//   fanout_floor PORT COUNT DELAY_MS [THREADS]     (prints "listening on PORT")
//
// After the input it sends COUNT text:delta events DELAY_MS apart, then workflow:completed,
// like the Bun and Node peers. A frame that does not fit a subscriber's socket buffer is
// counted and dropped (printed at the end as "short writes"; 0 in every run reported).

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr const char* kSessionId = "00000000-0000-4000-8000-000000000000";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One writer thread and the subscribers it owns; it waits for a frame and sends it to each.
struct Writer {
  std::vector<int> fds;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> queue;
  bool stop = false;
  int64_t short_writes = 0;

  void Post(const std::string& frame) {
    {
      std::lock_guard lock(mu);
      queue.push_back(frame);
    }
    cv.notify_one();
  }
  void Run() {
    std::vector<std::string> taken;
    while (true) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stop || !queue.empty(); });
        if (queue.empty()) return;
        taken.swap(queue);
      }
      for (const std::string& frame : taken) {
        for (int fd : fds) {
          ssize_t n = send(fd, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
          if (n != static_cast<ssize_t>(frame.size())) ++short_writes;
        }
      }
      taken.clear();
    }
  }
};

std::string Frame(int position, const char* name, const char* payload) {
  char buf[512];
  int n = std::snprintf(buf, sizeof buf,
                        "id: %d\nevent: %s\ndata: {\"id\":\"%08d-0000-4000-8000-000000000000\","
                        "\"position\":%d,\"name\":\"%s\",\"payload\":%s,\"timestamp\":%lld}\n\n",
                        position, name, position, position, name, payload,
                        static_cast<long long>(NowMs()));
  return std::string(buf, n);
}

void Reply(int fd, const char* body) {
  char buf[256];
  int n = std::snprintf(buf, sizeof buf,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                        std::strlen(body), body);
  send(fd, buf, n, MSG_NOSIGNAL);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: fanout_floor PORT COUNT DELAY_MS [THREADS]\n");
    return 2;
  }
  int port = std::atoi(argv[1]);
  int count = std::atoi(argv[2]);
  int delay_ms = std::atoi(argv[3]);
  int threads = argc > 4 ? std::max(1, std::atoi(argv[4])) : 2;
  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);

  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  socklen_t len = sizeof addr;
  if (bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listener, 4096) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("fanout_floor: listen");
    return 1;
  }
  std::printf("listening on %d\n", ntohs(addr.sin_port));
  std::fflush(stdout);

  std::vector<Writer> writers(threads);
  std::vector<std::thread> running;
  for (auto& w : writers) running.emplace_back([&w] { w.Run(); });

  int ep = epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener;
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  std::vector<std::string> pending(1 << 20);  // request bytes by fd, until the request is whole
  int subscribers = 0;
  std::thread producer;
  std::atomic<bool> finished{false};
  epoll_event events[256];
  while (!finished) {
    int n = epoll_wait(ep, events, 256, 100);
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == listener) {
        int c;
        while ((c = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
          if (static_cast<size_t>(c) >= pending.size()) {
            close(c);
            continue;
          }
          setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
        }
        continue;
      }
      char buf[4096];
      ssize_t got = recv(fd, buf, sizeof buf, 0);
      if (got <= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
        close(fd);
        pending[fd].clear();
        continue;
      }
      std::string& req = pending[fd];
      req.append(buf, got);
      size_t head = req.find("\r\n\r\n");
      if (head == std::string::npos) continue;
      size_t body = 0;
      if (const char* cl = strcasestr(req.c_str(), "content-length:")) body = std::atol(cl + 15);
      if (req.size() < head + 4 + body) continue;
      epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr);
      if (req.rfind("GET /sessions/", 0) == 0) {
        static const char kHead[] =
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
        send(fd, kHead, sizeof kHead - 1, MSG_NOSIGNAL);
        Writer& w = writers[subscribers++ % threads];
        std::lock_guard lock(w.mu);
        w.fds.push_back(fd);
      } else if (req.rfind("POST /sessions/", 0) == 0 && !producer.joinable()) {
        Reply(fd, "{\"ok\":true}");
        close(fd);
        producer = std::thread([&] {
          auto start = std::chrono::steady_clock::now();
          for (int k = 1; k <= count + 1; ++k) {
            std::this_thread::sleep_until(start + std::chrono::milliseconds(delay_ms) * k);
            std::string frame =
                k <= count ? Frame(k, "text:delta", "{\"agent\":\"writer\",\"delta\":\"tok \"}")
                           : Frame(k, "workflow:completed", "{\"result\":null}");
            for (auto& w : writers) w.Post(frame);
          }
          std::this_thread::sleep_for(std::chrono::seconds(2));
          finished = true;
        });
      } else {
        std::string created = std::string("{\"sessionId\":\"") + kSessionId + "\"}";
        Reply(fd, created.c_str());
        close(fd);
      }
      req.clear();
    }
  }
  producer.join();
  int64_t short_writes = 0;
  for (auto& w : writers) {
    {
      std::lock_guard lock(w.mu);
      w.stop = true;
    }
    w.cv.notify_one();
  }
  for (auto& t : running) t.join();
  for (auto& w : writers) short_writes += w.short_writes;
  std::printf("subscribers %d, short writes %lld\n", subscribers,
              static_cast<long long>(short_writes));
  return 0;
}
