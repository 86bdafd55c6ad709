// fanout_loadgen: K subscribers (half SSE, half WebSocket) on one session of a server that
// speaks scaffold's protocol (scaffold serve, the Node and Bun peers in bench/peers, or
// fanout_floor), on 127.0.0.1 only and bounded in time.
//
//   fanout_loadgen --port P --k K [--seconds S] [--workflow NAME] [--server-pid PID]
//                  [--only sse|ws] [--threads T]
//
// It creates a session (POST /sessions), connects every subscriber while the session waits at
// its first ask, answers the ask (POST /sessions/:id/input) so the session starts streaming,
// and counts the events each subscriber receives until workflow:completed reaches all of them
// or S seconds pass. Latency is measured twice against the event's own `timestamp` (ms):
//   - read: when this program read the event;
//   - arrival: when the event's last bytes reached the subscriber's socket, the kernel's receive
//     timestamp of the read (SO_TIMESTAMPNS; on loopback, taken as the server's send() hands
//     the segment to the network). A read that brings several events carries the stamp of its
//     last segment, so an earlier event's arrival can only be counted late, never early.
// Arrival is the server's delivery latency as a client on another machine would see it; read
// adds the time this program, one thread reading K sockets in turn on cores it shares with the
// server, takes to get to each socket. Prints one JSON object: {k, connected, deliveries,
// seconds, deliveries_per_s, p50_ms, p99_ms, max_ms, paced_p50_ms, paced_p99_ms,
// arrival_p50_ms, arrival_p99_ms, paced_arrival_p50_ms, paced_arrival_p99_ms, arrivals,
// completed}, and with --server-pid the server's RSS once every subscriber is connected and
// idle (idle_rss_kib), read from /proc before the session starts streaming. The paced
// figures count text:delta events only: the ones the upstream's (or a peer's) timer paces; a
// scaffold session also commits a burst of lifecycle events when it starts (the answer, phase
// and agent events) and ends, which the peers do not send.
//
// It shares the machine's cores with the server it measures, so it does as little as it can
// per message: subscribers are set up with blocking calls before anything is measured, then T
// threads (1 by default) each wait on an epoll set of their share and read with non-blocking
// recvmsg() into one buffer, finding an event's timestamp and name without parsing its JSON.
// SSE is read as lines (a chunked response's size lines are not `data:` lines and are
// skipped); WebSocket as unmasked server frames, one message per frame, answering pings.

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::atomic<int> g_connected{0};
std::atomic<int> g_completed{0};
std::atomic<int64_t> g_deliveries{0};

// One reader thread's figures; merged once every thread has stopped.
struct Stats {
  std::vector<int32_t> latencies;
  // text:delta events only: the stream the upstream (or a peer's timer) paces, without the
  // lifecycle events a scaffold session commits in a burst when it starts and ends.
  std::vector<int32_t> paced;
  // The same two, from the kernel's receive timestamps.
  std::vector<int32_t> arrival;
  std::vector<int32_t> paced_arrival;
};

struct Conn {
  int fd = -1;
  bool ws = false;
  bool done = false;
  std::string pending;  // the start of a line or frame that has not fully arrived
};

// Finds "timestamp":N and "name":"..." in an event's wire JSON without parsing all of it.
// `arrival_ms` is the kernel's receive timestamp of the read that completed the event (0 when
// the kernel gave none).
void OnEventText(std::string_view text, int64_t arrival_ms, Stats& stats, Conn& conn) {
  size_t ts = text.rfind("\"timestamp\":");
  if (ts == std::string_view::npos) return;
  std::string_view digits = text.substr(ts + 12);
  int64_t stamp = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), stamp);
  int32_t latency = static_cast<int32_t>(NowMs() - stamp);
  bool paced = text.find("\"name\":\"text:delta\"") != std::string_view::npos;
  stats.latencies.push_back(latency);
  if (paced) stats.paced.push_back(latency);
  if (arrival_ms > 0) {
    int32_t arrived = static_cast<int32_t>(arrival_ms - stamp);
    stats.arrival.push_back(arrived);
    if (paced) stats.paced_arrival.push_back(arrived);
  }
  g_deliveries.fetch_add(1, std::memory_order_relaxed);
  if (text.find("\"name\":\"workflow:completed\"") != std::string_view::npos ||
      text.find("\"name\":\"workflow:error\"") != std::string_view::npos) {
    conn.done = true;
    ++g_completed;
  }
}

bool SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

int Connect(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  return fd;
}

// Reads (blocking) up to the end of a response's head; what followed it is left in `rest`.
bool ReadHead(int fd, std::string& head, std::string& rest) {
  std::string got;
  char buf[4096];
  while (true) {
    size_t end = got.find("\r\n\r\n");
    if (end != std::string::npos) {
      head = got.substr(0, end + 4);
      rest = got.substr(end + 4);
      return true;
    }
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    got.append(buf, static_cast<size_t>(n));
  }
}

// A plain HTTP/1.1 request with Connection: close; returns the response's body.
std::string Request(uint16_t port, const char* method, const std::string& target,
                    const std::string& body) {
  int fd = Connect(port);
  if (fd < 0) return "";
  std::string req = std::string(method) + " " + target +
                    " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    "Connection: close\r\nContent-Length: " +
                    std::to_string(body.size()) + "\r\n\r\n" + body;
  std::string head, rest;
  if (!SendAll(fd, req) || !ReadHead(fd, head, rest)) {
    close(fd);
    return "";
  }
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof buf, 0)) > 0) rest.append(buf, static_cast<size_t>(n));
  close(fd);
  return rest;
}

// A masked client frame (RFC 6455 5.3) of a short payload: the subscribe message and pongs.
std::string ClientFrame(uint8_t opcode, std::string_view payload) {
  static constexpr uint8_t kMask[4] = {0x1f, 0x2e, 0x3d, 0x4c};
  std::string frame;
  frame.push_back(static_cast<char>(0x80 | opcode));
  frame.push_back(static_cast<char>(0x80 | payload.size()));  // payloads here are < 126 bytes
  frame.append(reinterpret_cast<const char*>(kMask), 4);
  for (size_t i = 0; i < payload.size(); ++i)
    frame.push_back(static_cast<char>(payload[i] ^ kMask[i % 4]));
  return frame;
}

class Reader {
 public:
  Reader() : ep_(epoll_create1(0)), buf_(new char[kBuf]) {}
  ~Reader() {
    for (auto& c : conns_)
      if (c->fd >= 0) close(c->fd);
    close(ep_);
  }

  void Add(std::unique_ptr<Conn> conn) {
    fcntl(conn->fd, F_SETFL, fcntl(conn->fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = conn.get();
    // Bytes that came with the WebSocket handshake's response stay in `pending`, in front of
    // what the next read brings (before the subscription they hold no event).
    epoll_ctl(ep_, EPOLL_CTL_ADD, conn->fd, &ev);
    conns_.push_back(std::move(conn));
  }

  void Run(const std::atomic<bool>& stop) {
    epoll_event events[512];
    while (!stop.load(std::memory_order_relaxed)) {
      int n = epoll_wait(ep_, events, 512, 50);
      for (int i = 0; i < n; ++i) Readable(*static_cast<Conn*>(events[i].data.ptr));
    }
  }

  Stats& stats() { return stats_; }

 private:
  static constexpr size_t kBuf = 64 * 1024;

  void Readable(Conn& c) {
    iovec iov{buf_.get(), kBuf};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(c.fd, &msg, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) return Drop(c);
    arrival_ms_ = 0;
    for (cmsghdr* cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
      if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
        arrival_ms_ = int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
      }
    }
    Take(c, std::string_view(buf_.get(), static_cast<size_t>(n)));
  }

  void Take(Conn& c, std::string_view data) {
    if (c.pending.empty()) {
      size_t used = c.ws ? Frames(c, data) : Lines(c, data);
      c.pending.assign(data.substr(used));
    } else {
      c.pending.append(data);
      size_t used = c.ws ? Frames(c, c.pending) : Lines(c, c.pending);
      c.pending.erase(0, used);
    }
  }

  // Whole lines of an SSE response; returns the bytes they took.
  size_t Lines(Conn& c, std::string_view data) {
    size_t start = 0;
    while (true) {
      size_t nl = data.find('\n', start);
      if (nl == std::string_view::npos) return start;
      std::string_view line = data.substr(start, nl - start);
      if (!c.done && line.substr(0, 6) == "data: ")
        OnEventText(line.substr(6), arrival_ms_, stats_, c);
      start = nl + 1;
    }
  }

  // Whole frames from the server (never masked); returns the bytes they took.
  size_t Frames(Conn& c, std::string_view data) {
    size_t at = 0;
    while (data.size() - at >= 2) {
      auto byte = [&](size_t i) { return static_cast<uint8_t>(data[at + i]); };
      uint8_t opcode = byte(0) & 0x0f;
      uint64_t len = byte(1) & 0x7f;
      size_t head = 2;
      if (len == 126) {
        if (data.size() - at < 4) break;
        len = (uint64_t{byte(2)} << 8) | byte(3);
        head = 4;
      } else if (len == 127) {
        if (data.size() - at < 10) break;
        len = 0;
        for (size_t i = 0; i < 8; ++i) len = (len << 8) | byte(2 + i);
        head = 10;
      }
      if (data.size() - at < head + len) break;
      std::string_view payload = data.substr(at + head, len);
      if ((opcode == 1 || opcode == 0) && !c.done &&
          payload.find("\"type\":\"event\"") != std::string_view::npos) {
        OnEventText(payload, arrival_ms_, stats_, c);
      } else if (opcode == 9) {
        SendAll(c.fd, ClientFrame(0xA, payload));
      }
      at += head + len;
    }
    return at;
  }

  void Drop(Conn& c) {
    epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    c.fd = -1;
  }

  int ep_;
  std::unique_ptr<char[]> buf_;
  std::vector<std::unique_ptr<Conn>> conns_;
  Stats stats_;
  int64_t arrival_ms_ = 0;  // the receive timestamp of the read being taken apart
};

std::unique_ptr<Conn> Subscribe(uint16_t port, const std::string& id, bool ws) {
  auto c = std::make_unique<Conn>();
  c->ws = ws;
  c->fd = Connect(port);
  if (c->fd < 0) return nullptr;
  if (!ws) {
    std::string req = "GET /sessions/" + id +
                      "/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
    if (!SendAll(c->fd, req)) return nullptr;
    return c;
  }
  std::string upgrade =
      "GET /ws?client=web HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n";
  std::string head;
  if (!SendAll(c->fd, upgrade) || !ReadHead(c->fd, head, c->pending) ||
      head.find(" 101 ") == std::string::npos) {
    close(c->fd);
    return nullptr;
  }
  if (!SendAll(c->fd, ClientFrame(0x1, "{\"type\":\"subscribe\",\"sessionId\":\"" + id + "\"}"))) {
    close(c->fd);
    return nullptr;
  }
  return c;
}

// A process's resident set (VmRSS), in KiB; 0 if it cannot be read.
long RssKib(int pid) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  if (!f) return 0;
  char line[256];
  long kib = 0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) kib = std::atol(line + 6);
  }
  std::fclose(f);
  return kib;
}

}  // namespace

int main(int argc, char** argv) {
  uint16_t port = 0;
  int k = 100;
  int seconds = 30;
  std::string workflow = "fanout";
  int server_pid = 0;
  int threads = 1;
  std::string only;  // "sse" or "ws": every subscriber of that kind instead of half of each
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--port") port = static_cast<uint16_t>(std::atoi(argv[i + 1]));
    if (flag == "--k") k = std::atoi(argv[i + 1]);
    if (flag == "--seconds") seconds = std::atoi(argv[i + 1]);
    if (flag == "--workflow") workflow = argv[i + 1];
    if (flag == "--server-pid") server_pid = std::atoi(argv[i + 1]);
    if (flag == "--only") only = argv[i + 1];
    if (flag == "--threads") threads = std::max(1, std::atoi(argv[i + 1]));
  }
  if (!port) {
    std::fprintf(stderr, "usage: fanout_loadgen --port P --k K [--seconds S] [--workflow NAME]\n");
    return 2;
  }
  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);

  std::string created =
      Request(port, "POST", "/sessions", "{\"workflow\":\"" + workflow + "\",\"input\":\"go\"}");
  size_t at = created.find("\"sessionId\":\"");
  if (at == std::string::npos) {
    std::fprintf(stderr, "cannot create a session: %s\n", created.c_str());
    return 1;
  }
  std::string id = created.substr(at + 13, 36);

  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  std::vector<Reader> readers(threads);
  std::atomic<bool> stop{false};
  std::vector<std::thread> running;
  for (auto& r : readers) running.emplace_back([&r, &stop] { r.Run(stop); });
  for (int i = 0; i < k && std::chrono::steady_clock::now() < deadline; ++i) {
    bool ws = only == "ws" || (only != "sse" && i % 2 == 1);
    auto conn = Subscribe(port, id, ws);
    if (!conn) continue;
    readers[i % threads].Add(std::move(conn));
    ++g_connected;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // subscriptions settle
  long idle_rss_kib = server_pid ? RssKib(server_pid) : 0;
  int64_t before = g_deliveries;
  auto start = std::chrono::steady_clock::now();
  Request(port, "POST", "/sessions/" + id + "/input", "{\"input\":\"go\"}");
  while (g_completed < g_connected && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stop = true;
  for (auto& t : running) t.join();

  std::vector<int32_t> lat, paced, arrival, paced_arrival;
  for (auto& r : readers) {
    auto add = [](std::vector<int32_t>& to, const std::vector<int32_t>& from) {
      to.insert(to.end(), from.begin(), from.end());
    };
    add(lat, r.stats().latencies);
    add(paced, r.stats().paced);
    add(arrival, r.stats().arrival);
    add(paced_arrival, r.stats().paced_arrival);
  }
  for (auto* v : {&lat, &paced, &arrival, &paced_arrival}) std::sort(v->begin(), v->end());
  auto pct_of = [](const std::vector<int32_t>& v, double p) {
    return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
  };
  auto pct = [&](double p) { return pct_of(lat, p); };
  int64_t deliveries = g_deliveries - before;
  std::printf(
      "{\"k\": %d, \"connected\": %d, \"completed\": %d, \"deliveries\": %lld, \"seconds\": %.3f, "
      "\"deliveries_per_s\": %.0f, \"p50_ms\": %d, \"p99_ms\": %d, \"max_ms\": %d, "
      "\"paced_p50_ms\": %d, \"paced_p99_ms\": %d, \"arrival_p50_ms\": %d, "
      "\"arrival_p99_ms\": %d, \"paced_arrival_p50_ms\": %d, \"paced_arrival_p99_ms\": %d, "
      "\"arrivals\": %zu, \"idle_rss_kib\": %ld}\n",
      k, g_connected.load(), g_completed.load(), static_cast<long long>(deliveries), elapsed,
      deliveries / elapsed, pct(0.5), pct(0.99), lat.empty() ? 0 : lat.back(), pct_of(paced, 0.5),
      pct_of(paced, 0.99), pct_of(arrival, 0.5), pct_of(arrival, 0.99), pct_of(paced_arrival, 0.5),
      pct_of(paced_arrival, 0.99), arrival.size(), idle_rss_kib);
  return 0;
}
