// The reference desktop client (see tool_client.h). Beast's websocket client, shaped after its
// async client example (Boost 1.74): one write in flight, a queue behind it, errors as codes.
#include "net/client/tool_client.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include "engine/json_reader.h"
#include "net/server/api.h"

namespace scaffold::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr int64_t kFirstBackoffMs = 250;
constexpr int64_t kMaxBackoffMs = 8000;

struct Target {
  std::string host, port, path;
};

Result<Target> ParseServerUrl(const std::string& url) {
  std::string rest;
  for (const char* scheme : {"http://", "ws://"}) {
    if (url.rfind(scheme, 0) == 0) rest = url.substr(std::string(scheme).size());
  }
  if (url.rfind("https://", 0) == 0 || url.rfind("wss://", 0) == 0) {
    return InvalidArgument(url +
                           ": TLS (https://, wss://) is not supported by scaffold client; "
                           "reach the server over plain ws:// (for example through an SSH tunnel)");
  }
  if (rest.empty()) return InvalidArgument(url + ": expected http://HOST:PORT or ws://HOST:PORT");
  Target t;
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  t.path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!t.path.empty() && t.path.back() == '/') t.path.pop_back();
  size_t colon = authority.rfind(':');
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return InvalidArgument(url + ": unclosed [ in the host");
    t.host = authority.substr(1, close - 1);
    t.port = close + 1 < authority.size() && authority[close + 1] == ':'
                 ? authority.substr(close + 2)
                 : "80";
  } else if (colon != std::string::npos) {
    t.host = authority.substr(0, colon);
    t.port = authority.substr(colon + 1);
  } else {
    t.host = authority;
    t.port = "80";
  }
  if (t.host.empty() || t.port.empty() ||
      t.port.find_first_not_of("0123456789") != std::string::npos) {
    return InvalidArgument(url + ": expected http://HOST:PORT or ws://HOST:PORT");
  }
  return t;
}

}  // namespace

struct ToolClient::Impl {
  class Connection;

  ToolClientOptions o;
  asio::io_context io;
  Target target;
  std::map<std::string, std::string> programs;
  std::atomic<bool> stopping{false};
  std::atomic<bool> cancel_programs{false};
  Status final_status;

  // io thread only:
  std::shared_ptr<Connection> connection;
  asio::steady_timer retry{io};
  int failures = 0;
  int64_t backoff_ms = kFirstBackoffMs;

  std::mutex workers_mu;
  std::list<std::pair<std::thread, std::shared_ptr<std::atomic<bool>>>> workers;  // thread, done

  explicit Impl(ToolClientOptions options) : o(std::move(options)) {
    for (const auto& t : o.tools) programs[t.name] = t.program;
  }

  void Log(const std::string& line) {
    if (o.log) o.log(line);
  }

  void Connect();
  void OnRegistered(const std::vector<std::string>& names);
  void OnClosed(bool registered, const std::string& why, bool fatal);
  void Dispatch(const std::weak_ptr<Connection>& connection, const Json& request);
  void ReapWorkers(bool all);
};

class ToolClient::Impl::Connection : public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(Impl* impl) : impl_(impl), resolver_(impl->io), ws_(impl->io) {}

  void Start() {
    auto self = shared_from_this();
    resolver_.async_resolve(
        impl_->target.host, impl_->target.port,
        [self](beast::error_code ec, tcp::resolver::results_type results) {
          if (ec)
            return self->Fail("cannot resolve " + self->impl_->target.host + ": " + ec.message());
          beast::get_lowest_layer(self->ws_).expires_after(std::chrono::seconds(10));
          beast::get_lowest_layer(self->ws_).async_connect(
              results, [self](beast::error_code ec, const tcp::endpoint&) {
                if (ec) return self->Fail("cannot connect: " + ec.message());
                self->Handshake();
              });
        });
  }

  void Send(std::string text) {
    if (closed_) return;
    queue_.push_back(std::move(text));
    if (!writing_) Write();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

 private:
  void Handshake() {
    beast::get_lowest_layer(ws_).expires_never();
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    std::string token = impl_->o.token;
    ws_.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
      req.set(http::field::user_agent, "scaffold-client");
      if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    }));
    ws_.text(true);
    auto self = shared_from_this();
    std::string host = impl_->target.host + ":" + impl_->target.port;
    ws_.async_handshake(
        response_, host, impl_->target.path + "/ws?client=osclient", [self](beast::error_code ec) {
          if (ec) {
            int status = static_cast<int>(self->response_.result_int());
            if (status == 401 || status == 403) {
              return self->Fail(
                  "the server refused the token (HTTP " + std::to_string(status) + ")", true);
            }
            std::string why = "WebSocket handshake failed: " + ec.message();
            if (status) why += " (HTTP " + std::to_string(status) + ")";
            return self->Fail(why);
          }
          self->Register();
          self->Read();
        });
  }

  void Register() {
    Json tools = Json::array();
    for (const auto& t : impl_->o.tools) {
      tools.push_back({{"name", t.name},
                       {"description", "runs " + t.program},
                       {"input_schema", Json::object()}});
    }
    Send(DumpJson({{"type", "tools:register"}, {"tools", tools}}));
  }

  void Read() {
    auto self = shared_from_this();
    ws_.async_read(buffer_, [self](beast::error_code ec, size_t) {
      if (ec)
        return self->Fail(ec == websocket::error::closed ? "the server closed the connection"
                                                         : ec.message());
      std::string text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      self->Handle(text);
      if (!self->closed_) self->Read();
    });
  }

  // Frames from the server are read typed: one that cannot be used is logged and skipped.
  void Handle(const std::string& text) {
    auto parsed = ParseJson(text);
    if (!parsed.ok() || !parsed->is_object()) {
      return impl_->Log("the server sent a frame that is not a JSON object; skipped");
    }
    const Json& msg = *parsed;
    JsonReader in(msg);
    std::string type = in.OptString("type").value_or("");
    if (type == "tools:registered") {
      registered_ = true;
      std::vector<std::string> names;
      JsonReader tools = in.List("tools");
      for (size_t i = 0; i < tools.json().size(); ++i) {
        if (tools.json()[i].is_string()) names.push_back(tools.json()[i].get<std::string>());
      }
      impl_->OnRegistered(names);
    } else if (type == "tool:request") {
      impl_->Dispatch(weak_from_this(), msg);
    } else if (type == "error") {
      std::string code = in.OptString("code").value_or("");
      std::string message = in.OptString("message").value_or("");
      impl_->Log("server error: " + code + ": " + message);
    }
    if (!in.ok()) impl_->Log("the server sent a malformed frame: " + in.status().ToString());
  }

  void Write() {
    writing_ = true;
    auto self = shared_from_this();
    ws_.async_write(asio::buffer(queue_.front()), [self](beast::error_code ec, size_t) {
      self->writing_ = false;
      self->queue_.pop_front();
      if (ec) return self->Fail(ec.message());
      if (!self->queue_.empty() && !self->closed_) self->Write();
    });
  }

  void Fail(const std::string& why, bool fatal = false) {
    if (closed_ && !fatal) return;
    Close();
    impl_->OnClosed(registered_, why, fatal);
  }

  Impl* impl_;
  tcp::resolver resolver_;
  websocket::stream<beast::tcp_stream> ws_;
  websocket::response_type response_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool closed_ = false;
  bool registered_ = false;
};

void ToolClient::Impl::Connect() {
  if (stopping) return;
  connection = std::make_shared<Connection>(this);
  connection->Start();
}

void ToolClient::Impl::OnRegistered(const std::vector<std::string>& names) {
  failures = 0;
  backoff_ms = kFirstBackoffMs;
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  Log("connected to " + o.url + "; serving " + list);
}

void ToolClient::Impl::OnClosed(bool registered, const std::string& why, bool fatal) {
  connection.reset();
  if (stopping) return;
  if (!registered) ++failures;
  if (fatal || (o.max_connects > 0 && failures >= o.max_connects)) {
    final_status = Status(fatal ? ErrorCode::kFailedPrecondition : ErrorCode::kUnavailable,
                          o.url + ": " + why);
    stopping = true;
    io.stop();
    return;
  }
  char delay[32];
  std::snprintf(delay, sizeof delay, "%.2g s", static_cast<double>(backoff_ms) / 1000);
  Log("disconnected: " + why + "; reconnecting in " + delay);
  retry.expires_after(std::chrono::milliseconds(backoff_ms));
  retry.async_wait([this](beast::error_code ec) {
    if (!ec) Connect();
  });
  backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
}

void ToolClient::Impl::Dispatch(const std::weak_ptr<Connection>& weak, const Json& request) {
  JsonReader in(request);
  std::string call_id = in.String("callId");
  std::string name = in.String("toolName");
  std::string session = in.OptString("sessionId").value_or("");
  int64_t timeout_ms = in.OptInt("timeoutMs", 1, 24 * 3600 * 1000).value_or(o.timeout_ms);
  if (!in.ok()) return Log("the server sent a malformed tool:request: " + in.status().ToString());
  auto respond = [weak, call_id](const engine::ToolResult& r) {
    if (auto c = weak.lock()) {
      c->Send(DumpJson({{"type", "tool:response"},
                        {"callId", call_id},
                        {"output", r.output},
                        {"isError", r.is_error}}));
    }
  };
  auto it = programs.find(name);
  if (it == programs.end()) {
    respond({Json("this client has no tool \"" + name + "\""), true});
    return;
  }
  Log("tool:request " + EscapeForLog(name) + " for session " + EscapeForLog(session.substr(0, 8)));
  ReapWorkers(false);
  auto done = std::make_shared<std::atomic<bool>>(false);
  std::lock_guard lock(workers_mu);
  workers.emplace_back(
      std::thread([this, program = it->second, request, timeout_ms, respond, name, done] {
        auto start = std::chrono::steady_clock::now();
        engine::ToolResult r = RunToolProgram(program, request, timeout_ms, &cancel_programs);
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
        asio::post(io, [this, r, respond, name, ms] {
          respond(r);
          Log("tool:response " + name + (r.is_error ? " (error)" : "") + " after " +
              std::to_string(ms) + " ms");
        });
        *done = true;
      }),
      done);
}

void ToolClient::Impl::ReapWorkers(bool all) {
  std::lock_guard lock(workers_mu);
  for (auto it = workers.begin(); it != workers.end();) {
    if (all || *it->second) {
      it->first.join();
      it = workers.erase(it);
    } else {
      ++it;
    }
  }
}

ToolClient::ToolClient(ToolClientOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

ToolClient::~ToolClient() {
  Stop();
}

Status ToolClient::Run() {
  auto target = ParseServerUrl(impl_->o.url);
  if (!target.ok()) return target.status();
  if (impl_->o.tools.empty())
    return InvalidArgument("no tools to serve (give --tool NAME=PROGRAM)");
  impl_->target = *target;
  asio::post(impl_->io, [this] { impl_->Connect(); });
  auto guard = asio::make_work_guard(impl_->io);
  impl_->io.run();
  impl_->cancel_programs = true;
  impl_->ReapWorkers(true);
  return impl_->final_status;
}

void ToolClient::Stop() {
  impl_->stopping = true;
  impl_->cancel_programs = true;
  impl_->io.stop();
}

}  // namespace scaffold::net
