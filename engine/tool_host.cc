#include "engine/tool_host.h"

namespace scaffold::engine {
namespace {

class PostedCall : public ToolCall {
 public:
  explicit PostedCall(std::shared_ptr<bool> cancelled) : cancelled_(std::move(cancelled)) {}
  ~PostedCall() override { Cancel(); }
  void Cancel() override { *cancelled_ = true; }

 private:
  std::shared_ptr<bool> cancelled_;
};

}  // namespace

std::unique_ptr<ToolCall> PostToolResult(Executor* executor, ToolResult result,
                                         std::function<void(ToolResult)> done) {
  auto cancelled = std::make_shared<bool>(false);
  executor->Post([cancelled, done = std::move(done), result = std::move(result)]() mutable {
    if (!*cancelled) done(std::move(result));
  });
  return std::make_unique<PostedCall>(std::move(cancelled));
}

std::unique_ptr<ToolCall> PostToolListing(Executor* executor, ToolListing listing,
                                          std::function<void(ToolListing)> done) {
  auto cancelled = std::make_shared<bool>(false);
  executor->Post([cancelled, done = std::move(done), listing = std::move(listing)]() mutable {
    if (!*cancelled) done(std::move(listing));
  });
  return std::make_unique<PostedCall>(std::move(cancelled));
}

std::unique_ptr<ToolCall> ToolHost::ListTools(const ToolRequest& request, const ToolDecl&,
                                              Executor* executor,
                                              std::function<void(ToolListing)> done) {
  ToolListing listing;
  listing.error = "MCP servers are not available here: tool \"" + request.tool_name +
                  "\" cannot be listed";
  return PostToolListing(executor, std::move(listing), std::move(done));
}

std::unique_ptr<ToolCall> NoToolHost::Call(const ToolRequest& request, const ToolDecl* decl,
                                           Executor* executor,
                                           std::function<void(ToolResult)> done) {
  std::string message = "no tool named \"" + request.tool_name + "\" is available";
  if (decl) message += ": " + decl->type + " tools are not available in this build";
  return PostToolResult(executor, ToolResult{Json(message), true}, std::move(done));
}

}  // namespace scaffold::engine
