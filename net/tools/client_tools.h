// ClientToolBroker: client tools (DESIGN §7) run by the user's own connected client — a desktop
// app on a WebSocket with ?client=osclient that sent `tools:register`.
//
// A call goes to the most recently registered client of the session's owner that offers the
// tool; another user's clients never see it. The input is checked against the schema the
// client registered (the workflow's own input_schema is checked before, by ToolRouter). The
// client gets `tool:request {callId, sessionId, toolName, input, timeoutMs}` and answers with
// `tool:response {callId, output, isError?}`. No client, no such tool, timeout, the client
// disconnecting mid-call and a malformed response all end the call with a tool error that says
// which; none of them can crash or hang a session. callIds on the wire are the broker's own
// UUIDs, so only the client a request went to can answer it.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/tool_host.h"

namespace scaffold::net {

// A connection that serves client tools.
class ToolClientConnection {
 public:
  virtual ~ToolClientConnection() = default;
  // Queues one text frame; called from any thread and must not block.
  virtual void SendFrame(std::string text) = 0;
};

struct RegisteredTool {
  std::string name;
  std::string description;
  Json input_schema = Json::object();
};

// Reads the `tools` array of a tools:register frame; the error says what is wrong and where.
Result<std::vector<RegisteredTool>> ParseToolRegistration(const Json& frame);

class ClientToolBroker : public engine::ToolHost {
 public:
  ClientToolBroker();
  ~ClientToolBroker() override;

  // Registers `tools` for `connection` (replacing what it registered before) as its owner's
  // most recent client.
  void Register(const std::string& owner, std::shared_ptr<ToolClientConnection> connection,
                std::vector<RegisteredTool> tools);
  // The connection closed: it gets no more calls, and its calls in flight end with an error.
  void Unregister(const ToolClientConnection* connection);
  // A tool:response from `connection`. Returns what to tell the client when the frame cannot
  // be used ("" when it was): a malformed response to a known call also ends that call with an
  // error.
  std::string Respond(const ToolClientConnection* connection, const Json& frame);

  std::unique_ptr<engine::ToolCall> Call(const engine::ToolRequest& request,
                                         const engine::ToolDecl* decl, engine::Executor* executor,
                                         std::function<void(engine::ToolResult)> done) override;

  // Connected clients with registered tools (all users), and calls waiting for an answer.
  size_t clients() const;
  size_t pending() const;

  // What the connected clients offer, for other nodes to find (net/tools/cluster_tools.h): per
  // client, its owner, when it registered (Unix ms) and its tools' names.
  struct Offer {
    std::string owner;
    int64_t registered_ms = 0;
    std::vector<std::string> tools;
  };
  std::vector<Offer> Offers() const;
  // Whether a connected client of `owner` offers `tool`.
  bool Offers(const std::string& owner, const std::string& tool) const;
  // Called (on the registering or closing connection's thread) after every Register and
  // Unregister. Set once, before any client connects.
  void OnChange(std::function<void()> callback) { on_change_ = std::move(callback); }

 private:
  struct Client;
  struct Pending;
  // Ends the call `call_id` (if still pending) with `result`.
  void Complete(const std::string& call_id, engine::ToolResult result);

  std::function<void()> on_change_;
  mutable std::mutex mu_;
  uint64_t next_seq_ = 0;                                    // guarded by mu_
  std::vector<Client> clients_;                              // guarded by mu_
  std::map<std::string, std::shared_ptr<Pending>> pending_;  // by wire callId; guarded by mu_
};

}  // namespace scaffold::net
