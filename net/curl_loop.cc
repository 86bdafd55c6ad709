#include "net/curl_loop.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <mutex>

namespace scaffold::net {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::once_flag curl_init;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

TransferResult::Outcome OutcomeOf(CURLcode code) {
  switch (code) {
    case CURLE_OK:
      return TransferResult::Outcome::kOk;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return TransferResult::Outcome::kConnectFailed;
    case CURLE_OPERATION_TIMEDOUT:
      return TransferResult::Outcome::kConnectTimeout;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return TransferResult::Outcome::kBroken;
    default:
      return TransferResult::Outcome::kOther;
  }
}

}  // namespace

struct CurlLoop::Easy {
  uint64_t id = 0;
  CURL* handle = nullptr;
  curl_slist* headers = nullptr;
  HttpRequest request;
  std::shared_ptr<Transfer> transfer;
  HttpHead head;
  bool aborted = false;  // a callback returned false: no OnDone
  SteadyClock::time_point last_activity = SteadyClock::now();
  char error[CURL_ERROR_SIZE] = {};

  ~Easy() {
    if (handle) curl_easy_cleanup(handle);
    if (headers) curl_slist_free_all(headers);
  }

  static size_t OnHeader(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<Easy*>(user);
    size_t n = size * count;
    self->last_activity = SteadyClock::now();
    std::string_view line(data, n);
    if (line.substr(0, 5) == "HTTP/") {
      self->head = HttpHead{};
      size_t space = line.find(' ');
      if (space != std::string_view::npos)
        self->head.status = std::atoi(std::string(line.substr(space + 1, 3)).c_str());
      return n;
    }
    if (Trim(line).empty()) {
      if (self->head.status >= 100 && self->head.status < 200)
        return n;  // 100 Continue and friends
      if (!self->transfer->OnHead(self->head)) {
        self->aborted = true;
        return 0;
      }
      return n;
    }
    size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      self->head.headers[Lower(Trim(line.substr(0, colon)))] =
          std::string(Trim(line.substr(colon + 1)));
    }
    return n;
  }

  static size_t OnWrite(char* data, size_t size, size_t count, void* user) {
    auto* self = static_cast<Easy*>(user);
    size_t n = size * count;
    self->last_activity = SteadyClock::now();
    if (!self->transfer->OnData(std::string_view(data, n))) {
      self->aborted = true;
      return 0;
    }
    return n;
  }
};

CurlLoop::CurlLoop() {
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  multi_ = curl_multi_init();
  thread_ = std::thread([this] { Run(); });
}

CurlLoop::~CurlLoop() {
  stop_ = true;
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
  thread_.join();
  for (auto& [id, easy] : running_)
    curl_multi_remove_handle(static_cast<CURLM*>(multi_), easy->handle);
  running_.clear();
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

uint64_t CurlLoop::Start(HttpRequest request, std::shared_ptr<Transfer> transfer) {
  auto easy = std::make_unique<Easy>();
  easy->id = next_id_++;
  easy->request = std::move(request);
  easy->transfer = std::move(transfer);
  uint64_t id = easy->id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    to_start_.push_back(std::move(easy));
  }
  ++active_;
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
  return id;
}

void CurlLoop::Cancel(uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    to_cancel_.push_back(id);
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

void CurlLoop::ApplyCommands() {
  std::vector<std::unique_ptr<Easy>> starts;
  std::vector<uint64_t> cancels;
  {
    std::lock_guard<std::mutex> lock(mu_);
    starts.swap(to_start_);
    cancels.swap(to_cancel_);
  }
  for (auto& easy : starts) {
    CURL* h = curl_easy_init();
    easy->handle = h;
    const HttpRequest& r = easy->request;
    for (const auto& header : r.headers)
      easy->headers = curl_slist_append(easy->headers, header.c_str());
    // An empty Expect stops curl from waiting for "100 Continue" on large bodies.
    easy->headers = curl_slist_append(easy->headers, "Expect:");
    curl_easy_setopt(h, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, easy->headers);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    if (r.method == "POST" || !r.body.empty()) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, r.body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    }
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.connect_timeout_ms));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "scaffold/" SCAFFOLD_NET_VERSION);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, easy->error);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Easy::OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, easy.get());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Easy::OnWrite);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, easy.get());
    curl_easy_setopt(h, CURLOPT_PRIVATE, easy.get());
    easy->last_activity = SteadyClock::now();
    curl_multi_add_handle(static_cast<CURLM*>(multi_), h);
    running_[easy->id] = std::move(easy);
  }
  for (uint64_t id : cancels) {
    auto it = running_.find(id);
    if (it == running_.end()) continue;
    curl_multi_remove_handle(static_cast<CURLM*>(multi_), it->second->handle);
    running_.erase(it);
    --active_;
  }
}

void CurlLoop::Finish(Easy* easy, int curl_code) {
  curl_multi_remove_handle(static_cast<CURLM*>(multi_), easy->handle);
  auto it = running_.find(easy->id);
  std::unique_ptr<Easy> owned = std::move(it->second);
  running_.erase(it);
  --active_;
  if (owned->aborted) return;
  TransferResult result;
  result.outcome = OutcomeOf(static_cast<CURLcode>(curl_code));
  if (result.outcome != TransferResult::Outcome::kOk) {
    result.error =
        owned->error[0] ? owned->error : curl_easy_strerror(static_cast<CURLcode>(curl_code));
  }
  owned->transfer->OnDone(result);
}

void CurlLoop::CheckStalls() {
  auto now = SteadyClock::now();
  std::vector<Easy*> stalled;
  for (auto& [id, easy] : running_) {
    auto quiet =
        std::chrono::duration_cast<std::chrono::milliseconds>(now - easy->last_activity).count();
    if (easy->request.stall_timeout_ms > 0 && quiet > easy->request.stall_timeout_ms)
      stalled.push_back(easy.get());
  }
  for (Easy* easy : stalled) {
    curl_multi_remove_handle(static_cast<CURLM*>(multi_), easy->handle);
    auto it = running_.find(easy->id);
    std::unique_ptr<Easy> owned = std::move(it->second);
    running_.erase(it);
    --active_;
    TransferResult result;
    result.outcome = TransferResult::Outcome::kStalled;
    result.error = "no data for " + std::to_string(owned->request.stall_timeout_ms) + " ms";
    owned->transfer->OnDone(result);
  }
}

void CurlLoop::Run() {
  auto* multi = static_cast<CURLM*>(multi_);
  while (!stop_) {
    ApplyCommands();
    int running = 0;
    curl_multi_perform(multi, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Easy* easy = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &easy);
      if (easy) Finish(easy, msg->data.result);
    }
    CheckStalls();
    // Wakes for socket activity, curl's own timers, Start/Cancel, or after 50 ms to check stalls.
    curl_multi_poll(multi, nullptr, 0, 50, nullptr);
  }
}

}  // namespace scaffold::net
