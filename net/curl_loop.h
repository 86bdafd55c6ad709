// CurlLoop: every outbound HTTP request of the process, driven by one libcurl multi handle on
// one thread. Hundreds of concurrent streams cost no thread each.
//
// Callbacks of a Transfer run on the loop's thread. Cancel() may be called from any thread: the
// transfer is removed (its connection closed) on the loop's next turn, and OnDone is not
// called for it. Callbacks already running when Cancel() is called may still complete, so
// callers that post work elsewhere check their own cancelled flag too.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace scaffold::net {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  int64_t connect_timeout_ms = 10000;
  int64_t stall_timeout_ms = 60000;  // abort when no byte arrives for this long
};

struct HttpHead {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
};

struct TransferResult {
  enum class Outcome { kOk, kConnectFailed, kConnectTimeout, kStalled, kBroken, kOther };
  Outcome outcome = Outcome::kOk;
  std::string error;  // libcurl's description when not kOk
};

class Transfer {
 public:
  virtual ~Transfer() = default;
  // The status line and headers; return false to abort the transfer.
  virtual bool OnHead(const HttpHead& head) = 0;
  // A piece of the body; return false to abort the transfer.
  virtual bool OnData(std::string_view data) = 0;
  // The end, once. Not called after Cancel(), nor after a callback returned false.
  virtual void OnDone(const TransferResult& result) = 0;
};

class CurlLoop {
 public:
  CurlLoop();
  ~CurlLoop();  // aborts everything in flight and joins the thread
  CurlLoop(const CurlLoop&) = delete;
  CurlLoop& operator=(const CurlLoop&) = delete;

  // Starts a request; returns an id for Cancel(). Thread-safe.
  uint64_t Start(HttpRequest request, std::shared_ptr<Transfer> transfer);
  // Thread-safe; unknown or finished ids are ignored.
  void Cancel(uint64_t id);

  // Transfers in flight (for tests and metrics).
  size_t active() const { return active_.load(); }

 private:
  struct Easy;
  void Run();
  void ApplyCommands();
  void Finish(Easy* easy, int curl_code);
  void CheckStalls();

  void* multi_ = nullptr;  // CURLM*
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> active_{0};
  std::atomic<uint64_t> next_id_{1};

  std::mutex mu_;
  // Protected by mu_: requests to start and ids to cancel, taken by the loop thread.
  std::vector<std::unique_ptr<Easy>> to_start_;
  std::vector<uint64_t> to_cancel_;

  // Loop thread only.
  std::map<uint64_t, std::unique_ptr<Easy>> running_;
};

}  // namespace scaffold::net
