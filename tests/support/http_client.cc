#include "tests/support/http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <deque>

#include "tests/support/loopback.h"

namespace scaffold::testing {
namespace {

size_t CollectBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t CollectHeader(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ')) value.erase(0, 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) value.pop_back();
    (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
  }
  return size * n;
}

}  // namespace

HttpResult Http(const std::string& method, const std::string& url, const std::string& body,
                const std::vector<std::string>& headers, int timeout_ms) {
  HttpResult r;
  CURL* h = curl_easy_init();
  curl_slist* list = nullptr;
  for (const auto& x : headers) list = curl_slist_append(list, x.c_str());
  if (!body.empty()) list = curl_slist_append(list, "Content-Type: application/json");
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (!body.empty() || method == "POST") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.headers);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_ms));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  if (curl_easy_perform(h) == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    r.status = static_cast<int>(status);
  }
  curl_slist_free_all(list);
  curl_easy_cleanup(h);
  return r;
}

struct SseClient::State {
  std::mutex mu;
  std::condition_variable cv;
  net::SseParser parser;
  std::vector<net::SseEvent> events;
  std::string comments;
  std::map<std::string, std::string> headers;
  int status = 0;
  bool ended = false;
  std::atomic<bool> stop{false};
};

SseClient::SseClient(const std::string& url, const std::vector<std::string>& headers)
    : state_(std::make_shared<State>()) {
  auto state = state_;
  thread_ = std::thread([state, url, headers] {
    struct Ctx {
      State* state;
    } ctx{state.get()};
    auto on_data = +[](char* data, size_t size, size_t n, void* user) -> size_t {
      auto* c = static_cast<Ctx*>(user);
      if (c->state->stop) return 0;
      std::string chunk(data, size * n);
      std::lock_guard<std::mutex> lock(c->state->mu);
      for (size_t pos = 0; pos < chunk.size();) {
        size_t nl = chunk.find('\n', pos);
        std::string line =
            chunk.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        if (!line.empty() && line[0] == ':') c->state->comments += line + "\n";
        if (nl == std::string::npos) break;
        pos = nl + 1;
      }
      c->state->parser.Feed(chunk, &c->state->events);
      c->state->cv.notify_all();
      return size * n;
    };
    auto progress = +[](void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> int {
      return static_cast<Ctx*>(user)->state->stop ? 1 : 0;
    };
    CURL* h = curl_easy_init();
    curl_slist* list = nullptr;
    for (const auto& x : headers) list = curl_slist_append(list, x.c_str());
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ctx);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, CollectHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &state->headers);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &ctx);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 120000L);
    curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(list);
    curl_easy_cleanup(h);
    std::lock_guard<std::mutex> lock(state->mu);
    state->status = static_cast<int>(status);
    state->ended = true;
    state->cv.notify_all();
  });
}

SseClient::~SseClient() {
  Close();
}

void SseClient::Close() {
  state_->stop = true;
  if (thread_.joinable()) thread_.join();
}

bool SseClient::WaitFor(const std::function<bool(const std::vector<net::SseEvent>&)>& done,
                        int timeout_ms) {
  std::unique_lock<std::mutex> lock(state_->mu);
  return state_->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    return done(state_->events) || state_->ended;
  }) && done(state_->events);
}

bool SseClient::WaitForEnd(int timeout_ms) {
  std::unique_lock<std::mutex> lock(state_->mu);
  return state_->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                             [&] { return state_->ended; });
}

std::vector<net::SseEvent> SseClient::events() {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->events;
}

int SseClient::status() {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->status;
}

std::map<std::string, std::string> SseClient::headers() {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->headers;
}

std::string SseClient::comments_seen() {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->comments;
}

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

// Everything runs on the client's own io_context thread; Send posts onto it, so reads, writes
// and the automatic pong replies never overlap.
struct WsClient::Impl {
  asio::io_context io;
  websocket::stream<beast::tcp_stream> ws{io};
  bool connected = false;
  std::string error;
  std::thread thread;
  beast::flat_buffer buffer;
  std::deque<std::string> outbox;  // on the io thread only

  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::string> inbox;
  bool closed = false;
  int close_code = 0;

  void ReadNext() {
    ws.async_read(buffer, [this](beast::error_code ec, size_t) {
      std::lock_guard<std::mutex> lock(mu);
      if (ec) {
        closed = true;
        close_code = ws.reason().code;
        cv.notify_all();
        return;
      }
      inbox.push_back(beast::buffers_to_string(buffer.data()));
      buffer.consume(buffer.size());
      cv.notify_all();
      ReadNext();
    });
  }

  void WriteNext() {
    ws.text(true);
    ws.async_write(asio::buffer(outbox.front()), [this](beast::error_code ec, size_t) {
      outbox.pop_front();
      if (!ec && !outbox.empty()) WriteNext();
    });
  }
};

WsClient::WsClient(uint16_t port, const std::string& target,
                   const std::vector<std::pair<std::string, std::string>>& headers)
    : impl_(std::make_unique<Impl>()) {
  beast::error_code ec;
  asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  beast::get_lowest_layer(impl_->ws).connect(ep, ec);
  if (ec) {
    impl_->error = ec.message();
    return;
  }
  impl_->ws.set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
    for (const auto& [k, v] : headers) req.set(k, v);
  }));
  websocket::response_type res;
  impl_->ws.handshake(res, "127.0.0.1:" + std::to_string(port), target, ec);
  if (ec) {
    impl_->error = ec.message() + " (HTTP " + std::to_string(res.result_int()) + ")";
    return;
  }
  impl_->connected = true;
  impl_->ReadNext();
  Impl* impl = impl_.get();
  impl_->thread = std::thread([impl] { impl->io.run(); });
}

WsClient::~WsClient() {
  if (impl_->connected) {
    Impl* impl = impl_.get();
    asio::post(impl->io, [impl] {
      beast::error_code ec;
      beast::get_lowest_layer(impl->ws).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(impl->ws).socket().close(ec);
    });
  }
  if (impl_->thread.joinable()) impl_->thread.join();
}

bool WsClient::connected() const {
  return impl_->connected;
}
const std::string& WsClient::error() const {
  return impl_->error;
}

void WsClient::Send(const std::string& text) {
  Impl* impl = impl_.get();
  asio::post(impl->io, [impl, text] {
    impl->outbox.push_back(text);
    if (impl->outbox.size() == 1) impl->WriteNext();
  });
}

std::optional<Json> WsClient::Receive(int timeout_ms) {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                     [&] { return !impl_->inbox.empty() || impl_->closed; });
  if (impl_->inbox.empty()) return std::nullopt;
  std::string text = std::move(impl_->inbox.front());
  impl_->inbox.pop_front();
  return Json::parse(text, nullptr, false);
}

std::optional<Json> WsClient::ReceiveUntil(const std::function<bool(const Json&)>& match,
                                           int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    auto m = Receive(std::max(1, left));
    if (!m) return std::nullopt;
    if (match(*m)) return m;
  }
  return std::nullopt;
}

int WsClient::close_code() {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->cv.wait_for(lock, std::chrono::milliseconds(5000), [&] { return impl_->closed; });
  return impl_->close_code;
}

RawSocket::RawSocket(uint16_t port, int receive_buffer) {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  if (receive_buffer > 0)
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

RawSocket::~RawSocket() {
  if (fd_ >= 0) close(fd_);
}

bool RawSocket::Send(const std::string& bytes) {
  return SendAll(fd_, bytes);
}

std::string RawSocket::Read(int timeout_ms, const std::string& until) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!until.empty() && out.find(until) != std::string::npos) break;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

bool RawSocket::WaitClosed(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) continue;
    char buf[65536];
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
  return false;
}

}  // namespace scaffold::testing
