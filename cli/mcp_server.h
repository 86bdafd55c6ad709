// WorkflowToolServer: `scaffold mcp`, the workflows of this machine as the tools of a Model
// Context Protocol server, for any MCP client (desktop assistants, IDEs, other agents).
//
// One JSON-RPC message per line in each direction (the stdio transport); the caller feeds lines
// in and writes lines out. Revisions 2025-11-25 and 2025-06-18: the client's is used when it
// is one of them, otherwise 2025-11-25.
//
// - tools/list: one tool per workflow (net/mcp/workflow_tools.h).
// - tools/call: runs a session, recorded in the usual database, and answers when it ends: its
//   result as text and as structuredContent {sessionId, status: "completed", result}, or a tool
//   error with the workflow's error; the text names the session and `scaffold events ID`.
//   A client that sent a progressToken gets notifications/progress at each phase entered.
// - Asks: put to the client as elicitation/create when it declared the elicitation capability
//   and the ask fits a form (approval, choice, text, and json asks whose schema is an object of
//   strings, numbers and booleans). Otherwise, or when the user declines or cancels (an approval
//   declined is answered "no"), the call answers with the pending ask (structuredContent
//   {sessionId, status: "waiting", ask}) and how to answer it, and the session is paused so that
//   `scaffold resume ID --answer ASK=VALUE` continues it.
// - notifications/cancelled pauses the call's session (resumable) and answers nothing.
// - What the client sends is hostile: a line that is not a JSON-RPC message gets a -32700 or
//   -32600 error and the server reads on; unknown methods get -32601, bad params -32602.
//
// Everything runs on the deps' executor.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "engine/session.h"
#include "net/mcp/workflow_tools.h"
#include "net/server/session_hub.h"

namespace scaffold::cli {

class WorkflowToolServer {
 public:
  struct Options {
    engine::SessionDeps deps;
    engine::RunOptions run;
    std::string version;                      // serverInfo.version
    std::function<void(std::string)> write;  // one message, without the newline
  };

  WorkflowToolServer(const std::map<std::string, net::ServedWorkflow>& workflows,
                     Options options);
  ~WorkflowToolServer();

  // One line from the client.
  void OnLine(std::string_view line);
  // The client is gone: running sessions are paused; `done` runs once no call is left.
  void OnInputClosed(std::function<void()> done);


 private:
  struct Tool {
    std::shared_ptr<const engine::Workflow> workflow;
    net::mcp::WorkflowTool tool;
  };
  struct Call;
  class ProgressSink;

  void OnRequest(const Json& id, const std::string& method, const Json& params);
  void OnResponse(int64_t id, const std::optional<Json>& result);
  void Initialize(const Json& id, const Json& params);
  void CallTool(const Json& id, const Json& params);
  void CancelCall(const Json& params);
  void OnAsk(int64_t call, const Json& request);
  void OnElicited(int64_t call, const std::string& ask_id, const Json& ask,
                  const std::optional<Json>& result);
  void AnswerWaiting(int64_t call, const std::string& why);
  void OnSessionEnd(int64_t call, const engine::SessionEnd& end);
  void Finish(int64_t call);

  void Reply(const Json& id, Json result);
  void ReplyError(const Json& id, int code, const std::string& message);
  void Send(const Json& message);

  Options options_;
  std::map<std::string, Tool> tools_;
  bool elicitation_ = false;  // the client can answer elicitation/create
  std::map<int64_t, std::unique_ptr<Call>> calls_;
  std::map<int64_t, std::pair<int64_t, std::string>> elicitations_;  // our request id -> call, ask
  int64_t next_call_ = 1;
  int64_t next_request_ = 1;
  std::function<void()> on_drained_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace scaffold::cli
