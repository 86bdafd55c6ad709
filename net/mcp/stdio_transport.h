// The MCP stdio transport: a server program started as a child process, JSON-RPC messages as
// single lines of UTF-8 JSON on its stdin and stdout, its stderr kept (the end of it) for logs.
//
// Everything the program sends is hostile: a line longer than max_message_bytes closes the
// transport (the program is killed), and so does the program exiting or closing its stdout.
// Lines are handed to `on_line` one at a time, in order, on the transport's reader thread;
// `on_closed` runs once, on that thread, after the last line, with why it closed.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "engine/status.h"
#include "net/mcp/transport.h"
#include "net/tools/child_process.h"

namespace scaffold::net::mcp {

struct StdioOptions {
  ChildSpec spec;  // argv, cwd and env; its timeout and output cap are not used
  int64_t max_message_bytes = 16 * 1024 * 1024;
  int64_t stderr_tail_bytes = 64 * 1024;
  int64_t write_timeout_ms = 10000;  // a program that stops reading its stdin
  int64_t stop_grace_ms = 2000;      // after stdin closes, before SIGTERM, then SIGKILL
};

class StdioTransport : public Transport {
 public:
  // Starts the program; fails when it cannot be started. Its lines are read (and the handlers
  // called) once Run() is called, so the owner can keep the transport before the first one.
  static Result<std::unique_ptr<StdioTransport>> Start(StdioOptions options, LineHandler on_line,
                                                       ClosedHandler on_closed);
  void Run() override;
  // Stops the program (Stop) and joins the reader.
  ~StdioTransport() override;
  StdioTransport(const StdioTransport&) = delete;
  StdioTransport& operator=(const StdioTransport&) = delete;

  // Writes one message (a newline is added; `json` must not contain one). Any thread. Fails
  // when the transport is closed or the program has not read it within write_timeout_ms.
  Status Send(std::string_view json) override;
  // Closes the program's stdin, gives it stop_grace_ms to exit, then SIGTERM, then SIGKILL to
  // its process group. Any thread except the reader's; idempotent.
  void Stop() override;
  // From `on_line` only (the reader thread): the stream is broken; the program is killed and
  // the transport closes with `why` once this line is handled.
  void Abort(const std::string& why) override;
  // The last stderr_tail_bytes the program wrote to stderr.
  std::string StderrTail() const override;
  bool closed() const { return closed_.load(); }

 private:
  StdioTransport(StdioOptions options, LineHandler on_line, ClosedHandler on_closed);
  void ReadLoop();
  void KillGroup(int signal);
  void KeepStderr(const char* data, size_t size);
  // The reader's end: why, once.
  void Close(const std::string& why);

  StdioOptions options_;
  LineHandler on_line_;
  ClosedHandler on_closed_;
  SpawnedChild child_;
  std::thread reader_;
  std::atomic<bool> closed_{false};
  std::atomic<bool> stopping_{false};
  std::string abort_;  // reader thread only
  std::mutex write_mu_;  // one message at a time on stdin; guards child_.in
  mutable std::mutex err_mu_;
  std::string stderr_tail_;
  int wake_[2] = {-1, -1};  // a pipe that wakes the reader to stop
};

}  // namespace scaffold::net::mcp
