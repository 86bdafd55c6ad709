// ToolHost: how the engine runs tools (DESIGN §7), for agents' tool calls and `tool` phases.
// Implementations route by the declaration's type: client tools to the user's connected client,
// built-in files/command/http tools to their runners.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/executor.h"
#include "engine/json.h"
#include "engine/tool_listing.h"
#include "engine/workflow.h"

namespace scaffold::engine {

struct ToolRequest {
  std::string session_id;
  std::string owner;    // the session's owner; client tools go only to this user's clients
  std::string agent;    // empty for a `tool` phase
  std::string call_id;  // the model's tool_use id, or a generated one
  std::string tool_name;  // as the model or the phase named it ("fs__read_file")
  Json input = Json::object();
  std::string server_tool;  // mcp: the server's name of the tool ("read_file")
  std::optional<int> index;  // the agent's item in an `each` phase
};

struct ToolResult {
  Json output;  // a string or any JSON value
  bool is_error = false;
};

// A call made outside any phase (Session::CallTool): its recorded toolId and result.
struct ToolCallOutcome {
  std::string call_id;
  ToolResult result;
};

class ToolCall {
 public:
  virtual ~ToolCall() = default;
  // Stops the call; its completion callback will not run afterwards.
  virtual void Cancel() = 0;
};

class ToolHost {
 public:
  virtual ~ToolHost() = default;
  // Runs the tool declared by `decl` (null when the workflow declares no such tool). `done`
  // runs exactly once on `executor`, never inside Call(), unless the call is cancelled.
  // Failures (unknown tool, timeout, client gone) are results with is_error, never crashes.
  virtual std::unique_ptr<ToolCall> Call(const ToolRequest& request, const ToolDecl* decl,
                                         Executor* executor,
                                         std::function<void(ToolResult)> done) = 0;

  // Lists the tools of the MCP server declared by `decl` (request.tool_name is its entry's
  // name), as the server describes them; PrepareListing filters and names them. `done` runs
  // once on `executor`, never inside ListTools(), unless cancelled. A failure is a listing with
  // an error. The default has no MCP servers.
  virtual std::unique_ptr<ToolCall> ListTools(const ToolRequest& request, const ToolDecl& decl,
                                              Executor* executor,
                                              std::function<void(ToolListing)> done);

  // The session ended (completed, failed, paused) or was cancelled: what it started for its
  // tools (MCP servers) may stop. On the session's executor.
  virtual void EndSession(const std::string& session_id) { (void)session_id; }
};

// Calls `done(result)` on `executor` after the caller returns (never inside it); cancelling
// the returned call first stops it. For hosts that know the result at once.
std::unique_ptr<ToolCall> PostToolResult(Executor* executor, ToolResult result,
                                         std::function<void(ToolResult)> done);

// As PostToolResult, for a listing.
std::unique_ptr<ToolCall> PostToolListing(Executor* executor, ToolListing listing,
                                          std::function<void(ToolListing)> done);

// A ToolHost with no tools: every call ends with "no tool named X".
class NoToolHost : public ToolHost {
 public:
  std::unique_ptr<ToolCall> Call(const ToolRequest& request, const ToolDecl* decl,
                                 Executor* executor, std::function<void(ToolResult)> done) override;
};

}  // namespace scaffold::engine
