#include "net/client/remote_client.h"

#include <chrono>
#include <mutex>

#include "engine/event_shape.h"
#include "engine/json_reader.h"
#include "net/sse_parser.h"

namespace scaffold::net {
namespace {

// The first reconnect is immediate (a dropped connection usually comes back at once), then
// 250 ms, doubling up to 4 s.
constexpr int64_t kFirstBackoffMs = 0;
constexpr int64_t kSecondBackoffMs = 250;
constexpr int64_t kMaxBackoffMs = 4000;
// The server sends a heartbeat every 15 s: three missed ones mean the connection is gone.
constexpr int64_t kStallMs = 45000;
constexpr size_t kMaxErrorBody = 64 * 1024;
constexpr size_t kMaxBody = 64 * 1024 * 1024;  // a JSON answer (a session's events are streamed)

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// Collects a whole response and hands it to the executor.
class JsonTransfer : public Transfer {
 public:
  JsonTransfer(engine::Executor* executor, std::function<void(RemoteResponse)> done)
      : executor_(executor), done_(std::move(done)) {}
  bool OnHead(const HttpHead& head) override {
    status_ = head.status;
    return true;
  }
  bool OnData(std::string_view data) override {
    if (body_.size() + data.size() > kMaxBody) {
      // The transfer ends here without OnDone: the answer is given now.
      RemoteResponse r;
      r.error = "the server's answer is larger than " + std::to_string(kMaxBody) + " bytes";
      executor_->Post([done = std::move(done_), r = std::move(r)] { done(r); });
      return false;
    }
    body_.append(data);
    return true;
  }
  void OnDone(const TransferResult& result) override {
    RemoteResponse r;
    if (result.outcome != TransferResult::Outcome::kOk) {
      r.error = result.error;
    } else {
      r.status = status_;
      auto parsed = ParseJson(body_);
      r.body = parsed.ok() ? std::move(parsed).value() : Json();
      if (status_ >= 400) r.error = RemoteErrorMessage(r);
    }
    executor_->Post([done = std::move(done_), r = std::move(r)] { done(r); });
  }

 private:
  engine::Executor* executor_;
  std::function<void(RemoteResponse)> done_;
  int status_ = 0;
  std::string body_;
};

class Follower;

// One connection of a followed stream: parses SSE on the curl thread and posts whole events.
class StreamTransfer : public Transfer {
 public:
  StreamTransfer(std::weak_ptr<Follower> owner, engine::Executor* executor, uint64_t generation)
      : owner_(std::move(owner)), executor_(executor), generation_(generation) {}
  bool OnHead(const HttpHead& head) override;
  bool OnData(std::string_view data) override;
  void OnDone(const TransferResult& result) override;

 private:
  std::weak_ptr<Follower> owner_;
  engine::Executor* executor_;
  uint64_t generation_;
  int status_ = 0;
  std::string error_body_;
  SseParser parser_;
  std::vector<SseEvent> parsed_;
};

class Follower : public std::enable_shared_from_this<Follower> {
 public:
  Follower(CurlLoop* curl, engine::Executor* executor, HttpRequest base, int64_t position,
           FollowCallbacks callbacks, int64_t give_up_ms)
      : curl_(curl),
        executor_(executor),
        base_(std::move(base)),
        last_(position),
        callbacks_(std::move(callbacks)),
        give_up_ms_(give_up_ms) {}

  // Executor thread, from here on.
  void Connect() {
    if (stopped_) return;
    HttpRequest r = base_;
    // The stream ends after a finished session's last event, so attach and run --server end
    // with the session.
    r.url += "?closeAtEnd=true";
    if (last_ > 0) {
      r.headers.push_back("Last-Event-ID: " + std::to_string(last_));
    } else {
      r.url += "&history=true";
    }
    ++generation_;
    transfer_id_ = curl_->Start(
        std::move(r), std::make_shared<StreamTransfer>(weak_from_this(), executor_, generation_));
  }

  void Stop() {
    stopped_ = true;
    timer_.reset();
    if (transfer_id_) curl_->Cancel(transfer_id_);
    transfer_id_ = 0;
  }

  void OnConnected(uint64_t generation) {
    if (stopped_ || generation != generation_) return;
    failing_since_ = 0;
    backoff_ms_ = kFirstBackoffMs;
  }

  void OnEvents(uint64_t generation, std::vector<engine::EventPtr> events) {
    if (stopped_ || generation != generation_) return;
    std::vector<engine::EventPtr> fresh;
    for (auto& e : events) {
      if (e->position <= last_) continue;  // already delivered before a reconnect
      last_ = e->position;
      if (engine::IsFinalEvent(e->name)) final_seen_ = true;
      fresh.push_back(std::move(e));
    }
    if (!fresh.empty()) callbacks_.on_events(std::move(fresh));
  }

  // The server sent what no client can use; the stream ends with that error.
  void OnBadEvent(uint64_t generation, const std::string& why) {
    if (stopped_ || generation != generation_) return;
    transfer_id_ = 0;
    End(Status(ErrorCode::kAborted, why));
  }

  void OnClosed(uint64_t generation, int status, std::string why) {
    if (stopped_ || generation != generation_) return;
    transfer_id_ = 0;
    if (final_seen_) return End(Status::Ok());
    if (status == 401 || status == 403)
      return End(Status(ErrorCode::kInvalidArgument, "unauthorized: " + why));
    if (status == 404) return End(Status(ErrorCode::kNotFound, why));
    if (status == 400) return End(InvalidArgument(why));
    int64_t now = NowMs();
    if (failing_since_ == 0) failing_since_ = now;
    if (now - failing_since_ > give_up_ms_) {
      return End(Status(ErrorCode::kUnavailable, "lost the connection to the server (" + why +
                                                     ") and could not get it back in " +
                                                     std::to_string(give_up_ms_ / 1000) + " s"));
    }
    if (callbacks_.on_reconnecting) callbacks_.on_reconnecting(why, last_);
    auto self = shared_from_this();
    timer_ =
        executor_->RunAfter(std::chrono::milliseconds(backoff_ms_), [self] { self->Connect(); });
    backoff_ms_ = std::min(std::max(backoff_ms_ * 2, kSecondBackoffMs), kMaxBackoffMs);
  }

 private:
  void End(const Status& s) {
    stopped_ = true;
    if (callbacks_.on_end) callbacks_.on_end(s);
  }

  CurlLoop* curl_;
  engine::Executor* executor_;
  const HttpRequest base_;
  int64_t last_;
  FollowCallbacks callbacks_;
  const int64_t give_up_ms_;

  uint64_t generation_ = 0;  // connections started; callbacks of older ones are ignored
  uint64_t transfer_id_ = 0;
  bool stopped_ = false;
  bool final_seen_ = false;
  int64_t failing_since_ = 0;
  int64_t backoff_ms_ = kFirstBackoffMs;
  std::unique_ptr<engine::TimerHandle> timer_;
};

bool StreamTransfer::OnHead(const HttpHead& head) {
  status_ = head.status;
  if (status_ == 200) {
    executor_->Post([owner = owner_, g = generation_] {
      if (auto f = owner.lock()) f->OnConnected(g);
    });
  }
  return true;
}

bool StreamTransfer::OnData(std::string_view data) {
  if (status_ != 200) {
    if (error_body_.size() < kMaxErrorBody) error_body_.append(data);
    return true;
  }
  parsed_.clear();
  parser_.Feed(data, &parsed_);
  std::vector<engine::EventPtr> events;
  std::string bad;
  for (const auto& sse : parsed_) {
    auto e = engine::Event::Parse(sse.data);
    Status shape = e.ok() ? engine::CheckEventShape(*e) : e.status();
    if (!shape.ok()) {
      bad = "the server sent an event that cannot be used: " + shape.message();
      break;
    }
    events.push_back(std::make_shared<const engine::Event>(std::move(*e)));
  }
  if (bad.empty() && parser_.overflowed()) {
    bad = "the server sent an event larger than " + std::to_string(parser_.max_event_bytes()) +
          " bytes";
  }
  // The good events before a bad one are delivered, then the stream ends with the problem: a
  // reconnection would be sent the same event again.
  if (events.empty() && bad.empty()) return true;
  executor_->Post([owner = owner_, g = generation_, events = std::move(events), bad]() mutable {
    auto f = owner.lock();
    if (!f) return;
    if (!events.empty()) f->OnEvents(g, std::move(events));
    if (!bad.empty()) f->OnBadEvent(g, bad);
  });
  return bad.empty();
}

void StreamTransfer::OnDone(const TransferResult& result) {
  std::string why;
  if (result.outcome != TransferResult::Outcome::kOk) {
    why = result.error;
  } else if (status_ != 200) {
    RemoteResponse r;
    r.status = status_;
    auto parsed = ParseJson(error_body_);
    r.body = parsed.ok() ? std::move(parsed).value() : Json();
    why = RemoteErrorMessage(r);
  } else {
    why = "the server closed the stream";
  }
  executor_->Post([owner = owner_, g = generation_, status = status_, why] {
    if (auto f = owner.lock()) f->OnClosed(g, status, why);
  });
}

class StreamHandle : public RemoteEventStream {
 public:
  StreamHandle(std::shared_ptr<Follower> follower, engine::Executor* executor)
      : follower_(std::move(follower)), executor_(executor) {}
  ~StreamHandle() override { Stop(); }
  void Stop() override {
    // Stop runs on the executor; the follower lives until then.
    executor_->Post([f = follower_] { f->Stop(); });
  }

 private:
  std::shared_ptr<Follower> follower_;
  engine::Executor* executor_;
};

}  // namespace

std::string RemoteErrorMessage(const RemoteResponse& r) {
  if (r.status == 0) return r.error.empty() ? "no response" : r.error;
  if (r.body.is_object() && r.body.contains("error") && r.body["error"].is_object()) {
    JsonReader error(r.body["error"]);
    if (auto message = error.OptString("message")) return *message;
  }
  return "HTTP " + std::to_string(r.status);
}

RemoteClient::RemoteClient(CurlLoop* curl, engine::Executor* executor, std::string base_url,
                           std::string token)
    : curl_(curl), executor_(executor), base_url_(std::move(base_url)), token_(std::move(token)) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

HttpRequest RemoteClient::Make(const std::string& method, const std::string& path) const {
  HttpRequest r;
  r.method = method;
  r.url = base_url_ + path;
  if (!token_.empty()) r.headers.push_back("Authorization: Bearer " + token_);
  return r;
}

void RemoteClient::Request(const std::string& method, const std::string& path, const Json& body,
                           std::function<void(RemoteResponse)> done) {
  HttpRequest r = Make(method, path);
  if (!body.is_null()) {
    r.body = DumpJson(body);
    r.headers.push_back("Content-Type: application/json");
  }
  r.stall_timeout_ms = 60000;
  curl_->Start(std::move(r), std::make_shared<JsonTransfer>(executor_, std::move(done)));
}

std::unique_ptr<RemoteEventStream> RemoteClient::Follow(const std::string& session_id,
                                                        int64_t position, FollowCallbacks callbacks,
                                                        int64_t give_up_ms) {
  HttpRequest base = Make("GET", "/sessions/" + session_id + "/events");
  base.headers.push_back("Accept: text/event-stream");
  base.stall_timeout_ms = kStallMs;
  auto follower = std::make_shared<Follower>(curl_, executor_, std::move(base), position,
                                             std::move(callbacks), give_up_ms);
  executor_->Post([follower] { follower->Connect(); });
  return std::make_unique<StreamHandle>(follower, executor_);
}

}  // namespace scaffold::net
