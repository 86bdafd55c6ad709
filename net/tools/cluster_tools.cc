#include "net/tools/cluster_tools.h"

#include <atomic>
#include <cstdio>

#include "engine/json_reader.h"
#include "net/server/strand_executor.h"

namespace scaffold::net {
namespace {

// A call sent to another node: only the flag that stops its answer from being delivered.
class RemoteCall : public engine::ToolCall {
 public:
  explicit RemoteCall(std::shared_ptr<std::atomic<bool>> cancelled)
      : cancelled_(std::move(cancelled)) {}
  void Cancel() override { *cancelled_ = true; }

 private:
  std::shared_ptr<std::atomic<bool>> cancelled_;
};

engine::ToolResult Error(std::string message) {
  return {Json(std::move(message)), true};
}

// Slack beyond the tool's own timeout for the round trip through the database.
constexpr int64_t kRelayMs = 5000;

}  // namespace

ClusterToolHost::ClusterToolHost(ClientToolBroker* broker, Cluster* cluster,
                                 boost::asio::io_context* io)
    : broker_(broker), cluster_(cluster), served_(std::make_unique<StrandExecutor>(io)) {
  broker_->OnChange([this] { Publish(); });
}

void ClusterToolHost::Publish() {
  Json offers = Json::array();
  for (const auto& o : broker_->Offers())
    offers.push_back({{"owner", o.owner}, {"registeredMs", o.registered_ms}, {"tools", o.tools}});
  Status s = cluster_->PublishTools(offers);
  if (!s.ok())
    std::fprintf(stderr, "scaffold serve: cannot tell the other nodes about client tools: %s\n",
                 s.message().c_str());
}

void ClusterToolHost::Withdraw() {
  (void)cluster_->PublishTools(Json::array());
}

std::unique_ptr<engine::ToolCall> ClusterToolHost::Call(
    const engine::ToolRequest& request, const engine::ToolDecl* decl, engine::Executor* executor,
    std::function<void(engine::ToolResult)> done) {
  if (broker_->Offers(request.owner, request.tool_name))
    return broker_->Call(request, decl, executor, std::move(done));
  auto node = cluster_->ToolNode(request.owner, request.tool_name);
  // Nobody anywhere: the broker says so as on one node.
  if (!node.ok() || node->empty()) return broker_->Call(request, decl, executor, std::move(done));
  int64_t timeout_ms = decl ? decl->timeout_ms : 30000;
  Json message = {{"op", "client_tool"},       {"owner", request.owner},
                  {"id", request.session_id},  {"agent", request.agent},
                  {"callId", request.call_id}, {"toolName", request.tool_name},
                  {"input", request.input},    {"timeoutMs", timeout_ms}};
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  std::string name = request.tool_name;
  cluster_->Send(*node, std::move(message), timeout_ms + kRelayMs,
                 [executor, cancelled, name, done = std::move(done)](Result<Json> reply) mutable {
                   engine::ToolResult result;
                   if (!reply.ok()) {
                     result = Error("tool \"" + name + "\": " + reply.status().message());
                   } else {
                     JsonReader in(*reply);
                     int64_t code = in.OptInt("code", 0, 100).value_or(0);
                     std::string text = in.OptString("message").value_or("");
                     JsonReader value = in.Child("value");
                     result.output = code == 0 ? value.Value("output") : Json(text);
                     result.is_error = code != 0 || value.OptBool("isError").value_or(false);
                     if (!in.ok()) result = Error("a malformed answer from the client's node");
                   }
                   executor->Post([cancelled, result = std::move(result), done]() mutable {
                     if (!*cancelled) done(std::move(result));
                   });
                 });
  return std::make_unique<RemoteCall>(cancelled);
}

void ClusterToolHost::Serve(const Json& request, std::function<void(Json)> reply) {
  JsonReader in(request);
  engine::ToolRequest call;
  call.owner = in.String("owner", true);
  call.session_id = in.String("id");
  call.agent = in.OptString("agent").value_or("");
  call.call_id = in.OptString("callId").value_or("");
  call.tool_name = in.String("toolName");
  call.input = in.Value("input");
  engine::ToolDecl decl;
  decl.name = call.tool_name;
  decl.type = "client";
  decl.timeout_ms = in.Int("timeoutMs", 1, 3600000);
  if (!in.ok()) {
    return reply(
        {{"code", static_cast<int>(in.status().code())}, {"message", in.status().message()}});
  }
  // The call lives until it is answered (its answer holds it).
  auto holder = std::make_shared<std::unique_ptr<engine::ToolCall>>();
  *holder = broker_->Call(call, &decl, served_.get(),
                          [holder, reply = std::move(reply)](engine::ToolResult r) {
                            reply({{"code", 0},
                                   {"message", ""},
                                   {"value", {{"output", r.output}, {"isError", r.is_error}}}});
                          });
}

}  // namespace scaffold::net
