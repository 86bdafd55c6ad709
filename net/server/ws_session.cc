// WebSocket connections of `scaffold serve` (/ws): subscriptions to several sessions at once,
// each from a position, input, ping/pong and error frames. One write in flight, a queue behind
// it, errors as codes.
//
// The protocol is ours (ws_protocol.h): the messages this server sends are framed once per
// event for all its subscribers (EventFrame::ws) and a connection writes its whole queue in one
// gathered write, as the SSE streams do; pongs, pings and the close frame join the same queue,
// so frames never interleave. An idle connection holds its socket, one timer and one wait for
// the socket to become readable: no read buffer (the bytes are read into a buffer of the
// loop's thread and the reader keeps only an unfinished frame).
//
// Liveness: a ping goes out when the client was silent for half the idle timeout, and a client
// silent for the whole of it (no pong either) is dropped. Closing: a close frame from the
// client is answered with one and the connection closed once it is written; when the server
// closes (a breach of the protocol, a message over the limit, a full send queue) the messages
// not yet written are dropped, the close frame follows what is on its way, the server ends its
// side of the TCP connection once it is written, and the socket is closed when the client ends
// its side too or after kCloseGrace.

#include "net/server/ws_session.h"

#include <boost/asio.hpp>
#include <map>

#include "net/server/event_frames.h"
#include "net/server/io_loops.h"
#include "net/server/write_now.h"
#include "net/server/ws_messages.h"
#include "net/server/ws_protocol.h"

namespace scaffold::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// How long a client has to take the server's close frame and answer it before the connection
// is dropped.
constexpr std::chrono::seconds kCloseGrace{10};

// Reads of one readiness of the socket before other connections of the loop get their turn.
constexpr int kReadsPerTurn = 8;

class WsSession;

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

class WsSession : public std::enable_shared_from_this<WsSession>,
                  public Flushable,
                  private WsClientActions,
                  private WsFrameReader::Handler {
 public:
  WsSession(ServerContext* ctx, ConnectionSlot slot, tcp::socket socket, std::string user,
            std::string client, std::string remote)
      : ctx_(ctx),
        slot_(std::move(slot)),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        reader_(ctx->options.max_ws_message_bytes),
        user_(std::move(user)),
        client_(std::move(client)),
        remote_(std::move(remote)),
        started_ms_(SteadyMillis()) {}

  void Run(std::string response, std::string early) {
    error_code ec;
    socket_.non_blocking(true, ec);  // reads are tried at once, when the socket is readable
    if (ec) return Drop();
    ++ctx_->metrics->ws_open;
    open_ = true;
    QueueControl(std::move(response));
    Tick();
    if (!early.empty()) Take(early);
    if (!dropped_) Read();
  }

  // Queues a commit's frames for a session, then writes them together.
  void OnLive(const std::string& id, const FrameBatch& batch) {
    auto it = subs_.find(id);
    if (closed_ || it == subs_.end()) return;
    Subscription& sub = it->second;
    // While catching up, live events are skipped: they are in the log, and the history read
    // that ends the catch-up runs after their commit.
    if (!sub.history_done) return;
    SubscriberLoop* loop = sub.subscriber->loop();
    holding_ = true;
    for (const auto& f : *batch) {
      if (!Deliver(sub, f)) break;  // closed: `sub` is gone
    }
    holding_ = false;
    // Written when the loop flushes, with the frames of the commits fanned out before that.
    if (!loop) return Write();
    if (!writing_ && !dropped_ && !queue_.empty()) loop->FlushLater(shared_from_this());
  }

  void Flush() override { Write(/*now=*/true); }

  void OnGone(const std::string& id) {
    if (subs_.erase(id)) SendError("not_found", "session " + id + " was deleted", id);
  }

 private:
  struct Subscription {
    std::shared_ptr<WsSubscriber> subscriber;
    int64_t cursor = 0;  // last position sent
    bool history_done = false;
  };

  // Waits until the client sent something; no buffer is held meanwhile.
  void Read() {
    auto self = shared_from_this();
    socket_.async_wait(tcp::socket::wait_read, [self](error_code ec) {
      if (ec) return self->Drop();
      self->OnReadable();
    });
  }

  void OnReadable() {
    // One read buffer per loop thread, allocated at its first read: a 64 KiB array in
    // thread-local storage would be zeroed for every thread of every scaffold process at its
    // start, 16 page faults for a `scaffold --version`.
    constexpr size_t kReadBuffer = 64 * 1024;
    thread_local std::unique_ptr<char[]> storage;
    if (!storage) storage.reset(new char[kReadBuffer]);
    for (int i = 0; i < kReadsPerTurn && !dropped_; ++i) {
      error_code ec;
      size_t n = socket_.read_some(asio::buffer(storage.get(), kReadBuffer), ec);
      if (ec == asio::error::would_block || ec == asio::error::try_again) break;
      if (ec) return Drop();  // the client closed its side or the connection broke
      heard_ = true;
      Take(std::string_view(storage.get(), n));  // ignored after a close frame
      if (n < kReadBuffer) break;
    }
    if (!dropped_) Read();
  }

  void Take(std::string_view bytes) {
    if (auto failure = reader_.Feed(bytes, *this)) CloseWith(failure->code, failure->reason);
  }

  // WsFrameReader::Handler.
  void OnWsMessage(std::string message) override {
    if (!closed_) Handle(message);
  }
  void OnWsPing(std::string_view payload) override {
    if (close_sent_) return;
    // A client that pings and never reads is a slow consumer like any other.
    std::string pong = WsPongFrame(payload);
    if (queued_bytes_ + pong.size() > ctx_->options.max_send_queue_bytes) return DropSlowConsumer();
    QueueControl(std::move(pong));
  }
  void OnWsClose(uint16_t code, std::string_view) override {
    if (close_sent_) return;  // the answer to ours: the write's completion shuts down
    Cleanup();
    close_sent_ = true;
    QueueControl(WsCloseFrame(code, ""));  // the client's code, echoed (RFC 6455 5.5.1)
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
      asio::post(self->socket_.get_executor(),
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
      tool_client_ = std::make_shared<ToolClient>(weak_from_this(), socket_.get_executor());
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
    auto sub = std::make_shared<WsSubscriber>(weak_from_this(), id, socket_.get_executor(),
                                              ctx_->loops->Of(socket_.get_executor()));
    Subscription& s = subs_[id];
    s.subscriber = sub;
    s.cursor = from > 0 ? from - 1 : 0;
    s.history_done = from == 0;
    auto self = shared_from_this();
    ctx_->hub->Subscribe(user_, id, sub, [self, id, sub](const Status& st) {
      asio::post(self->socket_.get_executor(), [self, id, sub, st] {
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
    if (queued_bytes_ + cost > ctx_->options.max_send_queue_bytes) return DropSlowConsumer();
    queued_bytes_ += cost;
    queue_.push_back({std::move(frames), cost, false});
    Write();
  }

  void DropSlowConsumer() {
    ++ctx_->metrics->slow_consumers_dropped;
    CloseWith(kWsTryAgainLater, "send queue full: reconnect and resume by position");
  }

  // The protocol's own bytes (the 101 response, pong, ping, close): queued even once the
  // connection is closing, since the close frame is one of them.
  void QueueControl(std::string bytes) {
    if (dropped_) return;
    size_t cost = bytes.size();
    queued_bytes_ += cost;
    queue_.push_back({std::make_shared<const std::string>(std::move(bytes)), cost, true});
    Write();
  }

  // Writes what is queued, up to kWriteBatchBytes, in one gathered write. With `now` (live
  // events, when the connection's loop flushes) the write is first offered to the socket directly
  // (WriteNow), and only what it did not take goes through an asynchronous write. Everything
  // else (history, replies, control frames) goes the asynchronous way, so a long catch-up
  // yields to the loop between writes.
  void Write(bool now = false) {
    if (writing_ || holding_ || dropped_ || queue_.empty()) return;
    writing_ = true;
    buffers_.clear();
    size_t cost = TakeWriteBatch(queue_, [&](Outgoing o) {
      buffers_.emplace_back(asio::buffer(*o.bytes));
      in_flight_.push_back(std::move(o));
    });
    size_t done = 0;
    if (now) {
      error_code ec;
      done = WriteNow(socket_.native_handle(), buffers_, ec);
      if (ec || buffers_.empty()) return Written(ec, done, cost);
    }
    auto self = shared_from_this();
    asio::async_write(socket_, buffers_, [self, cost, done](error_code ec, size_t n) {
      self->Written(ec, done + n, cost);
    });
  }

  // `n` bytes of a write charged `cost` in the queue are written (or the write failed).
  void Written(error_code ec, size_t n, size_t cost) {
    writing_ = false;
    queued_bytes_ -= cost;
    bytes_ += n;
    in_flight_.clear();
    if (ec) return Drop();
    if (!queue_.empty()) return Write();
    ReleaseIfLarge(in_flight_);
    ReleaseIfLarge(buffers_);
    if (close_sent_) return ShutdownSending();
    Pump();
  }

  // The close frame is written: the server's side of the TCP connection ends, and the socket
  // is closed once the client ended its side too (reading to its end, so nothing unread turns
  // the close into a reset) or after kCloseGrace.
  void ShutdownSending() {
    if (dropped_) return;
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
  }

  // Fails the connection with a close frame (RFC 6455 7.1.7): the subscriptions end, messages
  // not yet written are dropped, and the close frame follows what is on its way to the socket,
  // so a client that reads again soon gets the frames in flight, then the close frame and its
  // reason. One that does not read within kCloseGrace cannot take it: the connection is dropped.
  void CloseWith(uint16_t code, const std::string& reason) {
    if (close_sent_ || dropped_) return;
    Cleanup();
    close_sent_ = true;
    QueueControl(WsCloseFrame(code, reason));
    Arm(kCloseGrace);
  }

  // Liveness, every half idle timeout: a ping after a silent half, the connection dropped after
  // a silent whole. Once closing, the one expiry is the close's grace.
  void Tick() {
    if (ctx_->options.idle_timeout_ms > 0)
      Arm(std::chrono::milliseconds(std::max<int64_t>(1, ctx_->options.idle_timeout_ms / 2)));
  }

  void Arm(std::chrono::steady_clock::duration after) {
    timer_.expires_after(after);  // cancels the wait before
    auto self = shared_from_this();
    timer_.async_wait([self](error_code ec) {
      if (!ec) self->OnTimer();
    });
  }

  void OnTimer() {
    if (dropped_) return;
    if (close_sent_) return Drop();  // the client did not end the connection in time
    if (heard_) {
      heard_ = false;
      ping_sent_ = false;
    } else if (!ping_sent_) {
      ping_sent_ = true;
      QueueControl(WsPingFrame());
    } else {
      return Drop();  // silent for the whole idle timeout, pong included
    }
    Tick();
  }

  // Ends the session's part: subscriptions, tools, the access log line. The socket stays until
  // the close frame is written (Drop closes it).
  void Cleanup() {
    if (closed_) return;
    closed_ = true;
    queue_.EraseIf([this](const Outgoing& o) {  // messages not yet written are dropped
      if (o.control) return false;
      queued_bytes_ -= o.cost;
      return true;
    });
    for (auto& [id, sub] : subs_) ctx_->hub->Unsubscribe(id, sub.subscriber.get());
    subs_.clear();
    if (tool_client_) ctx_->client_tools->Unregister(tool_client_.get());
    if (open_) --ctx_->metrics->ws_open;
    ctx_->AccessLog(remote_, "GET", "/ws", 101, bytes_, SteadyMillis() - started_ms_, user_);
  }

  // The connection is over: the socket closes, the pending wait, write and timer end with
  // errors, and the session goes with the last of them.
  void Drop() {
    if (dropped_) return;
    Cleanup();
    dropped_ = true;
    queue_.clear();
    queued_bytes_ = 0;
    error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

  ServerContext* ctx_;
  ConnectionSlot slot_;
  tcp::socket socket_;
  asio::steady_timer timer_;  // liveness, then the close's grace
  WsFrameReader reader_;
  std::string user_, client_, remote_;
  std::map<std::string, Subscription> subs_;
  std::shared_ptr<ToolClient> tool_client_;  // once the client registered tools

  struct Outgoing {
    std::shared_ptr<const std::string> bytes;  // whole frames
    size_t cost = 0;                           // what queued_bytes_ was charged
    bool control = false;                      // the protocol's own: kept when closing
  };
  SendQueue<Outgoing> queue_;
  std::vector<Outgoing> in_flight_;
  std::vector<asio::const_buffer> buffers_;
  size_t queued_bytes_ = 0;
  size_t bytes_ = 0;
  bool writing_ = false;
  bool holding_ = false;     // queueing a commit's frames: write once they are all queued
  bool closed_ = false;      // Cleanup ran: no more messages
  bool close_sent_ = false;  // a close frame is queued or written
  bool dropped_ = false;     // the socket is closed
  bool open_ = false;
  bool heard_ = false;      // the client sent something since the last tick
  bool ping_sent_ = false;  // a ping went out at the last tick, unanswered so far
  int64_t started_ms_;
};

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

void StartWebSocket(ServerContext* ctx, ConnectionSlot slot, tcp::socket socket,
                    std::string response, std::string early, std::string user, std::string client,
                    std::string remote) {
  auto session = std::make_shared<WsSession>(ctx, std::move(slot), std::move(socket),
                                             std::move(user), std::move(client), std::move(remote));
  session->Run(std::move(response), std::move(early));
}

}  // namespace scaffold::net
