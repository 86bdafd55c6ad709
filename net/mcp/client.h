// McpClient: the client side of the Model Context Protocol over the stdio transport
// (stdio_transport.h), for tools: the initialize handshake, tools/list and tools/call.
//
// Protocol revisions: the client asks for 2025-11-25 and accepts 2025-11-25 or 2025-06-18
// (the initialize handshake of both). A server answering any other revision is refused with
// what it offered. The stateless 2026-07-28 revision (no initialize, server/discover) is not
// spoken: servers that implement it also answer initialize with an older revision.
//
// Calls block the calling thread until the answer, the timeout, the cancel flag or the end of
// the transport, whichever comes first; several may be in flight from several threads. What the
// server sends is hostile: a line that is not a JSON-RPC 2.0 object ends the connection (the
// stream can no longer be trusted) and fails every call in flight; a result of the wrong shape
// fails its own call, naming the JSON path. Requests from the server are answered: ping with an
// empty result, anything else with "method not found". notifications/tools/list_changed is
// remembered (tools_changed()); other notifications are ignored.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/json.h"
#include "engine/status.h"
#include "net/mcp/messages.h"
#include "net/mcp/http_transport.h"
#include "net/mcp/stdio_transport.h"

namespace scaffold::net::mcp {

inline constexpr const char* kProtocolVersion = "2025-11-25";
inline constexpr const char* kPreviousProtocolVersion = "2025-06-18";

struct ClientOptions {
  int64_t initialize_timeout_ms = 30000;
  int max_list_pages = 100;   // tools/list pages followed (nextCursor)
  int max_tools = 1000;       // tools kept from a listing
  const std::atomic<bool>* cancel = nullptr;  // stops the handshake (borrowed, may be null)
};

class McpClient {
 public:
  // Starts the server program and performs the handshake.
  static Result<std::unique_ptr<McpClient>> Start(StdioOptions stdio, ClientOptions options = {});
  // Connects to a server over Streamable HTTP and performs the handshake.
  static Result<std::unique_ptr<McpClient>> StartHttp(HttpOptions http, ClientOptions options = {});
  ~McpClient();
  McpClient(const McpClient&) = delete;
  McpClient& operator=(const McpClient&) = delete;

  // Every tool the server lists, following pagination up to the options' bounds. A tool entry
  // without a name or with an input schema that is not an object is refused with its path.
  Result<std::vector<McpTool>> ListTools(int64_t timeout_ms,
                                         const std::atomic<bool>* cancel = nullptr);
  // tools/call. A call that times out or is cancelled is also cancelled at the server
  // (notifications/cancelled).
  Result<McpCallResult> CallTool(const std::string& name, const Json& arguments, int64_t timeout_ms,
                                 const std::atomic<bool>* cancel = nullptr);

  const std::string& protocol_version() const { return protocol_version_; }
  const Json& server_info() const { return server_info_; }
  // Whether the server said its tools changed since the last ListTools.
  bool tools_changed() const { return tools_changed_.load(); }
  // Why the connection ended, or empty while it is open.
  std::string closed_reason() const;
  std::string StderrTail() const { return transport_ ? transport_->StderrTail() : ""; }
  // " (its stderr ends: LAST LINE)", or "" when the server wrote nothing there.
  std::string StderrNote() const;
  // Stops the server (Transport::Stop); calls in flight fail.
  void Stop();

 private:
  struct Pending {
    std::string method;
    bool done = false;
    Result<Json> result = Status(ErrorCode::kUnavailable, "no answer");
  };

  explicit McpClient(ClientOptions options) : options_(options) {}
  // The handshake over a transport made by `open`; the failure quotes the server's stderr.
  static Result<std::unique_ptr<McpClient>> Connect(
      ClientOptions options,
      const std::function<Result<std::unique_ptr<Transport>>(Transport::LineHandler,
                                                             Transport::ClosedHandler)>& open);
  Status Initialize();
  // Sends a request and waits for its result (the "result" member) or its error.
  Result<Json> Request(const std::string& method, Json params, int64_t timeout_ms,
                       const std::atomic<bool>* cancel);
  Status Notify(const std::string& method, Json params);
  void OnLine(std::string_view line);
  void OnClosed(const std::string& why);
  // The connection is over: every call in flight fails with `why`.
  void Fail(const std::string& why);
  // A message broke the protocol (reader thread): the program is killed, every call fails.
  void Broken(const std::string& why);

  ClientOptions options_;
  std::unique_ptr<Transport> transport_;
  std::string protocol_version_;
  Json server_info_ = Json::object();
  std::atomic<bool> tools_changed_{false};

  mutable std::mutex mu_;
  std::condition_variable cv_;
  int64_t next_id_ = 1;
  std::map<int64_t, std::shared_ptr<Pending>> pending_;
  std::string closed_;  // why the connection ended
};

}  // namespace scaffold::net::mcp
