// McpServers: the MCP servers of tools entries of type "mcp" (DESIGN §7), one per session and
// entry, started on first use (an agent's listing) and stopped when the session ends.
//
// A server is the entry's `command` (templates rendered against {session: {id, workspace},
// env: scaffold's environment}), started in the session's workspace with an explicit
// environment: PATH=/usr/local/bin:/usr/bin:/bin, HOME and TMPDIR the workspace, LANG=C.UTF-8,
// then the entry's `env` (templates, same context), and nothing else. Its stderr is kept (the
// last 64 KiB) and quoted when it fails to start. Or it is the entry's `url` (Streamable HTTP,
// net/mcp/http_transport.h), with its `headers` (templates, same context), refused unless its
// host is in the entry's allow_hosts; its session ends (DELETE) with scaffold's.
//
// Everything that goes wrong is a result with is_error, never an exception: a program that
// cannot start, a handshake that fails, a server that dies (the next use starts it again),
// malformed messages, a call slower than the entry's timeout_ms (cancelled at the server), a
// result larger than max_output_bytes (cut, saying so).
//
// A listing is kept until the server says its tools changed (notifications/tools/list_changed)
// or the server is started again.
//
// Thread-safety: every method may be called from any thread; calls to one server run
// concurrently, its start and its listings one at a time.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/tool_host.h"
#include "net/mcp/client.h"

namespace scaffold::net {

class McpServers {
 public:
  explicit McpServers(std::string data_dir) : data_dir_(std::move(data_dir)) {}
  ~McpServers();  // stops every server and waits for them
  McpServers(const McpServers&) = delete;
  McpServers& operator=(const McpServers&) = delete;

  // request.tool_name is the entry's name.
  engine::ToolListing List(const engine::ToolRequest& request, const engine::ToolDecl& decl,
                           const std::atomic<bool>& cancel);
  // request.server_tool is the server's name of the tool.
  engine::ToolResult Call(const engine::ToolRequest& request, const engine::ToolDecl& decl,
                          const std::atomic<bool>& cancel);
  // Stops the session's servers (on a thread of their own: a server gets a grace period).
  void EndSession(const std::string& session_id);

  // How many servers run (for tests).
  size_t running() const;

 private:
  struct Server {
    std::mutex mu;  // start and listing
    std::shared_ptr<mcp::McpClient> client;
    std::optional<std::vector<mcp::McpTool>> tools;
  };

  std::shared_ptr<Server> Find(const std::string& session_id, const std::string& entry);
  // The server's client, started (again) when it is not running. Called with server.mu held.
  Result<std::shared_ptr<mcp::McpClient>> Connect(Server* server,
                                                  const engine::ToolRequest& request,
                                                  const engine::ToolDecl& decl,
                                                  const std::atomic<bool>& cancel);

  const std::string data_dir_;
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, std::shared_ptr<Server>>> sessions_;
  struct Stopping {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Stopping> stopping_;  // joined once done (at the next EndSession) or at the end
};

// A tools/call result as a tool result: structuredContent when the server sent it, otherwise
// the content blocks as text (images, audio and binary resources described, resource links
// named), cut at `max_bytes` with a note saying so.
engine::ToolResult ToolResultOf(const mcp::McpCallResult& result, int64_t max_bytes);

}  // namespace scaffold::net
