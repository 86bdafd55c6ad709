// A connection to an MCP server, as McpClient uses it: whole JSON-RPC messages out (Send) and
// in (the line handler), whatever carries them. Implemented by the stdio transport (a child
// process, stdio_transport.h) and the Streamable HTTP transport (http_transport.h).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "engine/status.h"

namespace scaffold::net::mcp {

class Transport {
 public:
  using LineHandler = std::function<void(std::string_view message)>;
  using ClosedHandler = std::function<void(const std::string& why)>;

  virtual ~Transport() = default;
  // Starts delivering what the server sends to the handlers (one message at a time, in order,
  // on a thread of the transport's); `on_closed` runs once, after the last message.
  virtual void Run() = 0;
  // Sends one message. Any thread.
  virtual Status Send(std::string_view json) = 0;
  // Ends the connection; idempotent. Any thread except the handlers'.
  virtual void Stop() = 0;
  // From the line handler only: what the server sent cannot be trusted; the connection closes
  // with `why` once this message is handled.
  virtual void Abort(const std::string& why) = 0;
  // What the server wrote for people (a program's stderr), the end of it; may be empty.
  virtual std::string StderrTail() const { return ""; }
  // The revision the handshake settled on, for transports that send it with every message.
  virtual void SetProtocolVersion(const std::string& version) { (void)version; }
};

}  // namespace scaffold::net::mcp
