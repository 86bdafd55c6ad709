#include "net/server/mcp_route.h"

#include "net/server/api.h"

#include <atomic>

#include "net/mcp/client.h"
#include "net/mcp/messages.h"
#include "net/mcp/workflow_tools.h"

namespace scaffold::net {
namespace {

ApiResponse Rpc(const Json& id, Json result) {
  return ApiResponse::WithJson(200, {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}});
}

ApiResponse RpcError(int http, const Json& id, int code, const std::string& message) {
  return ApiResponse::WithJson(
      http, {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}});
}

// Watches a call's session until it completes, fails or waits for an answer, and answers the
// call then, once. Lives until it answered (it holds itself), or until the session is gone.
class CallWatch : public Subscriber, public std::enable_shared_from_this<CallWatch> {
 public:
  CallWatch(SessionHub* hub, std::string session_id, Json request_id,
            std::function<void(ApiResponse)> reply)
      : hub_(hub),
        session_id_(std::move(session_id)),
        request_id_(std::move(request_id)),
        reply_(std::move(reply)) {}

  void Start(const std::string& owner) {
    self_ = shared_from_this();
    hub_->Subscribe(owner, session_id_, self_, [this](const Status& s) {
      if (!s.ok()) return Answer(mcp::ErrorResult(s.message()));
      // Events before now are in the store; later ones come to OnEvents.
      auto events = hub_->store()->ReadEvents(session_id_, 0, 1000000);
      if (!events.ok()) return Answer(mcp::ErrorResult(events.status().message()));
      for (const auto& e : *events) Consider(e->name, e->payload);
      Settle();
    });
  }

  void OnEvents(const FrameBatch& frames) override {
    for (const auto& frame : *frames) {
      // "id: N\nevent: NAME\ndata: {event}\n\n"
      const std::string& sse = frame->sse;
      size_t name_at = sse.find("\nevent: ");
      size_t data_at = sse.find("\ndata: ");
      if (name_at == std::string::npos || data_at == std::string::npos) continue;
      std::string name = sse.substr(name_at + 8, sse.find('\n', name_at + 8) - name_at - 8);
      if (name != engine::events::kInputRequested && name != engine::events::kInputReceived &&
          !engine::IsFinalEvent(name))
        continue;
      auto event = ParseJson(std::string_view(sse).substr(data_at + 7));
      if (!event.ok() || !event->is_object()) continue;
      Consider(name, event->value("payload", Json::object()));
    }
    Settle();
  }

  void OnSessionGone() override { Answer(mcp::ErrorResult("the session was deleted")); }

 private:
  void Consider(const std::string& name, const Json& payload) {
    if (answered_) return;
    if (name == engine::events::kInputRequested) {
      pending_ = payload;
    } else if (name == engine::events::kInputReceived) {
      if (pending_.is_object() && pending_.value("id", "") == payload.value("id", ""))
        pending_ = Json();
    } else if (name == engine::events::kWorkflowCompleted) {
      Answer(mcp::CompletedResult(session_id_, payload.value("result", Json())));
    } else if (name == engine::events::kWorkflowError) {
      Json error = payload.value("error", Json::object());
      if (!error.is_object()) error = Json::object();
      Answer(mcp::FailedResult(session_id_, error.value("code", "error"),
                               error.value("message", "the workflow failed")));
    }
  }

  // After a batch: a session left waiting is answered with its ask.
  void Settle() {
    if (answered_ || !pending_.is_object()) return;
    std::string how = "Answer it with POST /sessions/" + session_id_ +
                      "/input {\"id\": \"" + pending_.value("id", "") +
                      "\", \"value\": ...} on this server, in its web console, or with "
                      "scaffold attach.";
    Answer(mcp::WaitingResult(session_id_, pending_, how));
  }

  void Answer(Json result) {
    if (answered_.exchange(true)) return;
    reply_(Rpc(request_id_, std::move(result)));
    hub_->Unsubscribe(session_id_, this);
    self_.reset();  // the hub holds a weak reference; whoever is calling holds a strong one
  }

  SessionHub* hub_;
  std::string session_id_;
  Json request_id_;
  std::function<void(ApiResponse)> reply_;
  Json pending_;  // the ask waiting, while one does
  std::atomic<bool> answered_{false};
  std::shared_ptr<CallWatch> self_;
};

}  // namespace

void McpRoute::Handle(const ApiRequest& r, std::function<void(ApiResponse)> reply) {
  if (r.method != "POST") {
    auto res = ApiResponse::Error(405, "method_not_allowed",
                                  "POST MCP messages to /mcp; this server opens no stream of its own");
    res.headers.push_back({"Allow", "POST"});
    return reply(res);
  }
  if (auto v = r.headers.find("mcp-protocol-version"); v != r.headers.end()) {
    if (v->second != mcp::kProtocolVersion && v->second != mcp::kPreviousProtocolVersion)
      return reply(RpcError(400, nullptr, -32600,
                            "unsupported MCP-Protocol-Version \"" + v->second.substr(0, 40) + "\""));
  }
  auto message = mcp::ParseMessage(r.body);
  if (!message.ok()) {
    bool json = ParseJson(r.body).ok();
    return reply(RpcError(400, nullptr, json ? -32600 : -32700, message.status().message()));
  }
  if (message->kind != mcp::Message::Kind::kRequest) {
    ApiResponse accepted;
    accepted.status = 202;
    return reply(accepted);
  }
  const Json& id = message->id;
  const std::string& method = message->method;
  if (method == "initialize") {
    return reply(Rpc(id, {{"protocolVersion", mcp::NegotiateVersion(message->params)},
                          {"capabilities", {{"tools", {{"listChanged", false}}}}},
                          {"serverInfo", {{"name", "scaffold"}, {"version", SCAFFOLD_NET_VERSION}}}}));
  }
  if (method == "ping") return reply(Rpc(id, Json::object()));
  if (method == "tools/list") {
    Json tools = Json::array();
    for (const auto& [name, w] : hub_->workflows())
      tools.push_back(mcp::DescribeWorkflowTool(name, *w.workflow).definition);
    return reply(Rpc(id, {{"tools", std::move(tools)}}));
  }
  if (method == "tools/call") return CallTool(r, id, message->params, std::move(reply));
  reply(RpcError(200, id, -32601, "method not found: " + method.substr(0, 100)));
}

void McpRoute::CallTool(const ApiRequest& r, const Json& id, const Json& params,
                        std::function<void(ApiResponse)> reply) {
  auto call = mcp::ReadCallParams(params);
  if (!call.ok()) return reply(RpcError(200, id, -32602, call.status().message()));
  for (const auto& [name, w] : hub_->workflows()) {
    auto tool = mcp::DescribeWorkflowTool(name, *w.workflow);
    if (tool.definition["name"] != call->name) continue;
    auto session = hub_->Create(r.user, name, mcp::WorkflowInput(tool, call->arguments));
    if (!session.ok()) return reply(Rpc(id, mcp::ErrorResult(session.status().message())));
    auto watch = std::make_shared<CallWatch>(hub_, *session, id, std::move(reply));
    watch->Start(r.user);
    return;
  }
  reply(RpcError(200, id, -32602, "unknown tool: " + call->name.substr(0, 100)));
}

}  // namespace scaffold::net
