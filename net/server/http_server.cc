// The HTTP side of `scaffold serve` on Boost.Beast: accepting, reading requests, answering
// them through the Api, and serving SSE event streams. Shaped after Beast's advanced_server
// example (Boost 1.74): one session object per connection, on one of the server's event loops
// (io_loops.h), errors as codes.

#include "net/server/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <thread>

#include "net/server/beast_request.h"
#include "net/server/io_loops.h"
#include "net/server/server_context.h"
#include "net/server/write_now.h"
#include "net/server/ws_protocol.h"
#include "net/server/ws_session.h"

namespace scaffold::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string Remote(const tcp::socket& socket) {
  beast::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  return ec ? "-" : ep.address().to_string();
}

// A frame's bytes, shared with the frame (no copy).
std::shared_ptr<const std::string> SseBytes(const EventFramePtr& frame) {
  return std::shared_ptr<const std::string>(frame, &frame->sse);
}

// Continues a kept-alive connection as a plain HTTP connection once an event stream on it has
// ended, with the bytes the client already sent (its next request, perhaps) in `inbound`.
void ContinueHttp(ServerContext* ctx, ConnectionSlot slot, beast::tcp_stream stream,
                  beast::flat_buffer inbound, std::string remote);

// An SSE event stream for one session: the log from a position, then live events, with no gap
// and no duplicate (subscribe first, read history, skip positions already sent).
//
// A stream stays open after a finished session's last event (heartbeats only), unless the
// client asked with ?closeAtEnd=true; that response says Connection: close. A stream that ends
// otherwise (its session deleted) leaves a kept-alive connection to serve the next request.
class SseStream : public Subscriber,
                  public Flushable,
                  public std::enable_shared_from_this<SseStream> {
 public:
  SseStream(ServerContext* ctx, ConnectionSlot slot, beast::tcp_stream stream,
            EventStreamRoute route, std::string user, std::string remote, std::string path,
            unsigned version, bool keep_alive,
            std::vector<std::pair<std::string, std::string>> cors)
      : ctx_(ctx),
        slot_(std::move(slot)),
        socket_(stream.release_socket()),
        route_(std::move(route)),
        user_(std::move(user)),
        remote_(std::move(remote)),
        path_(std::move(path)),
        version_(version),
        keep_alive_(keep_alive && !route_.close_at_end),
        cors_(std::move(cors)),
        heartbeat_(socket_.get_executor()),
        loop_(ctx->loops->Of(socket_.get_executor())),
        cursor_(route_.from_position > 0 ? route_.from_position - 1 : 0),
        started_ms_(SteadyMillis()) {}

  void Start() {
    auto self = shared_from_this();
    ctx_->hub->Subscribe(user_, route_.session_id, self, [self](const Status& s) {
      // On the session's strand, where events are committed: what the log holds now is
      // exactly what no live delivery will bring.
      int64_t committed = 0;
      if (s.ok()) {
        auto info = self->ctx_->hub->store()->GetSession(self->route_.session_id);
        if (info.ok()) committed = info->event_count;
      }
      asio::post(self->socket_.get_executor(),
                 [self, s, committed] { self->OnSubscribed(s, committed); });
    });
  }

  SubscriberLoop* loop() const override { return loop_; }
  // The connection's loop: the frames are queued, and written when the loop flushes (with
  // those of the commits fanned out before that).
  void OnEvents(const FrameBatch& frames) override {
    holding_ = true;
    OnLive(*frames);
    holding_ = false;
    if (!loop_) return Write();
    if (!writing_ && !queue_.empty()) loop_->FlushLater(shared_from_this());
  }
  void Flush() override { Write(/*now=*/true); }
  void OnSessionGone() override {
    auto self = shared_from_this();
    asio::post(socket_.get_executor(), [self] { self->Finish(); });
  }

 private:
  void OnSubscribed(const Status& s, int64_t committed) {
    if (route_.from_position == 0) {
      // Live only: what the log held at the subscription is not sent, and every later commit
      // comes live, queued behind the response's header.
      cursor_ = committed;
      history_done_ = true;
    }
    if (!s.ok()) {
      // Deleted between the check and the subscription.
      status_ = 404;
      return Close();
    }
    ++ctx_->metrics->sse_open;
    counted_ = true;
    header_ = std::make_unique<Header>();
    http::response<http::empty_body>& response = header_->response;
    response.result(http::status::ok);
    response.version(version_);
    response.set(http::field::content_type, "text/event-stream");
    response.set(http::field::cache_control, "no-cache");
    response.set("X-Accel-Buffering", "no");
    for (const auto& [k, v] : cors_) response.set(k, v);
    response.keep_alive(keep_alive_);
    response.chunked(true);
    header_->serializer.emplace(response);
    auto self = shared_from_this();
    writing_ = true;  // events queue behind the header
    http::async_write_header(socket_, *header_->serializer, [self](beast::error_code ec, size_t) {
      self->writing_ = false;
      self->header_.reset();  // about 700 bytes an open stream no longer needs
      if (ec) return self->Close();
      self->WatchForClose();
      self->ScheduleHeartbeat();
      if (self->route_.from_position > 0) {
        self->PumpHistory();
      } else {
        self->FinishIfEnded();
        self->Write();
      }
      // Deleted while the header was written: the stream ends once what is queued is.
      if (self->finishing_ && !self->writing_ && self->queue_.empty()) self->WriteLastChunk();
    });
  }

  // With ?closeAtEnd: a finished session appends nothing more, so whatever of the log is not
  // sent yet (a few events committed while this stream caught up or subscribed, ending with
  // the final one) is sent now, and the stream ends. Live deliveries still on their way are
  // skipped by position.
  void FinishIfEnded() {
    if (!route_.close_at_end) return;
    auto info = ctx_->hub->store()->GetSession(route_.session_id);
    if (!info.ok() || (info->status != engine::SessionStatus::kCompleted &&
                       info->status != engine::SessionStatus::kFailed)) {
      return;
    }
    for (;;) {
      auto page = ctx_->hub->store()->ReadEvents(route_.session_id, cursor_, kHistoryPage);
      if (!page.ok()) break;
      for (const auto& e : *page) Send(MakeEventFrame(route_.session_id, *e, FrameForms::kSse));
      if (page->size() < kHistoryPage || final_queued_) break;
    }
    Finish();
  }

  void PumpHistory() {
    if (closed_ || history_done_) return;
    while (queued_bytes_ < ctx_->HistoryPumpBytes()) {
      auto page = ctx_->hub->store()->ReadEvents(route_.session_id, cursor_, kHistoryPage);
      if (!page.ok()) return Close();
      for (const auto& e : *page) Send(MakeEventFrame(route_.session_id, *e, FrameForms::kSse));
      if (page->size() < kHistoryPage) {
        history_done_ = true;
        if (!final_queued_) FinishIfEnded();
        break;
      }
    }
    // Otherwise the next page is read when the writes catch up.
  }

  void OnLive(const std::vector<EventFramePtr>& frames) {
    if (closed_) return;
    // While catching up, live events are skipped: they are in the log, and the history read
    // that ends the catch-up runs after their commit.
    if (!history_done_) return;
    for (const auto& f : frames) Send(f);
  }

  // Queues an event (skipping positions already sent) and writes.
  void Send(const EventFramePtr& frame) {
    if (closed_ || final_queued_ || frame->position <= cursor_) return;
    cursor_ = frame->position;
    Queue(SseBytes(frame), frame->cost());
    if (frame->final) final_queued_ = true;
  }

  // `cost` is what the queue is charged (at least the bytes).
  void Queue(std::shared_ptr<const std::string> bytes, size_t cost = 0) {
    if (closed_ || last_chunk_) return;
    cost = std::max(cost, bytes->size());
    if (queued_bytes_ + cost > ctx_->options.max_send_queue_bytes) {
      // A slow consumer: it reconnects with Last-Event-ID and resumes where it was.
      ++ctx_->metrics->slow_consumers_dropped;
      return Close();
    }
    queued_bytes_ += cost;
    queue_.push_back({std::move(bytes), cost});
    if (!writing_ && !holding_) Write();
  }

  // Writes what is queued, up to kWriteBatchBytes, as one chunk. With `now` (live events, when
  // the connection's loop flushes) the chunk is first offered to the socket directly (WriteNow),
  // and only what it did not take goes through an asynchronous write. History and heartbeats always
  // go the asynchronous way, so a long catch-up yields to the loop between writes.
  void Write(bool now = false) {
    if (writing_ || queue_.empty() || closed_) return;
    writing_ = true;
    in_flight_.clear();
    buffers_.clear();
    buffers_.emplace_back();  // the chunk's size line, set below
    size_t batch = 0;
    size_t cost = TakeWriteBatch(queue_, [&](Queued q) {
      batch += q.bytes->size();
      buffers_.emplace_back(asio::buffer(*q.bytes));
      in_flight_.push_back(std::move(q.bytes));
    });
    int size_line = std::snprintf(chunk_size_, sizeof chunk_size_, "%zx\r\n", batch);
    buffers_.front() = asio::buffer(chunk_size_, static_cast<size_t>(size_line));
    buffers_.emplace_back(asio::buffer("\r\n", 2));
    if (now) {
      beast::error_code ec;
      WriteNow(socket_.native_handle(), buffers_, ec);
      if (ec || buffers_.empty()) return Written(ec, batch, cost);
    }
    auto self = shared_from_this();
    asio::async_write(socket_, buffers_, [self, batch, cost](beast::error_code ec, size_t) {
      self->Written(ec, batch, cost);
    });
  }

  // A chunk of `batch` bytes of events, charged `cost` in the queue, is written (or failed).
  void Written(beast::error_code ec, size_t batch, size_t cost) {
    writing_ = false;
    queued_bytes_ -= cost;
    bytes_ += batch;
    in_flight_.clear();
    if (ec) return Close();
    if (!queue_.empty()) return Write();
    ReleaseIfLarge(in_flight_);
    ReleaseIfLarge(buffers_);
    if ((final_queued_ && route_.close_at_end) || finishing_) return WriteLastChunk();
    if (!history_done_) PumpHistory();
  }

  // Ends the stream once what is queued is written.
  void Finish() {
    if (closed_) return;
    finishing_ = true;
    if (!writing_ && queue_.empty()) WriteLastChunk();
  }

  void WriteLastChunk() {
    if (closed_ || last_chunk_) return;
    last_chunk_ = true;
    auto self = shared_from_this();
    asio::async_write(socket_, http::make_chunk_last(), [self](beast::error_code ec, size_t) {
      if (ec || !self->keep_alive_) return self->Close();
      // The response is complete: the connection serves the client's next request, once the
      // read watching it has stopped.
      self->handing_over_ = true;
      beast::error_code ignored;
      self->socket_.cancel(ignored);
    });
  }

  void ScheduleHeartbeat() {
    heartbeat_.expires_after(std::chrono::milliseconds(ctx_->options.heartbeat_ms));
    auto self = shared_from_this();
    heartbeat_.async_wait([self](beast::error_code ec) {
      if (ec || self->closed_ || self->finishing_) return;
      static const auto kBeat = std::make_shared<const std::string>(": heartbeat\n\n");
      self->Queue(kBeat);
      self->ScheduleHeartbeat();
    });
  }

  // SSE clients send nothing while a stream is open, so a read completes when the client goes
  // away; what a kept-alive client sends after the stream ended is its next request, kept for
  // the connection that serves it.
  //
  // It waits for the socket to be readable and only then reads, so an idle stream holds no read
  // buffer (thousands of subscribers each keeping 4 KiB for bytes that never come add up).
  void WatchForClose() {
    auto self = shared_from_this();
    socket_.async_wait(tcp::socket::wait_read, [self](beast::error_code ec) {
      if (!ec) ec = self->ReadWhatArrived();
      if (self->handing_over_ && (!ec || ec == asio::error::operation_aborted))
        return self->HandOver();
      if (ec || self->inbound_.size() > kMaxInboundWhileStreaming) return self->Close();
      self->WatchForClose();
    });
  }

  // The socket is readable: what is there goes to inbound_. End of stream when there is nothing
  // to read; no error after a spurious wake-up (the socket is read without blocking).
  beast::error_code ReadWhatArrived() {
    beast::error_code ec;
    size_t available = socket_.available(ec);
    if (!ec) socket_.non_blocking(true, ec);
    if (ec) return ec;
    size_t n = socket_.read_some(inbound_.prepare(std::clamp<size_t>(available, 1, 4096)), ec);
    inbound_.commit(n);
    beast::error_code ignored;
    socket_.non_blocking(false, ignored);
    return ec == asio::error::would_block ? beast::error_code() : ec;
  }

  void HandOver() {
    if (closed_) return;
    Release();
    ContinueHttp(ctx_, std::move(slot_), beast::tcp_stream(std::move(socket_)), std::move(inbound_),
                 remote_);
  }

  void Close() {
    if (closed_) return;
    Release();
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

  // The stream is over: no more events, heartbeats or accounting.
  void Release() {
    closed_ = true;
    ctx_->hub->Unsubscribe(route_.session_id, this);
    heartbeat_.cancel();
    if (counted_) --ctx_->metrics->sse_open;
    ctx_->AccessLog(remote_, "GET", path_, status_, bytes_, SteadyMillis() - started_ms_, user_);
  }

  static constexpr size_t kMaxInboundWhileStreaming = 64 * 1024;

  ServerContext* ctx_;
  ConnectionSlot slot_;
  // A plain socket: the stream has no timeouts (heartbeats keep it alive), and beast::tcp_stream
  // would keep three timers for each of thousands of subscribers.
  tcp::socket socket_;
  EventStreamRoute route_;
  std::string user_, remote_, path_;
  unsigned version_;
  bool keep_alive_;
  std::vector<std::pair<std::string, std::string>> cors_;
  asio::steady_timer heartbeat_;
  SubscriberLoop* const loop_;
  struct Header {
    http::response<http::empty_body> response;
    std::optional<http::response_serializer<http::empty_body>> serializer;
  };
  std::unique_ptr<Header> header_;  // until the response's header is written

  int64_t cursor_;  // the last position sent
  bool history_done_ = false;

  struct Queued {
    std::shared_ptr<const std::string> bytes;
    size_t cost;  // what queued_bytes_ was charged
  };
  SendQueue<Queued> queue_;
  std::vector<std::shared_ptr<const std::string>> in_flight_;
  std::vector<asio::const_buffer> buffers_;
  char chunk_size_[24];  // the chunk size line of the write in flight
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool holding_ = false;  // queueing a commit's frames: write once they are all queued
  bool final_queued_ = false;
  bool finishing_ = false;
  bool last_chunk_ = false;

  bool closed_ = false;
  bool counted_ = false;
  int status_ = 200;
  size_t bytes_ = 0;
  int64_t started_ms_;
  beast::flat_buffer inbound_;  // what the client sent while streaming
  bool handing_over_ = false;
};

// One HTTP connection: reads requests, answers them, or hands the connection over to an event
// stream or a WebSocket.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(ServerContext* ctx, ConnectionSlot slot, tcp::socket socket)
      : ctx_(ctx),
        slot_(std::move(slot)),
        stream_(std::move(socket)),
        remote_(Remote(stream_.socket())) {}
  // A kept-alive connection after an event stream ended on it.
  HttpSession(ServerContext* ctx, ConnectionSlot slot, beast::tcp_stream stream,
              beast::flat_buffer inbound, std::string remote)
      : ctx_(ctx),
        slot_(std::move(slot)),
        stream_(std::move(stream)),
        buffer_(std::move(inbound)),
        remote_(std::move(remote)),
        requests_(1) {}
  // Its request state is freed now. One that became a stream told the trimmer then, when
  // it handed its slot on (the context may be gone by now).
  ~HttpSession() {
    if (slot_) ctx_->trimmer->Note();
  }

  void Run() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Read(); });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(ctx_->options.max_body_bytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(std::chrono::milliseconds(
        requests_ == 0 ? ctx_->options.header_timeout_ms : ctx_->options.idle_timeout_ms));
    auto self = shared_from_this();
    http::async_read(stream_, buffer_, *parser_,
                     [self](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      started_ms_ = SteadyMillis();
      keep_alive_ = false;
      return Reply(ApiResponse::Error(
          413, "payload_too_large",
          "the body is over " + std::to_string(ctx_->options.max_body_bytes) + " bytes"));
    }
    if (ec) return Close();
    ++requests_;
    started_ms_ = SteadyMillis();
    auto& req = parser_->get();
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    method_ = std::string(req.method_string());
    Dispatch d = DispatchRequest(ctx_, FromBeast(req, remote_));
    path_ = d.request.path.empty() ? std::string(req.target().substr(0, req.target().find('?')))
                                   : d.request.path;
    user_ = d.request.user;
    cors_ = std::move(d.cors);
    switch (d.kind) {
      case Dispatch::Kind::kReply:
        return Reply(d.response);
      case Dispatch::Kind::kWebSocket: {
        auto header = [&](http::field f) {
          auto v = req[f];
          return std::string_view(v.data(), v.size());
        };
        WsUpgrade upgrade = AnswerWsUpgrade(header(http::field::sec_websocket_key),
                                            header(http::field::sec_websocket_version));
        if (upgrade.refusal) {
          keep_alive_ = false;
          return Reply(*upgrade.refusal);
        }
        ctx_->AccessLog(remote_, method_, path_, 101, 0, 0, user_);
        stream_.expires_never();
        std::string early = beast::buffers_to_string(buffer_.data());
        ctx_->trimmer->Note();
        return StartWebSocket(ctx_, std::move(slot_), stream_.release_socket(),
                              std::move(upgrade.response), std::move(early), user_, d.client,
                              remote_);
      }
      case Dispatch::Kind::kEventStream: {
        ctx_->trimmer->Note();
        auto sse = std::make_shared<SseStream>(ctx_, std::move(slot_), std::move(stream_),
                                               std::move(d.route), user_, remote_, path_, version_,
                                               keep_alive_, cors_);
        sse->Start();
        return;
      }
      case Dispatch::Kind::kApi:
        break;
    }
    auto self = shared_from_this();
    ctx_->api->Handle(d.request, [self](ApiResponse response) {
      asio::post(self->stream_.get_executor(),
                 [self, response = std::move(response)] { self->Reply(response); });
    });
  }

  void Reply(const ApiResponse& r) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), version_);
    res->set(http::field::server, "scaffold");
    if (!r.body.empty()) res->set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res->set(k, v);
    for (const auto& [k, v] : cors_) res->set(k, v);
    res->body() = r.body;
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    auto self = shared_from_this();
    int status = r.status;
    size_t bytes = r.body.size();
    // The read's deadline may have passed while the answer was made (a tools/call on /mcp
    // waits for its session): the write gets one of its own.
    stream_.expires_after(std::chrono::milliseconds(ctx_->options.idle_timeout_ms));
    http::async_write(stream_, *res, [self, res, status, bytes](beast::error_code ec, size_t) {
      self->ctx_->AccessLog(self->remote_, self->method_, self->path_, status, bytes,
                            SteadyMillis() - self->started_ms_, self->user_);
      if (ec || !self->keep_alive_) return self->Close();
      self->Read();
    });
  }

  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  ServerContext* ctx_;
  ConnectionSlot slot_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_, method_ = "-", path_ = "-", user_;
  std::vector<std::pair<std::string, std::string>> cors_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  int requests_ = 0;
  int64_t started_ms_ = 0;
};

void ContinueHttp(ServerContext* ctx, ConnectionSlot slot, beast::tcp_stream stream,
                  beast::flat_buffer inbound, std::string remote) {
  std::make_shared<HttpSession>(ctx, std::move(slot), std::move(stream), std::move(inbound),
                                std::move(remote))
      ->Run();
}

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context* io, std::shared_ptr<ServerContext> ctx)
      : ctx_(std::move(ctx)), acceptor_(asio::make_strand(*io)) {}

  Status Open(const std::string& host, uint16_t port) {
    beast::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec) return InvalidArgument("--listen: \"" + host + "\" is not an IP address");
    tcp::endpoint ep(address, port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      return Status(ErrorCode::kUnavailable,
                    "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
    return Status::Ok();
  }

  uint16_t port() const {
    beast::error_code ec;
    return acceptor_.local_endpoint(ec).port();
  }

  void Accept() {
    acceptor_.async_accept(ctx_->loops->Next(),
                           [self = shared_from_this()](beast::error_code ec, tcp::socket s) {
                             self->OnAccept(ec, std::move(s));
                           });
  }

  // Any thread.
  void Stop() {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      self->acceptor_.close(ec);
      self->backoff_.cancel();
    });
  }

 private:
  void OnAccept(beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {
      // Out of file descriptors, most likely: pause instead of spinning on the error.
      backoff_.expires_after(std::chrono::milliseconds(50));
      backoff_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
        if (!wait_ec) self->Accept();
      });
      return;
    }
    {
      if (++ctx_->connections > ctx_->options.max_connections) {
        --ctx_->connections;
        ++ctx_->metrics->connections_refused;
        Refuse(std::move(socket));
      } else {
        // Event streams are many small writes, already gathered per connection: none waits
        // for the peer's acknowledgement of the one before.
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        // The connection is made on its own loop's thread, so its memory comes from that
        // thread's heap: made here, the request's short-lived state (parser, buffers) would sit
        // between what the accepting thread keeps for each socket, and the holes it leaves
        // when a connection becomes a stream would stay resident (about 0.25 KiB per
        // connection at 10,000 streams).
        auto executor = socket.get_executor();
        asio::post(executor, [ctx = ctx_, socket = std::move(socket)]() mutable {
          std::make_shared<HttpSession>(ctx.get(), ConnectionSlot(ctx), std::move(socket))->Run();
        });
      }
    }
    Accept();
  }

  static void Refuse(tcp::socket socket) {
    static const std::string kBusy =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: "
        "close\r\n"
        "Content-Length: 83\r\n\r\n{\"error\":{\"code\":\"unavailable\",\"message\":\"too many "
        "connections; try again later\"}}";
    auto s = std::make_shared<tcp::socket>(std::move(socket));
    asio::async_write(*s, asio::buffer(kBusy), [s](beast::error_code, size_t) {
      beast::error_code ignored;
      s->shutdown(tcp::socket::shutdown_both, ignored);
    });
  }

  std::shared_ptr<ServerContext> ctx_;
  tcp::acceptor acceptor_;
  asio::steady_timer backoff_{acceptor_.get_executor()};
};

}  // namespace

struct HttpServer::Impl {
  asio::io_context* io;
  std::shared_ptr<ServerContext> ctx = std::make_shared<ServerContext>();
  std::shared_ptr<Listener> listener;
  IoLoops* loops;  // owned by `io` (IoLoops::OwnedBy)
};

HttpServer::HttpServer(asio::io_context* io, ServerOptions options, Api* api, SessionHub* hub,
                       Metrics* metrics, const JwtVerifier* verifier,
                       ClientToolBroker* client_tools)
    : impl_(std::make_unique<Impl>()) {
  impl_->ctx->client_tools = client_tools;

  impl_->io = io;
  impl_->ctx->options = std::move(options);
  impl_->ctx->api = api;
  impl_->ctx->hub = hub;
  impl_->ctx->metrics = metrics;
  impl_->ctx->verifier = verifier;
  int loops = impl_->ctx->options.loops;
  if (loops <= 0) loops = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  impl_->loops = IoLoops::OwnedBy(*io, loops);
  impl_->ctx->loops = impl_->loops;
  impl_->ctx->trimmer =
      std::make_unique<HeapTrimmer>(io->get_executor(), HeapTrimmer::Policy(), metrics->heap_trims);
}

HttpServer::~HttpServer() {
  Stop();
  Halt();
}

void HttpServer::Halt() {
  impl_->loops->Halt();
}

Status HttpServer::Listen() {
  impl_->listener = std::make_shared<Listener>(impl_->io, impl_->ctx);
  SCAFFOLD_RETURN_IF_ERROR(
      impl_->listener->Open(impl_->ctx->options.host, impl_->ctx->options.port));

  impl_->loops->Start();
  impl_->listener->Accept();
  return Status::Ok();
}

uint16_t HttpServer::port() const {
  return impl_->listener ? impl_->listener->port() : 0;
}

void HttpServer::Stop() {
  impl_->ctx->trimmer->Stop();
  if (impl_->listener) impl_->listener->Stop();
}

}  // namespace scaffold::net
