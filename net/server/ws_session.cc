// WebSocket connections of `scaffold serve` (/ws): subscriptions to several sessions at once,
// each from a position, input, ping/pong and error frames. Shaped after Beast's chat-multi
// example (Boost 1.74): one write in flight, a queue behind it, errors as codes.
//
// Beast accepts the handshake, reads and checks every frame from the client, and answers pings
// and closes; the messages this server sends are framed by us (EventFrame::ws, WsTextFrame) so
// that an event is framed once for all its subscribers and a connection writes its whole queue
// in one gathered write, as the SSE streams do, instead of one write per message. Beast's own
// writes (the handshake response, pong, ping, close) reach the socket through the same queue
// (FrameLayer), so frames never interleave.

#include "net/server/ws_session.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <functional>
#include <map>

#include "net/server/io_loops.h"
#include "net/server/ws_messages.h"

namespace scaffold::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

// How long a slow consumer has to take its close frame before the connection is dropped.
constexpr std::chrono::seconds kSlowConsumerGrace{10};

class WsSession;

// The layer under Beast's WebSocket stream: reads go straight to the TCP stream; writes join
// the connection's queue (WsSession::QueueRaw) and complete once they reached the socket.
class FrameLayer {
 public:
  using executor_type = beast::tcp_stream::executor_type;

  explicit FrameLayer(beast::tcp_stream stream) : stream_(std::move(stream)) {}
  void set_session(WsSession* session) { session_ = session; }

  executor_type get_executor() noexcept { return stream_.get_executor(); }
  beast::tcp_stream& next_layer() noexcept { return stream_; }
  const beast::tcp_stream& next_layer() const noexcept { return stream_; }

  template <class MutableBuffers, class Handler>
  auto async_read_some(const MutableBuffers& buffers, Handler&& handler) {
    return stream_.async_read_some(buffers, std::forward<Handler>(handler));
  }

  // Defined after WsSession; the return type is spelled out for Beast's stream traits.
  template <class ConstBuffers, class Handler>
  typename asio::async_result<std::decay_t<Handler>, void(beast::error_code, size_t)>::return_type
  async_write_some(const ConstBuffers& buffers, Handler&& handler);

 private:
  beast::tcp_stream stream_;
  WsSession* session_ = nullptr;
};

// Closing the connection closes the TCP stream underneath (found by Beast through ADL).
template <class TeardownHandler>
void async_teardown(beast::role_type role, FrameLayer& layer, TeardownHandler&& handler) {
  using beast::websocket::async_teardown;
  async_teardown(role, layer.next_layer(), std::forward<TeardownHandler>(handler));
}

// The buffer a WebSocket message is read into. Beast prepares a read's buffer before it waits
// for the socket, as much as a TCP frame (1,536 bytes); while no byte of a message has arrived
// this buffer says it can hold one, so an idle connection keeps one byte instead of 1.5 KiB.
// The rest of a message is read in a second step once its first byte is here.
class IdleLightBuffer {
 public:
  using const_buffers_type = beast::flat_buffer::const_buffers_type;
  using mutable_buffers_type = beast::flat_buffer::mutable_buffers_type;

  size_t size() const { return buffer_.size(); }
  size_t max_size() const { return buffer_.size() == 0 ? 1 : buffer_.max_size(); }
  size_t capacity() const { return buffer_.capacity(); }
  const_buffers_type data() const { return buffer_.data(); }
  mutable_buffers_type prepare(size_t n) { return buffer_.prepare(n); }
  void commit(size_t n) { buffer_.commit(n); }
  void consume(size_t n) { buffer_.consume(n); }
  void shrink_to_fit() { buffer_.shrink_to_fit(); }

 private:
  beast::flat_buffer buffer_;
};

// Relays one session's events to a WebSocket connection, on the connection's loop.
class WsSubscriber : public Subscriber {
 public:
  WsSubscriber(std::weak_ptr<WsSession> owner, std::string session_id,
               asio::any_io_executor executor, SubscriberLoop* loop)
      : owner_(std::move(owner)),
        session_id_(std::move(session_id)),
        executor_(std::move(executor)),
        loop_(loop) {}
  SubscriberLoop* loop() const override { return loop_; }
  void OnEvents(const FrameBatch& frames) override;
  void OnSessionGone() override;

 private:
  std::weak_ptr<WsSession> owner_;
  std::string session_id_;
  asio::any_io_executor executor_;
  SubscriberLoop* const loop_;
};

class WsSession : public std::enable_shared_from_this<WsSession>, private WsClientActions {
 public:
  WsSession(ServerContext* ctx, ConnectionSlot slot, beast::tcp_stream stream, std::string user,
            std::string client, std::string remote)
      : ctx_(ctx),
        slot_(std::move(slot)),
        ws_(std::move(stream)),
        user_(std::move(user)),
        client_(std::move(client)),
        remote_(std::move(remote)),
        started_ms_(SteadyMillis()) {
    ws_.next_layer().set_session(this);
  }

  void Run(http::request<http::string_body> request) {
    // Protocol-level pings at half the idle timeout keep idle connections alive; a peer silent
    // for the whole idle timeout (no pong either) is dead and closed.
    websocket::stream_base::timeout timeout;
    timeout.handshake_timeout = std::chrono::milliseconds(ctx_->options.header_timeout_ms);
    timeout.idle_timeout = std::chrono::milliseconds(ctx_->options.idle_timeout_ms);
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);

    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "scaffold"); }));
    ws_.read_message_max(ctx_->options.max_ws_message_bytes);
    ws_.text(true);
    auto self = shared_from_this();
    ws_.async_accept(request, [self](beast::error_code ec) {
      if (ec) return;
      ++self->ctx_->metrics->ws_open;
      self->open_ = true;
      self->Read();
    });
  }

  // Queues a commit's frames for a session, then writes them together.
  void OnLive(const std::string& id, const FrameBatch& batch) {
    auto it = subs_.find(id);
    if (closed_ || it == subs_.end()) return;
    Subscription& sub = it->second;
    // While catching up, live events are skipped: they are in the log, and the history read
    // that ends the catch-up runs after their commit.
    if (!sub.history_done) return;
    holding_ = true;
    for (const auto& f : *batch) {
      if (!Deliver(sub, f)) break;  // closed: `sub` is gone
    }
    holding_ = false;
    Write();
  }

  void OnGone(const std::string& id) {
    if (subs_.erase(id)) SendError("not_found", "session " + id + " was deleted", id);
  }

  asio::any_io_executor executor() { return ws_.get_executor(); }

 private:
  struct Subscription {
    std::shared_ptr<WsSubscriber> subscriber;
    int64_t cursor = 0;  // last position sent
    bool history_done = false;
  };

  void Read() {
    auto self = shared_from_this();
    ws_.async_read(buffer_, [self](beast::error_code ec, size_t) {
      if (ec) return self->Cleanup();
      std::string text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      self->buffer_.shrink_to_fit();  // an idle connection holds no read buffer
      self->Handle(text);
      self->Read();
    });
  }

  void Handle(const std::string& text) {
    WsClientInfo info;
    info.desktop = client_ == "osclient";
    info.tools_served = ctx_->client_tools != nullptr;
    // The last resort: a bug reached by some message answers an error frame; the connection
    // and the server carry on.
    try {
      HandleWsMessage(text, info, this);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "scaffold: internal error handling a WebSocket message: %s\n", e.what());
      SendError("internal", std::string("internal error: ") + e.what(), "");
    }
  }

  // WsClientActions.
  void SendText(std::string text) override { QueueText(text); }

  void SendError(const std::string& code, const std::string& message,
                 const std::string& session_id) override {
    Json e = {{"type", "error"}, {"code", code}, {"message", message}};
    if (!session_id.empty()) e["sessionId"] = session_id;
    QueueText(DumpJson(e));
  }

  void Unsubscribe(const std::string& id) override {
    if (auto it = subs_.find(id); it != subs_.end()) {
      ctx_->hub->Unsubscribe(id, it->second.subscriber.get());
      subs_.erase(it);
    }
  }

  void SubmitInput(const std::string& id, engine::InputAnswer answer) override {
    auto self = shared_from_this();
    ctx_->hub->SubmitInput(user_, id, std::move(answer), [self, id](const Status& s) {
      if (s.ok()) return;
      asio::post(self->ws_.get_executor(),
                 [self, id, s] { self->SendError(ApiResponse::CodeOf(s), s.message(), id); });
    });
  }

  void ToolResponse(const Json& frame) override {
    if (!tool_client_)
      return SendError("bad_request", "tool:response from a client that registered no tools", "");
    std::string problem = ctx_->client_tools->Respond(tool_client_.get(), frame);
    if (!problem.empty()) SendError("bad_tool_response", problem, "");
  }

  void RegisterTools(std::vector<RegisteredTool> tools) override {
    if (!tool_client_)
      tool_client_ = std::make_shared<ToolClient>(weak_from_this(), ws_.get_executor());
    Json names = Json::array();
    for (const auto& t : tools) names.push_back(t.name);
    ctx_->client_tools->Register(user_, tool_client_, std::move(tools));
    QueueText(DumpJson({{"type", "tools:registered"}, {"tools", std::move(names)}}));
  }

  // Sends tool:request frames for the broker, from any thread.
  class ToolClient : public ToolClientConnection {
   public:
    ToolClient(std::weak_ptr<WsSession> session, asio::any_io_executor executor)
        : session_(std::move(session)), executor_(std::move(executor)) {}
    void SendFrame(std::string text) override {
      asio::post(executor_, [session = session_, text = std::move(text)]() mutable {
        if (auto s = session.lock()) s->SendText(std::move(text));
      });
    }

   private:
    std::weak_ptr<WsSession> session_;
    asio::any_io_executor executor_;
  };

  void Subscribe(const std::string& id, int64_t from) override {
    if (subs_.count(id)) {
      ctx_->hub->Unsubscribe(id, subs_[id].subscriber.get());
      subs_.erase(id);
    }
    auto sub = std::make_shared<WsSubscriber>(
        weak_from_this(), id, ws_.get_executor(),
        ctx_->loops->Of(asio::query(ws_.get_executor(), asio::execution::context)));
    Subscription& s = subs_[id];
    s.subscriber = sub;
    s.cursor = from > 0 ? from - 1 : 0;
    s.history_done = from == 0;
    auto self = shared_from_this();
    ctx_->hub->Subscribe(user_, id, sub, [self, id, sub](const Status& st) {
      asio::post(self->ws_.get_executor(), [self, id, sub, st] {
        auto it = self->subs_.find(id);
        if (it == self->subs_.end() || it->second.subscriber != sub) return;
        if (!st.ok()) {
          self->subs_.erase(it);
          // Another user's session is reported exactly like a missing one.
          return self->SendError("not_found", "no session " + id, id);
        }
        self->Pump();
      });
    });
  }

  // Reads history pages for subscriptions still catching up, while the queue is short.
  void Pump() {
    for (auto& [id, sub] : subs_) {
      while (!sub.history_done && queued_bytes_ < ctx_->HistoryPumpBytes()) {
        auto page = ctx_->hub->store()->ReadEvents(id, sub.cursor, kHistoryPage);
        if (!page.ok()) {
          sub.history_done = true;
          break;
        }
        for (const auto& e : *page) {
          // closed: `sub` and `id` are gone
          if (!Deliver(sub, MakeEventFrame(id, *e, FrameForms::kWs))) return;
        }
        if (page->size() < kHistoryPage) sub.history_done = true;
      }
    }
  }

  // Queues the frame unless its position was sent already. False when that closed the
  // connection (a full send queue): the subscriptions are gone then.
  bool Deliver(Subscription& sub, const EventFramePtr& frame) {
    if (frame->position <= sub.cursor) return true;
    sub.cursor = frame->position;
    Queue(std::shared_ptr<const std::string>(frame, &frame->ws), frame->cost());
    return !closed_;
  }

  void QueueText(std::string_view text) {
    Queue(std::make_shared<const std::string>(WsTextFrame(text)));
  }

  // Queues whole frames of a message. A connection whose queue would pass the limit is a slow
  // consumer: it is closed, and reconnects and resumes by position.
  // `cost` is what the queue is charged (at least the bytes).
  void Queue(std::shared_ptr<const std::string> frames, size_t cost = 0) {
    if (closed_) return;
    cost = std::max(cost, frames->size());
    if (queued_bytes_ + cost > ctx_->options.max_send_queue_bytes) {
      ++ctx_->metrics->slow_consumers_dropped;
      return CloseWith(websocket::close_code::try_again_later,
                       "send queue full: reconnect and resume by position");
    }
    queued_bytes_ += cost;
    queue_.push_back({std::move(frames), {}, cost});
    Write();
  }

 public:
  // Beast's own writes (FrameLayer): queued even once the connection is closing, since the close
  // frame is one of them; `done` runs when the bytes reached the socket or the write failed.
  void QueueRaw(std::shared_ptr<const std::string> bytes,
                std::function<void(beast::error_code)> done) {
    size_t cost = bytes->size();
    queued_bytes_ += cost;
    queue_.push_back({std::move(bytes), std::move(done), cost});
    Write();
  }

 private:
  // Writes what is queued, up to kWriteBatchBytes, in one gathered write.
  void Write() {
    if (writing_ || holding_ || queue_.empty()) return;
    writing_ = true;
    buffers_.clear();
    size_t cost = TakeWriteBatch(queue_, [&](Outgoing o) {
      buffers_.emplace_back(asio::buffer(*o.bytes));
      in_flight_.push_back(std::move(o));
    });
    auto self = shared_from_this();
    asio::async_write(ws_.next_layer().next_layer().socket(), buffers_,
                      [self, cost](beast::error_code ec, size_t n) {
                        self->writing_ = false;
                        self->queued_bytes_ -= cost;
                        self->bytes_ += n;
                        std::vector<Outgoing> written = std::move(self->in_flight_);
                        self->in_flight_.clear();
                        for (auto& o : written)
                          if (o.done) o.done(ec);
                        if (ec) return self->Fail(ec);
                        if (!self->queue_.empty()) return self->Write();
                        ReleaseIfLarge(self->in_flight_);
                        ReleaseIfLarge(self->buffers_);
                        self->Pump();
                      });
  }

  // The socket failed: nothing more can be written.
  void Fail(beast::error_code ec) {
    for (auto& o : queue_)
      if (o.done) o.done(ec);
    queue_.clear();
    queued_bytes_ = 0;
    Cleanup();
  }

  void CloseWith(websocket::close_code code, const std::string& reason) {
    if (closed_) return;
    Cleanup();
    auto self = shared_from_this();
    ws_.async_close(websocket::close_reason(code, reason), [self](beast::error_code) {});
    // The close frame follows what is already on its way to the socket, so a peer that reads
    // again soon gets the frames in flight, then the close frame and its reason. One that does
    // not read within the grace time cannot take it: the connection is dropped.
    auto grace = std::make_shared<asio::steady_timer>(ws_.get_executor(), kSlowConsumerGrace);
    grace->async_wait([self, grace](beast::error_code) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().close(ignored);
    });
  }

  void Cleanup() {
    if (closed_) return;
    closed_ = true;
    // Messages not yet written are dropped; Beast's frames (a close among them) still go.
    queue_.EraseIf([this](const Outgoing& o) {
      if (o.done) return false;
      queued_bytes_ -= o.cost;
      return true;
    });
    for (auto& [id, sub] : subs_) ctx_->hub->Unsubscribe(id, sub.subscriber.get());
    subs_.clear();
    if (tool_client_) ctx_->client_tools->Unregister(tool_client_.get());
    if (open_) --ctx_->metrics->ws_open;
    ctx_->AccessLog(remote_, "GET", "/ws", 101, bytes_, SteadyMillis() - started_ms_, user_);
  }

  ServerContext* ctx_;
  ConnectionSlot slot_;
  websocket::stream<FrameLayer> ws_;
  std::string user_, client_, remote_;
  IdleLightBuffer buffer_;
  std::map<std::string, Subscription> subs_;
  std::shared_ptr<ToolClient> tool_client_;  // once the client registered tools

  struct Outgoing {
    std::shared_ptr<const std::string> bytes;     // whole frames
    std::function<void(beast::error_code)> done;  // set for Beast's writes
    size_t cost = 0;                              // what queued_bytes_ was charged
  };
  SendQueue<Outgoing> queue_;
  std::vector<Outgoing> in_flight_;
  std::vector<asio::const_buffer> buffers_;
  size_t queued_bytes_ = 0;
  size_t bytes_ = 0;
  bool writing_ = false;
  bool holding_ = false;  // queueing a commit's frames: write once they are all queued
  bool closed_ = false;
  bool open_ = false;
  int64_t started_ms_;
};

template <class ConstBuffers, class Handler>
typename asio::async_result<std::decay_t<Handler>, void(beast::error_code, size_t)>::return_type
FrameLayer::async_write_some(const ConstBuffers& buffers, Handler&& handler) {
  return asio::async_initiate<Handler, void(beast::error_code, size_t)>(
      [](auto handler, FrameLayer* layer, std::shared_ptr<const std::string> bytes) {
        size_t n = bytes->size();
        auto pending = std::make_shared<decltype(handler)>(std::move(handler));
        layer->session_->QueueRaw(
            std::move(bytes), [pending, n, executor = layer->get_executor()](beast::error_code ec) {
              asio::post(executor,
                         beast::bind_front_handler(std::move(*pending), ec, ec ? size_t{0} : n));
            });
      },
      handler, this, std::make_shared<const std::string>(beast::buffers_to_string(buffers)));
}

void WsSubscriber::OnEvents(const FrameBatch& frames) {
  if (auto s = owner_.lock()) s->OnLive(session_id_, frames);
}

void WsSubscriber::OnSessionGone() {
  auto owner = owner_;
  std::string id = session_id_;
  asio::post(executor_, [owner, id] {
    if (auto s = owner.lock()) s->OnGone(id);
  });
}

}  // namespace

void StartWebSocket(ServerContext* ctx, ConnectionSlot slot, beast::tcp_stream stream,
                    http::request<http::string_body> request, std::string user, std::string client,
                    std::string remote) {
  auto session = std::make_shared<WsSession>(ctx, std::move(slot), std::move(stream),
                                             std::move(user), std::move(client), std::move(remote));
  session->Run(std::move(request));
}

}  // namespace scaffold::net
