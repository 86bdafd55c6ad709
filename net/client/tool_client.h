// ToolClient: the reference desktop client behind `scaffold client URL --tool NAME=PROGRAM`.
//
// It connects to URL's /ws?client=osclient (the token as "Authorization: Bearer"), registers
// its tools, and answers every tool:request by running the tool's program (program_tools.h),
// several at once when requests overlap. When the connection drops or cannot be made, it
// reconnects after 250 ms, doubling up to 8 s, and registers again; the backoff starts over
// once a registration is accepted. Plain ws:// only (http://HOST:PORT is read as ws://).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/status.h"
#include "net/tools/program_tools.h"

namespace scaffold::net {

struct ToolClientOptions {
  std::string url;  // http://HOST:PORT or ws://HOST:PORT
  std::string token;
  std::vector<ToolProgram> tools;
  int64_t timeout_ms = 30000;  // per request when the server sends no timeoutMs
  // One line of progress ("connected ...", "tool:request ...", "disconnected ...").
  std::function<void(const std::string&)> log;
  int max_connects = 0;  // give up after this many failed connects in a row; 0: never
};

class ToolClient {
 public:
  explicit ToolClient(ToolClientOptions options);
  ~ToolClient();

  // Connects and serves until Stop() (ok) or max_connects failures in a row (kUnavailable).
  // kInvalidArgument for a URL it cannot use.
  Status Run();
  // Thread-safe; Run() returns soon after, killing programs still running.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scaffold::net
