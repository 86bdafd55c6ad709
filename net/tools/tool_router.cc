#include "net/tools/tool_router.h"

#include <thread>

#include "engine/schema.h"
#include "net/tools/builtin_tools.h"

namespace scaffold::net {
namespace {

class ThreadCall : public engine::ToolCall {
 public:
  struct Shared {
    std::atomic<bool> cancelled{false};
  };
  ThreadCall(std::shared_ptr<Shared> shared, std::thread thread)
      : shared_(std::move(shared)), thread_(std::move(thread)) {}
  ~ThreadCall() override { Cancel(); }
  void Cancel() override {
    shared_->cancelled = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::shared_ptr<Shared> shared_;
  std::thread thread_;
};

template <typename R>
std::unique_ptr<engine::ToolCall> WorkOnThread(engine::Executor* executor,
                                               std::function<R(const std::atomic<bool>&)> work,
                                               std::function<void(R)> done) {
  auto shared = std::make_shared<ThreadCall::Shared>();
  std::thread thread([shared, executor, work = std::move(work), done = std::move(done)]() mutable {
    R result = work(shared->cancelled);
    if (shared->cancelled) return;
    // Cancel() joins this thread before the executor can go away, so posting here is safe.
    executor->Post([shared, done = std::move(done), result = std::move(result)]() mutable {
      if (!shared->cancelled) done(std::move(result));
    });
  });
  return std::make_unique<ThreadCall>(std::move(shared), std::move(thread));
}

}  // namespace

std::unique_ptr<engine::ToolCall> RunOnThread(
    engine::Executor* executor, std::function<engine::ToolResult(const std::atomic<bool>&)> work,
    std::function<void(engine::ToolResult)> done) {
  return WorkOnThread<engine::ToolResult>(executor, std::move(work), std::move(done));
}

ToolRouter::ToolRouter(ToolRouterOptions options)
    : options_(std::move(options)), mcp_(std::make_shared<McpServers>(options_.data_dir)) {}

ToolRouter::~ToolRouter() = default;

void ToolRouter::EndSession(const std::string& session_id) {
  mcp_->EndSession(session_id);
}

std::string ToolRouter::McpRefusal(const engine::ToolDecl& decl) const {
  if (!options_.no_mcp_reason.empty()) return options_.no_mcp_reason;
  if (!options_.allow_commands && decl.url.empty()) {
    return "MCP servers are programs: tool \"" + decl.name +
           "\" runs only when scaffold is started with --allow-commands";
  }
  return "";
}

std::unique_ptr<engine::ToolCall> ToolRouter::ListTools(
    const engine::ToolRequest& request, const engine::ToolDecl& decl, engine::Executor* executor,
    std::function<void(engine::ToolListing)> done) {
  if (decl.type != "mcp") return engine::ToolHost::ListTools(request, decl, executor, std::move(done));
  if (std::string refusal = McpRefusal(decl); !refusal.empty()) {
    engine::ToolListing listing;
    listing.error = refusal;
    return engine::PostToolListing(executor, std::move(listing), std::move(done));
  }
  return WorkOnThread<engine::ToolListing>(
      executor,
      [mcp = mcp_, request, decl](const std::atomic<bool>& cancel) {
        return mcp->List(request, decl, cancel);
      },
      std::move(done));
}

std::optional<engine::ToolResult> CheckToolInput(const std::string& tool, const Json& schema,
                                                 const Json& input) {
  if (schema.is_object() && schema.empty()) return std::nullopt;
  auto compiled = engine::JsonSchema::Compile(schema);
  if (!compiled.ok()) {
    return engine::ToolResult{
        Json("tool \"" + tool + "\" has an invalid input_schema: " + compiled.status().message()),
        true};
  }
  auto violations = compiled->Validate(input);
  if (violations.empty()) return std::nullopt;
  return engine::ToolResult{Json("the input does not match tool \"" + tool +
                                 "\"'s input_schema: " + engine::DescribeViolations(violations)),
                            true};
}

std::unique_ptr<engine::ToolCall> ToolRouter::Call(const engine::ToolRequest& request,
                                                   const engine::ToolDecl* decl,
                                                   engine::Executor* executor,
                                                   std::function<void(engine::ToolResult)> done) {
  if (!decl) {
    return engine::PostToolResult(
        executor, {Json("no tool named \"" + request.tool_name + "\" is declared"), true},
        std::move(done));
  }
  if (auto bad = CheckToolInput(decl->name, decl->input_schema, request.input))
    return engine::PostToolResult(executor, std::move(*bad), std::move(done));

  if (decl->type == "client") {
    if (options_.client_tools)
      return options_.client_tools->Call(request, decl, executor, std::move(done));
    return engine::PostToolResult(
        executor,
        {Json("no client is connected to run tool \"" + decl->name + "\"" +
              (options_.no_client_hint ? options_.no_client_hint(decl->name) : "")),

         true},
        std::move(done));
  }
  if (decl->type == "mcp") {
    if (std::string refusal = McpRefusal(*decl); !refusal.empty())
      return engine::PostToolResult(executor, {Json(refusal), true}, std::move(done));
    return RunOnThread(
        executor,
        [mcp = mcp_, request, decl = *decl](const std::atomic<bool>& cancel) {
          return mcp->Call(request, decl, cancel);
        },
        std::move(done));
  }
  if (decl->type == "command" && !options_.allow_commands) {
    return engine::PostToolResult(
        executor,
        {Json("command tools are disabled: tool \"" + decl->name +
              "\" runs only when scaffold is started with --allow-commands"),
         true},
        std::move(done));
  }
  std::string workspace = WorkspacePath(options_.data_dir, request.owner, request.session_id);
  Json context = {{"input", request.input}, {"session", {{"id", request.session_id}}}};
  engine::ToolDecl copy = *decl;  // the thread may outlive this call's view of `decl`
  return RunOnThread(
      executor,
      [copy = std::move(copy), workspace, context,
       input = request.input](const std::atomic<bool>& cancel) -> engine::ToolResult {
        if (copy.type == "files") return RunFilesTool(copy, workspace, input);
        if (copy.type == "command") {
          std::string error = EnsureWorkspace(workspace);
          if (!error.empty()) return {Json("command: " + error), true};
          return RunCommandTool(copy, workspace, context, &cancel);
        }
        if (copy.type == "http") return RunHttpTool(copy, context, &cancel);
        return {Json("tool \"" + copy.name + "\" has an unknown type \"" + copy.type + "\""), true};
      },
      std::move(done));
}

}  // namespace scaffold::net
