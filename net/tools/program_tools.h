// Client tools served by local programs: `scaffold run --tool NAME=PROGRAM` and
// `scaffold client URL --tool NAME=PROGRAM`.
//
// PROGRAM runs through /bin/sh -c (it is the user's own command line; the request reaches it
// only on stdin, never in the command), in the current directory, with the caller's
// environment. It reads one request JSON on stdin:
//   {"callId", "sessionId", "toolName", "input", "timeoutMs"}
// and writes one response JSON on stdout:
//   {"output": <any JSON>, "isError": false}
// A non-zero exit, no JSON object with "output" on stdout, or no answer within timeoutMs (the
// program and everything it started are killed) make the call a tool error that says which,
// with the end of the program's stderr.
#pragma once

#include <atomic>
#include <map>
#include <string>

#include "engine/tool_host.h"

namespace scaffold::net {

struct ToolProgram {
  std::string name;
  std::string program;
};

// "NAME=PROGRAM"; kInvalidArgument naming the flag when either side is empty.
Result<ToolProgram> ParseToolFlag(const std::string& flag);

// Runs `program` for one request; blocks.
engine::ToolResult RunToolProgram(const std::string& program, const Json& request,
                                  int64_t timeout_ms, const std::atomic<bool>* cancel);

// The client side of `run --tool`: each call runs its program on a thread of its own.
class ProgramTools : public engine::ToolHost {
 public:
  explicit ProgramTools(std::map<std::string, std::string> programs)
      : programs_(std::move(programs)) {}

  std::unique_ptr<engine::ToolCall> Call(const engine::ToolRequest& request,
                                         const engine::ToolDecl* decl, engine::Executor* executor,
                                         std::function<void(engine::ToolResult)> done) override;

 private:
  std::map<std::string, std::string> programs_;
};

}  // namespace scaffold::net
