#include "net/mcp/http_transport.h"

#include <chrono>
#include <condition_variable>

#include "engine/json.h"
#include "net/sse_parser.h"

namespace scaffold::net::mcp {
namespace {

// A session id is visible ASCII (the specification's rule); anything else is not sent back.
bool ValidSessionId(const std::string& id) {
  if (id.empty() || id.size() > 512) return false;
  for (unsigned char c : id)
    if (c < 0x21 || c > 0x7E) return false;
  return true;
}

std::string Snippet(std::string text) {
  if (text.size() > 300) text.resize(300);
  for (char& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7F) c = ' ';
  return text;
}

// Waits for one transfer's end (the DELETE of Stop).
class Waiter : public Transfer {
 public:
  bool OnHead(const HttpHead&) override { return true; }
  bool OnData(std::string_view) override { return true; }
  void OnDone(const TransferResult&) override {
    std::lock_guard lock(mu_);
    done_ = true;
    cv_.notify_all();
  }
  void Wait(std::chrono::milliseconds most) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, most, [&] { return done_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

}  // namespace

// One message sent and what came back for it.
class HttpTransport::Exchange : public Transfer,
                                public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(HttpTransport* transport, std::string body, Json request_id)
      : transport_(transport),
        body_(std::move(body)),
        request_id_(std::move(request_id)),
        parser_(static_cast<size_t>(transport->options_.max_message_bytes)) {}

  bool OnHead(const HttpHead& head) override {
    if (transport_->closed_) return false;
    status_ = head.status;
    auto type = head.headers.find("content-type");
    sse_ = type != head.headers.end() && type->second.find("text/event-stream") != std::string::npos;
    auto session = head.headers.find("mcp-session-id");
    if (session != head.headers.end() && ValidSessionId(session->second)) {
      std::lock_guard lock(transport_->mu_);
      if (transport_->session_id_.empty()) transport_->session_id_ = session->second;
    }
    return true;
  }

  bool OnData(std::string_view data) override {
    if (transport_->closed_) return false;
    if (!sse_ || status_ >= 300) {
      if (static_cast<int64_t>(text_.size() + data.size()) > transport_->options_.max_message_bytes) {
        problem_ = "an answer larger than " +
                   std::to_string(transport_->options_.max_message_bytes) + " bytes";
        return Aborted();
      }
      text_.append(data);
      return true;
    }
    std::vector<SseEvent> events;
    parser_.Feed(data, &events);
    for (auto& e : events) {
      if (!e.last_event_id.empty()) last_event_id_ = e.last_event_id;
      if (e.type != "message" || e.data.empty()) continue;
      NoteResponse(e.data);
      transport_->Deliver(e.data);
    }
    // The parser holds an event to max_message_bytes, a message's data included.
    if (parser_.overflowed()) {
      problem_ = "an event larger than " + std::to_string(parser_.max_event_bytes()) + " bytes";
      return Aborted();
    }
    return true;
  }

  void OnDone(const TransferResult& result) override {
    if (result.outcome != TransferResult::Outcome::kOk && problem_.empty())
      problem_ = result.error.empty() ? "the connection broke" : result.error;
    transport_->Finished(shared_from_this());
  }

  // A callback aborts the transfer (OnDone is not called then): it ends here. False.
  bool Aborted() {
    sse_ = false;  // no resumption of a stream that broke the limits
    transport_->Finished(shared_from_this());
    return false;
  }

  void NoteResponse(const std::string& data) {
    if (request_id_.is_null()) return;
    auto parsed = ParseJson(data);
    if (!parsed.ok() || !parsed->is_object()) return;
    auto id = parsed->find("id");
    if (id != parsed->end() && *id == request_id_ && !parsed->contains("method")) answered_ = true;
  }

  HttpTransport* transport_;
  std::string body_;  // the message; empty for a resumption (GET)
  Json request_id_;   // null for notifications and responses
  int status_ = 0;
  bool sse_ = false;
  std::string text_;  // a JSON answer or an error body
  SseParser parser_;  // bounded by max_message_bytes
  std::string last_event_id_;
  std::string problem_;
  bool answered_ = false;
  int resumes_ = 0;
  uint64_t transfer_ = 0;
};

Result<std::unique_ptr<HttpTransport>> HttpTransport::Start(HttpOptions options,
                                                            LineHandler on_line,
                                                            ClosedHandler on_closed) {
  if (options.url.rfind("http://", 0) != 0 && options.url.rfind("https://", 0) != 0)
    return InvalidArgument("an MCP server's URL must start with http:// or https://");
  return std::unique_ptr<HttpTransport>(
      new HttpTransport(std::move(options), std::move(on_line), std::move(on_closed)));
}

HttpTransport::HttpTransport(HttpOptions options, LineHandler on_line, ClosedHandler on_closed)
    : options_(std::move(options)),
      on_line_(std::move(on_line)),
      on_closed_(std::move(on_closed)) {}

HttpTransport::~HttpTransport() {
  Stop();
}

std::string HttpTransport::session_id() const {
  std::lock_guard lock(mu_);
  return session_id_;
}

void HttpTransport::SetProtocolVersion(const std::string& version) {
  std::lock_guard lock(mu_);
  protocol_version_ = version;
}

std::vector<std::string> HttpTransport::Headers(bool json_body) const {
  std::vector<std::string> headers = options_.headers;
  if (json_body) headers.push_back("Content-Type: application/json");
  headers.push_back("Accept: application/json, text/event-stream");
  std::lock_guard lock(mu_);
  if (!protocol_version_.empty()) headers.push_back("MCP-Protocol-Version: " + protocol_version_);
  if (!session_id_.empty()) headers.push_back("Mcp-Session-Id: " + session_id_);
  return headers;
}

Status HttpTransport::Send(std::string_view json) {
  if (closed_) return Status(ErrorCode::kUnavailable, "the MCP server's connection is closed");
  Json request_id;
  if (auto parsed = ParseJson(json); parsed.ok() && parsed->is_object() &&
                                     parsed->contains("method") && parsed->contains("id"))
    request_id = (*parsed)["id"];
  Launch(std::make_shared<Exchange>(this, std::string(json), std::move(request_id)), "");
  return Status::Ok();
}

void HttpTransport::Launch(const std::shared_ptr<Exchange>& exchange,
                           const std::string& last_event_id) {
  HttpRequest request;
  request.url = options_.url;
  request.method = last_event_id.empty() ? "POST" : "GET";
  request.headers = Headers(last_event_id.empty());
  if (!last_event_id.empty()) request.headers.push_back("Last-Event-ID: " + last_event_id);
  if (last_event_id.empty()) request.body = exchange->body_;
  request.connect_timeout_ms = options_.connect_timeout_ms;
  request.stall_timeout_ms = options_.stall_timeout_ms;
  // Held across Start so that Finished (on the curl thread) sees the transfer registered.
  std::lock_guard lock(mu_);
  exchange->transfer_ = curl_.Start(std::move(request), exchange);
  running_[exchange->transfer_] = exchange;
}

void HttpTransport::Deliver(std::string_view message) {
  std::lock_guard lock(deliver_mu_);
  if (!closed_) on_line_(message);
}

void HttpTransport::Finished(const std::shared_ptr<Exchange>& ex) {
  {
    std::lock_guard lock(mu_);
    running_.erase(ex->transfer_);
  }
  if (closed_) return;
  auto fail = [&](const std::string& why) {
    if (ex->request_id_.is_null()) return;  // a notification or a response: nothing waits
    Json error = {{"jsonrpc", "2.0"},
                  {"id", ex->request_id_},
                  {"error", {{"code", -32000}, {"message", why}}}};
    Deliver(DumpJson(error));
  };
  bool had_session = !session_id().empty();
  if (ex->status_ == 404 && had_session) {
    return Close("the MCP server ended the session (HTTP 404)");
  }
  if (ex->status_ >= 300) {
    return fail("HTTP " + std::to_string(ex->status_) +
                (ex->text_.empty() ? "" : ": " + Snippet(ex->text_)));
  }
  if (!ex->sse_) {
    if (!ex->problem_.empty()) return fail("cannot reach " + options_.url + ": " + ex->problem_);
    if (!ex->text_.empty()) {
      ex->NoteResponse(ex->text_);
      Deliver(ex->text_);
    }
    if (!ex->answered_ && ex->status_ != 202)
      fail("the MCP server answered HTTP " + std::to_string(ex->status_) + " without a response");
    return;
  }
  if (ex->answered_ || ex->request_id_.is_null()) return;
  // The stream ended before the response: resume it where it broke, if its events had ids.
  if (!ex->last_event_id_.empty() && ex->resumes_ < kMaxResumes) {
    ++ex->resumes_;
    ex->problem_.clear();
    ex->parser_ = SseParser(ex->parser_.max_event_bytes());
    return Launch(ex, ex->last_event_id_);
  }
  fail("the MCP server's stream ended before its response" +
       (ex->problem_.empty() ? std::string() : " (" + ex->problem_ + ")"));
}

void HttpTransport::Close(const std::string& why) {
  if (closed_.exchange(true)) return;
  std::map<uint64_t, std::shared_ptr<Exchange>> running;
  {
    std::lock_guard lock(mu_);
    running.swap(running_);
  }
  for (auto& [id, ex] : running) curl_.Cancel(id);
  if (on_closed_) on_closed_(why);
}

void HttpTransport::Abort(const std::string& why) {
  Close(why);
}

void HttpTransport::Stop() {
  if (closed_) return;
  std::string session = session_id();
  Close("the MCP server was stopped");
  if (session.empty()) return;
  // Ends the server's session; bounded, and its answer does not matter.
  HttpRequest request;
  request.method = "DELETE";
  request.url = options_.url;
  request.headers = options_.headers;
  request.headers.push_back("Mcp-Session-Id: " + session);
  request.connect_timeout_ms = 2000;
  request.stall_timeout_ms = 2000;
  auto waiter = std::make_shared<Waiter>();
  curl_.Start(std::move(request), waiter);
  waiter->Wait(std::chrono::milliseconds(3000));
}

}  // namespace scaffold::net::mcp
