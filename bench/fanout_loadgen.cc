// fanout_loadgen: K subscribers (half SSE, half WebSocket) on one session of a server that
// speaks scaffold's protocol (scaffold serve, or the Node peer in bench/peers/node), on
// 127.0.0.1 only and bounded in time.
//
//   fanout_loadgen --port P --k K [--seconds S] [--workflow NAME] [--server-pid PID]
//                  [--only sse|ws]
//
// It creates a session (POST /sessions), connects every subscriber while the session waits at
// its first ask, answers the ask (POST /sessions/:id/input) so the session starts streaming,
// and counts the events each subscriber receives until workflow:completed reaches all of them
// or S seconds pass. Latency is receive time minus the event's own `timestamp` (ms). Prints
// one JSON object: {k, connected, deliveries, seconds, deliveries_per_s, p50_ms, p99_ms,
// max_ms, paced_p50_ms, paced_p99_ms, completed}, and with --server-pid the server's RSS once
// every subscriber is connected and idle (idle_rss_kib), read from /proc before the session
// starts streaming. The paced figures count text:delta events only: the ones the upstream's (or
// a peer's) timer paces; a scaffold session also commits a burst of lifecycle events when it
// starts (the answer, phase and agent events) and ends, which the peers do not send.

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Stats {
  std::mutex mu;
  std::vector<int32_t> latencies;
  // text:delta events only: the stream the upstream (or a peer's timer) paces, without the
  // lifecycle events a scaffold session commits in a burst when it starts and ends.
  std::vector<int32_t> paced;
  std::atomic<int64_t> deliveries{0};
  std::atomic<int> connected{0};
  std::atomic<int> completed{0};
  void Record(int64_t latency, bool is_paced) {
    ++deliveries;
    std::lock_guard lock(mu);
    latencies.push_back(static_cast<int32_t>(latency));
    if (is_paced) paced.push_back(static_cast<int32_t>(latency));
  }
};

// Finds "timestamp":N and "name":"..." in an event's wire JSON without parsing all of it.
void OnEventText(std::string_view text, Stats* stats, bool* done) {
  size_t ts = text.rfind("\"timestamp\":");
  if (ts == std::string_view::npos) return;
  int64_t stamp = std::atoll(std::string(text.substr(ts + 12, 20)).c_str());
  stats->Record(NowMs() - stamp,
                text.find("\"name\":\"text:delta\"") != std::string_view::npos);
  if (text.find("\"name\":\"workflow:completed\"") != std::string_view::npos ||
      text.find("\"name\":\"workflow:error\"") != std::string_view::npos) {
    *done = true;
    ++stats->completed;
  }
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

std::string Request(uint16_t port, const std::string& method, const std::string& target,
                    const std::string& body) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req(method == "POST" ? http::verb::post : http::verb::get,
                                       target, 11);
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return res.body();
}

class SseSub : public std::enable_shared_from_this<SseSub> {
 public:
  SseSub(asio::io_context& io, uint16_t port, std::string id, Stats* stats)
      : socket_(io), port_(port), id_(std::move(id)), stats_(stats) {}
  void Start() {
    auto self = shared_from_this();
    socket_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_),
                          [self](beast::error_code ec) {
                            if (ec) return;
                            self->request_ = "GET /sessions/" + self->id_ +
                                             "/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                             "Accept: text/event-stream\r\n\r\n";
                            asio::async_write(self->socket_, asio::buffer(self->request_),
                                              [self](beast::error_code ec, size_t) {
                                                if (ec) return;
                                                ++self->stats_->connected;
                                                self->Read();
                                              });
                          });
  }

 private:
  void Read() {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(buf_), [self](beast::error_code ec, size_t n) {
      if (ec) return;
      self->pending_.append(self->buf_, n);
      size_t start = 0;
      while (true) {
        size_t nl = self->pending_.find('\n', start);
        if (nl == std::string::npos) break;
        std::string_view line(self->pending_.data() + start, nl - start);
        if (line.rfind("data: ", 0) == 0 && !self->done_)
          OnEventText(line.substr(6), self->stats_, &self->done_);
        start = nl + 1;
      }
      self->pending_.erase(0, start);
      if (!self->done_) self->Read();
    });
  }

  tcp::socket socket_;
  uint16_t port_;
  std::string id_, request_, pending_;
  Stats* stats_;
  char buf_[16384];
  bool done_ = false;
};

class WsSub : public std::enable_shared_from_this<WsSub> {
 public:
  WsSub(asio::io_context& io, uint16_t port, std::string id, Stats* stats)
      : ws_(io), port_(port), id_(std::move(id)), stats_(stats) {}
  void Start() {
    auto self = shared_from_this();
    beast::get_lowest_layer(ws_).async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), [self](beast::error_code ec) {
          if (ec) return;
          self->ws_.async_handshake("127.0.0.1", "/ws?client=web", [self](beast::error_code ec) {
            if (ec) return;
            self->sub_ = "{\"type\":\"subscribe\",\"sessionId\":\"" + self->id_ + "\"}";
            self->ws_.async_write(asio::buffer(self->sub_), [self](beast::error_code ec, size_t) {
              if (ec) return;
              ++self->stats_->connected;
              self->Read();
            });
          });
        });
  }

 private:
  void Read() {
    auto self = shared_from_this();
    ws_.async_read(buffer_, [self](beast::error_code ec, size_t) {
      if (ec) return;
      std::string text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      if (text.find("\"type\":\"event\"") != std::string::npos)
        OnEventText(text, self->stats_, &self->done_);
      if (!self->done_) self->Read();
    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  uint16_t port_;
  std::string id_, sub_;
  Stats* stats_;
  beast::flat_buffer buffer_;
  bool done_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  uint16_t port = 0;
  int k = 100;
  int seconds = 30;
  std::string workflow = "fanout";
  int server_pid = 0;
  std::string only;  // "sse" or "ws": every subscriber of that kind instead of half of each
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--port") port = static_cast<uint16_t>(std::atoi(argv[i + 1]));
    if (flag == "--k") k = std::atoi(argv[i + 1]);
    if (flag == "--seconds") seconds = std::atoi(argv[i + 1]);
    if (flag == "--workflow") workflow = argv[i + 1];
    if (flag == "--server-pid") server_pid = std::atoi(argv[i + 1]);
    if (flag == "--only") only = argv[i + 1];
  }
  if (!port) {
    std::cerr << "usage: fanout_loadgen --port P --k K [--seconds S] [--workflow NAME]\n";
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
    std::cerr << "cannot create a session: " << created << "\n";
    return 1;
  }
  std::string id = created.substr(at + 13, 36);

  Stats stats;
  asio::io_context io;
  for (int i = 0; i < k; ++i) {
    if (only == "sse" || (only != "ws" && i % 2 == 0)) {
      std::make_shared<SseSub>(io, port, id, &stats)->Start();
    } else {
      std::make_shared<WsSub>(io, port, id, &stats)->Start();
    }
  }
  std::thread runner([&] { io.run(); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (stats.connected < k && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // subscriptions settle
  long idle_rss_kib = server_pid ? RssKib(server_pid) : 0;
  int64_t before = stats.deliveries;
  auto start = std::chrono::steady_clock::now();
  Request(port, "POST", "/sessions/" + id + "/input", "{\"input\":\"go\"}");
  while (stats.completed < stats.connected && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  io.stop();
  runner.join();

  std::vector<int32_t> lat, paced;
  {
    std::lock_guard lock(stats.mu);
    lat = stats.latencies;
    paced = stats.paced;
  }
  std::sort(lat.begin(), lat.end());
  std::sort(paced.begin(), paced.end());
  auto pct_of = [](const std::vector<int32_t>& v, double p) {
    return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
  };
  auto pct = [&](double p) { return pct_of(lat, p); };
  int64_t deliveries = stats.deliveries - before;
  std::printf(
      "{\"k\": %d, \"connected\": %d, \"completed\": %d, \"deliveries\": %lld, \"seconds\": %.3f, "
      "\"deliveries_per_s\": %.0f, \"p50_ms\": %d, \"p99_ms\": %d, \"max_ms\": %d, "
      "\"paced_p50_ms\": %d, \"paced_p99_ms\": %d, \"idle_rss_kib\": %ld}\n",
      k, stats.connected.load(), stats.completed.load(), static_cast<long long>(deliveries),
      elapsed, deliveries / elapsed, pct(0.5), pct(0.99), lat.empty() ? 0 : lat.back(),
      pct_of(paced, 0.5), pct_of(paced, 0.99), idle_rss_kib);
  return 0;
}
