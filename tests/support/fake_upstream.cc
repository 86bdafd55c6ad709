#include "tests/support/fake_upstream.h"

#include <atomic>
#include <boost/asio.hpp>
#include <deque>
#include <thread>

#include "tests/support/conformance.h"

namespace scaffold::testing {

namespace asio = boost::asio;
using asio::ip::tcp;

class FakeUpstream::Impl {
 public:
  Impl() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    acceptor_.listen(4096);
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }

  ~Impl() {
    io_.stop();
    thread_.join();
  }

  int port() const { return acceptor_.local_endpoint().port(); }

  Response Next(const Request& request) {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    if (!queue_.empty()) {
      Response r = std::move(queue_.front());
      queue_.pop_front();
      return r;
    }
    if (default_) return default_(request);
    return Error(500, {{"error", {{"message", "the fake upstream has no scripted response"}}}});
  }

  std::mutex mu_;
  std::deque<Response> queue_;
  std::function<Response(const Request&)> default_;
  std::vector<Request> requests_;
  std::atomic<int> abandoned_{0};
  std::atomic<int> open_{0};

 private:
  class Connection : public std::enable_shared_from_this<Connection> {
   public:
    Connection(Impl* server, tcp::socket socket)
        : server_(server), socket_(std::move(socket)), timer_(socket_.get_executor()) {
      socket_.set_option(tcp::no_delay(true));
      ++server_->open_;
    }
    ~Connection() { --server_->open_; }

    void Start() { ReadHead(); }

   private:
    void ReadHead() {
      auto self = shared_from_this();
      asio::async_read_until(socket_, buffer_, "\r\n\r\n",
                             [self](boost::system::error_code ec, size_t n) {
                               if (ec) return;
                               std::string head(asio::buffers_begin(self->buffer_.data()),
                                                asio::buffers_begin(self->buffer_.data()) + n);
                               self->buffer_.consume(n);
                               self->ParseHead(head);
                               size_t length = 0;
                               if (auto it = self->request_.headers.find("content-length");
                                   it != self->request_.headers.end()) {
                                 length = std::stoul(it->second);
                               }
                               self->ReadBody(length);
                             });
    }

    void ParseHead(const std::string& head) {
      size_t line_end = head.find("\r\n");
      std::string first = head.substr(0, line_end);
      size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
      request_.method = first.substr(0, sp1);
      request_.path = first.substr(sp1 + 1, sp2 - sp1 - 1);
      size_t pos = line_end + 2;
      while (pos < head.size()) {
        size_t end = head.find("\r\n", pos);
        if (end == std::string::npos || end == pos) break;
        std::string line = head.substr(pos, end - pos);
        size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          std::string value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.erase(0, 1);
          request_.headers[name] = value;
        }
        pos = end + 2;
      }
    }

    void ReadBody(size_t length) {
      if (buffer_.size() >= length) {
        request_.body.assign(asio::buffers_begin(buffer_.data()),
                             asio::buffers_begin(buffer_.data()) + length);
        buffer_.consume(length);
        response_ = server_->Next(request_);
        WriteHead();
        return;
      }
      auto self = shared_from_this();
      asio::async_read(socket_, buffer_, asio::transfer_at_least(length - buffer_.size()),
                       [self, length](boost::system::error_code ec, size_t) {
                         if (!ec) self->ReadBody(length);
                       });
    }

    void WriteHead() {
      std::string head = "HTTP/1.1 " + std::to_string(response_.status) + " X\r\n";
      bool streaming = response_.status == 200;
      if (streaming) {
        head += "Content-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n";
      } else {
        std::string body;
        for (const auto& w : response_.writes) body += w.data;
        head += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\n";
        response_.writes = {{body, 0}};
      }
      for (const auto& [k, v] : response_.headers) head += k + ": " + v + "\r\n";
      head += "Connection: close\r\n\r\n";
      if (response_.one_byte_writes) {
        std::vector<Write> bytes;
        for (const auto& w : response_.writes) {
          for (size_t i = 0; i < w.data.size(); ++i)
            bytes.push_back({std::string(1, w.data[i]), i == 0 ? w.delay_ms : 0});
        }
        response_.writes = std::move(bytes);
      }
      Send(head, [self = shared_from_this()] { self->WriteNext(0); });
    }

    void WriteNext(size_t i) {
      bool streaming = response_.status == 200;
      if (i == response_.writes.size()) return Finish();
      const Write& w = response_.writes[i];
      auto self = shared_from_this();
      auto send = [self, i, streaming] {
        const std::string& data = self->response_.writes[i].data;
        std::string frame = streaming ? ToHex(data.size()) + "\r\n" + data + "\r\n" : data;
        if (streaming && data.empty()) return self->WriteNext(i + 1);
        self->Send(frame, [self, i] { self->WriteNext(i + 1); });
      };
      if (w.delay_ms > 0) {
        timer_.expires_after(std::chrono::milliseconds(w.delay_ms));
        timer_.async_wait([send](boost::system::error_code ec) {
          if (!ec) send();
        });
      } else {
        send();
      }
    }

    void Finish() {
      auto self = shared_from_this();
      auto end = [self] {
        if (self->response_.drop) return self->Close();
        if (self->response_.status != 200) return self->Close();
        self->Send("0\r\n\r\n", [self] { self->Close(); });
      };
      if (response_.stall_ms > 0) {
        timer_.expires_after(std::chrono::milliseconds(response_.stall_ms));
        // Watch for the client giving up while we stall.
        WatchForClose();
        timer_.async_wait([end](boost::system::error_code ec) {
          if (!ec) end();
        });
      } else {
        end();
      }
    }

    void WatchForClose() {
      auto self = shared_from_this();
      socket_.async_read_some(asio::buffer(scratch_), [self](boost::system::error_code ec, size_t) {
        if (ec) {
          ++self->server_->abandoned_;
          self->timer_.cancel();
        }
      });
    }

    template <typename Next>
    void Send(std::string data, Next next) {
      auto self = shared_from_this();
      auto buf = std::make_shared<std::string>(std::move(data));
      asio::async_write(socket_, asio::buffer(*buf),
                        [self, buf, next](boost::system::error_code ec, size_t) {
                          if (ec) {
                            ++self->server_->abandoned_;
                            return;
                          }
                          next();
                        });
    }

    void Close() {
      boost::system::error_code ec;
      socket_.shutdown(tcp::socket::shutdown_both, ec);
      socket_.close(ec);
    }

    static std::string ToHex(size_t n) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%zx", n);
      return buf;
    }

    Impl* server_;
    tcp::socket socket_;
    asio::steady_timer timer_;
    asio::streambuf buffer_;
    Request request_;
    Response response_;
    char scratch_[256];
  };

  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (!ec) std::make_shared<Connection>(this, std::move(socket))->Start();
      if (ec != asio::error::operation_aborted) Accept();
    });
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

FakeUpstream::FakeUpstream() : impl_(std::make_unique<Impl>()) {}
FakeUpstream::~FakeUpstream() = default;

std::string FakeUpstream::url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port());
}

void FakeUpstream::Push(Response response) {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  impl_->queue_.push_back(std::move(response));
}

void FakeUpstream::SetDefault(std::function<Response(const Request&)> handler) {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  impl_->default_ = std::move(handler);
}

std::vector<FakeUpstream::Request> FakeUpstream::requests() const {
  std::lock_guard<std::mutex> lock(impl_->mu_);
  return impl_->requests_;
}

int FakeUpstream::abandoned() const {
  return impl_->abandoned_;
}
int FakeUpstream::open_connections() const {
  return impl_->open_;
}

FakeUpstream::Response FakeUpstream::Sse(
    const std::vector<std::pair<std::string, std::string>>& frames) {
  Response r;
  for (const auto& [event, data] : frames) {
    std::string frame = event.empty() ? "" : "event: " + event + "\n";
    frame += "data: " + data + "\n\n";
    r.writes.push_back({frame, 0});
  }
  return r;
}

FakeUpstream::Response FakeUpstream::Fixture(const std::string& name) {
  std::string text = ReadFile(ConformancePath("providers/" + name));
  Response r;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find("\n\n", start);
    end = end == std::string::npos ? text.size() : end + 2;
    r.writes.push_back({text.substr(start, end - start), 0});
    start = end;
  }
  return r;
}

FakeUpstream::Response FakeUpstream::Error(
    int status, const Json& body, std::vector<std::pair<std::string, std::string>> headers) {
  Response r;
  r.status = status;
  r.headers = std::move(headers);
  r.writes.push_back({body.dump(), 0});
  return r;
}

FakeUpstream::Response FakeUpstream::AnthropicText(const std::vector<std::string>& deltas,
                                                   int input_tokens, int output_tokens) {
  std::vector<std::pair<std::string, std::string>> frames;
  frames.push_back(
      {"message_start", Json{{"type", "message_start"},
                             {"message",
                              {{"id", "msg_1"},
                               {"type", "message"},
                               {"role", "assistant"},
                               {"content", Json::array()},
                               {"model", "m"},
                               {"usage", {{"input_tokens", input_tokens}, {"output_tokens", 1}}}}}}
                            .dump()});
  frames.push_back(
      {"content_block_start",
       R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"});
  frames.push_back({"ping", R"({"type": "ping"})"});
  for (const auto& d : deltas) {
    frames.push_back({"content_block_delta", Json{{"type", "content_block_delta"},
                                                  {"index", 0},
                                                  {"delta", {{"type", "text_delta"}, {"text", d}}}}
                                                 .dump()});
  }
  frames.push_back({"content_block_stop", R"({"type":"content_block_stop","index":0})"});
  frames.push_back(
      {"message_delta", Json{{"type", "message_delta"},
                             {"delta", {{"stop_reason", "end_turn"}, {"stop_sequence", nullptr}}},
                             {"usage", {{"output_tokens", output_tokens}}}}
                            .dump()});
  frames.push_back({"message_stop", R"({"type":"message_stop"})"});
  return Sse(frames);
}

FakeUpstream::Response FakeUpstream::AnthropicToolUse(const std::string& id,
                                                      const std::string& name, const Json& input,
                                                      int input_tokens, int output_tokens) {
  std::string json = input.dump();
  std::string half1 = json.substr(0, json.size() / 2), half2 = json.substr(json.size() / 2);
  return Sse(
      {{"message_start", Json{{"type", "message_start"},
                              {"message",
                               {{"id", "msg_2"},
                                {"type", "message"},
                                {"role", "assistant"},
                                {"content", Json::array()},
                                {"model", "m"},
                                {"usage", {{"input_tokens", input_tokens}, {"output_tokens", 1}}}}}}
                             .dump()},
       {"content_block_start",
        Json{{"type", "content_block_start"},
             {"index", 0},
             {"content_block",
              {{"type", "tool_use"}, {"id", id}, {"name", name}, {"input", Json::object()}}}}
            .dump()},
       {"content_block_delta",
        Json{{"type", "content_block_delta"},
             {"index", 0},
             {"delta", {{"type", "input_json_delta"}, {"partial_json", half1}}}}
            .dump()},
       {"content_block_delta",
        Json{{"type", "content_block_delta"},
             {"index", 0},
             {"delta", {{"type", "input_json_delta"}, {"partial_json", half2}}}}
            .dump()},
       {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
       {"message_delta", Json{{"type", "message_delta"},
                              {"delta", {{"stop_reason", "tool_use"}, {"stop_sequence", nullptr}}},
                              {"usage", {{"output_tokens", output_tokens}}}}
                             .dump()},

       {"message_stop", R"({"type":"message_stop"})"}});
}

FakeUpstream::Response FakeUpstream::AnthropicThinking(const std::string& thinking,
                                                       const std::string& text) {
  return Sse(
      {{"message_start",
        R"({"type":"message_start","message":{"id":"msg_3","type":"message","role":"assistant","content":[],"model":"m","usage":{"input_tokens":5,"output_tokens":1}}})"},
       {"content_block_start",
        R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})"},
       {"content_block_delta", Json{{"type", "content_block_delta"},
                                    {"index", 0},
                                    {"delta", {{"type", "thinking_delta"}, {"thinking", thinking}}}}
                                   .dump()},
       {"content_block_delta",
        R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"c2ln"}})"},
       {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
       {"content_block_start",
        R"({"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}})"},
       {"content_block_delta", Json{{"type", "content_block_delta"},
                                    {"index", 1},
                                    {"delta", {{"type", "text_delta"}, {"text", text}}}}
                                   .dump()},
       {"content_block_stop", R"({"type":"content_block_stop","index":1})"},
       {"message_delta",
        R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":30}})"},
       {"message_stop", R"({"type":"message_stop"})"}});
}

FakeUpstream::Response FakeUpstream::OpenAiText(const std::vector<std::string>& deltas,
                                                int prompt_tokens, int completion_tokens) {
  std::vector<std::pair<std::string, std::string>> frames;
  auto chunk = [](const Json& delta, const Json& finish) {
    return Json{
        {"id", "chatcmpl-1"},
        {"object", "chat.completion.chunk"},
        {"model", "m"},
        {"choices", Json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}})}}
        .dump();
  };
  frames.push_back({"", chunk({{"role", "assistant"}, {"content", ""}}, nullptr)});
  for (const auto& d : deltas) frames.push_back({"", chunk({{"content", d}}, nullptr)});
  frames.push_back({"", chunk(Json::object(), "stop")});
  frames.push_back({"", Json{{"id", "chatcmpl-1"},
                             {"object", "chat.completion.chunk"},
                             {"choices", Json::array()},
                             {"usage",
                              {{"prompt_tokens", prompt_tokens},
                               {"completion_tokens", completion_tokens},
                               {"total_tokens", prompt_tokens + completion_tokens}}}}
                            .dump()});
  frames.push_back({"", "[DONE]"});
  return Sse(frames);
}

FakeUpstream::Response FakeUpstream::OpenAiToolCall(const std::string& id, const std::string& name,
                                                    const Json& arguments, bool whole) {
  std::vector<std::pair<std::string, std::string>> frames;
  auto chunk = [](const Json& delta, const Json& finish) {
    return Json{
        {"id", "chatcmpl-2"},
        {"object", "chat.completion.chunk"},
        {"choices", Json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}})}}
        .dump();
  };
  std::string args = arguments.dump();
  if (whole) {
    // Ollama: the whole call in one chunk, without an id.
    frames.push_back(
        {"",
         chunk(
             {{"role", "assistant"},
              {"tool_calls",
               Json::array({{{"index", 0}, {"function", {{"name", name}, {"arguments", args}}}}})}},
             nullptr)});
  } else {
    frames.push_back(
        {"",
         chunk({{"role", "assistant"},
                {"tool_calls", Json::array({{{"index", 0},
                                             {"id", id},
                                             {"type", "function"},
                                             {"function", {{"name", name}, {"arguments", ""}}}}})}},
               nullptr)});
    for (size_t i = 0; i < args.size(); i += 5) {
      frames.push_back(
          {"",
           chunk(
               {{"tool_calls",
                 Json::array({{{"index", 0}, {"function", {{"arguments", args.substr(i, 5)}}}}})}},
               nullptr)});
    }
  }
  frames.push_back({"", chunk(Json::object(), "tool_calls")});
  frames.push_back(
      {"",
       R"({"id":"chatcmpl-2","choices":[],"usage":{"prompt_tokens":30,"completion_tokens":10,"total_tokens":40}})"});
  frames.push_back({"", "[DONE]"});
  return Sse(frames);
}

}  // namespace scaffold::testing
