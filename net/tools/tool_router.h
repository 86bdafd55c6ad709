// ToolRouter: the ToolHost of `scaffold run` and `scaffold serve`. It checks the call's input
// against the tool's input_schema, then routes by the declaration's type:
//  - client:  to `client_tools` (the server's ClientToolBroker, or the programs of
//             `run --tool NAME=PROGRAM`); without one, a "no client" error;
//  - files:   RunFilesTool in the session's workspace;
//  - command: RunCommandTool, only when `allow_commands`;
//  - http:    RunHttpTool;
//  - mcp:     McpServers (mcp_tools.h); a server started as a program only when
//             `allow_commands`, one at a URL only at its allow_hosts.
// Built-in tools run on a thread of their own per call, so a session's executor never blocks
// on a disk, a child process or a network; cancelling a call kills its process or aborts its
// transfer.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "engine/tool_host.h"
#include "net/tools/mcp_tools.h"

namespace scaffold::net {

struct ToolRouterOptions {
  std::string data_dir;                      // workspaces live in <data_dir>/workspaces
  bool allow_commands = false;               // --allow-commands
  engine::ToolHost* client_tools = nullptr;  // borrowed; may be null
                                             // Appended to the "no client" error of a tool, e.g. "
                                             // (serve it with --tool NAME=...)".
  std::function<std::string(const std::string& tool)> no_client_hint;
  // Not empty: MCP servers are never started, listings and calls fail with this reason
  // (`run --mode playback`).
  std::string no_mcp_reason;
};

class ToolRouter : public engine::ToolHost {
 public:
  explicit ToolRouter(ToolRouterOptions options);
  ~ToolRouter() override;

  std::unique_ptr<engine::ToolCall> Call(const engine::ToolRequest& request,
                                         const engine::ToolDecl* decl, engine::Executor* executor,
                                         std::function<void(engine::ToolResult)> done) override;
  std::unique_ptr<engine::ToolCall> ListTools(
      const engine::ToolRequest& request, const engine::ToolDecl& decl,
      engine::Executor* executor, std::function<void(engine::ToolListing)> done) override;
  void EndSession(const std::string& session_id) override;

  McpServers& mcp_servers() { return *mcp_; }

 private:
  // Why an MCP server may not start here, or "".
  std::string McpRefusal(const engine::ToolDecl& decl) const;

  ToolRouterOptions options_;
  // Shared with the threads of calls in flight, which may outlive the router (a server shutting
  // down destroys its sessions, and their calls, after the router).
  std::shared_ptr<McpServers> mcp_;
};

// Runs `work` on a thread of its own and `done` with its result on `executor`. Cancel() (on the
// executor) sets the flag `work` receives and waits for the thread to return.
std::unique_ptr<engine::ToolCall> RunOnThread(
    engine::Executor* executor, std::function<engine::ToolResult(const std::atomic<bool>&)> work,
    std::function<void(engine::ToolResult)> done);

// The input's schema violations as a tool error, or nullopt when `input` fits `schema`.
std::optional<engine::ToolResult> CheckToolInput(const std::string& tool, const Json& schema,
                                                 const Json& input);

}  // namespace scaffold::net
