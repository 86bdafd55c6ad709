// Clients for server tests: plain HTTP requests (libcurl), SSE streams read back with the
// project's own SSE parser, and WebSocket connections (Beast).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/json.h"
#include "net/sse_parser.h"

namespace scaffold::testing {

struct HttpResult {
  int status = 0;  // 0: the request failed at the network level
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  Json json() const { return Json::parse(body, nullptr, false); }
};

HttpResult Http(const std::string& method, const std::string& url, const std::string& body = "",
                const std::vector<std::string>& headers = {}, int timeout_ms = 10000);

// An SSE stream read on a thread of its own.
class SseClient {
 public:
  SseClient(const std::string& url, const std::vector<std::string>& headers = {});
  ~SseClient();

  // Waits until `done(events)` holds or the time runs out; returns whether it held.
  bool WaitFor(const std::function<bool(const std::vector<net::SseEvent>&)>& done,
               int timeout_ms = 10000);
  // Waits for the server to end the stream.
  bool WaitForEnd(int timeout_ms = 10000);
  std::vector<net::SseEvent> events();
  int status();
  std::map<std::string, std::string> headers();
  std::string comments_seen();  // raw text of lines starting with ':'
  // Stops reading and drops the connection.
  void Close();

 private:
  struct State;
  std::shared_ptr<State> state_;
  std::thread thread_;
};

// A WebSocket connection (text frames of JSON).
class WsClient {
 public:
  // `target` is the path and query, e.g. "/ws?token=...".
  WsClient(uint16_t port, const std::string& target,
           const std::vector<std::pair<std::string, std::string>>& headers = {});
  ~WsClient();
  bool connected() const;
  const std::string& error() const;

  void Send(const std::string& text);
  void Send(const Json& message) { Send(message.dump()); }
  // The next message, or nullopt after the timeout or when the connection closed.
  std::optional<Json> Receive(int timeout_ms = 10000);
  // Receives until a message satisfies `match` (others are dropped).
  std::optional<Json> ReceiveUntil(const std::function<bool(const Json&)>& match,
                                   int timeout_ms = 10000);
  // The close code the server sent, once closed (0 before).
  int close_code();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A plain TCP connection to 127.0.0.1, for what well-behaved clients never do: send half a
// request, stop reading, ignore pings.
class RawSocket {
 public:
  // `receive_buffer` > 0 shrinks the socket's receive buffer (before connecting).
  explicit RawSocket(uint16_t port, int receive_buffer = 0);
  ~RawSocket();
  bool connected() const { return fd_ >= 0 && connected_; }
  bool Send(const std::string& bytes);
  // What arrives within `timeout_ms` (stops early once `until` appears, when given).
  std::string Read(int timeout_ms, const std::string& until = "");
  // Reads and discards until the server closes the connection; false after `timeout_ms`.
  bool WaitClosed(int timeout_ms);

 private:
  int fd_ = -1;
  bool connected_ = false;
};

}  // namespace scaffold::testing
