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

std::unique_ptr<ToolCall> NoToolHost::Call(const ToolRequest& request, const ToolDecl* decl,
                                           Executor* executor,
                                           std::function<void(ToolResult)> done) {
  auto cancelled = std::make_shared<bool>(false);
  std::string message = "no tool named \"" + request.tool_name + "\" is available";
  if (decl) message += ": " + decl->type + " tools are not available in this build";
  executor->Post([cancelled, done = std::move(done), message] {
    if (!*cancelled) done(ToolResult{Json(message), true});
  });
  return std::make_unique<PostedCall>(std::move(cancelled));
}

}  // namespace scaffold::engine
