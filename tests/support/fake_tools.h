// A ToolHost for tests whose tools are plain functions, answered in a posted task.
#pragma once

#include <functional>
#include <map>

#include "engine/tool_host.h"

namespace scaffold::testing {

class FakeTools : public engine::ToolHost {
 public:
  using Fn = std::function<engine::ToolResult(const Json& input)>;
  void Add(const std::string& name, Fn fn) { tools_[name] = std::move(fn); }

  std::unique_ptr<engine::ToolCall> Call(const engine::ToolRequest& request,
                                         const engine::ToolDecl*, engine::Executor* executor,
                                         std::function<void(engine::ToolResult)> done) override {
    calls.push_back(request);
    auto cancelled = std::make_shared<bool>(false);
    auto it = tools_.find(request.tool_name);
    engine::ToolResult result =
        it == tools_.end()
            ? engine::ToolResult{Json("no tool named \"" + request.tool_name + "\""), true}
            : it->second(request.input);
    executor->Post([cancelled, done, result] {
      if (!*cancelled) done(result);
    });
    return std::make_unique<Handle>(cancelled);
  }

  std::vector<engine::ToolRequest> calls;

 private:
  class Handle : public engine::ToolCall {
   public:
    explicit Handle(std::shared_ptr<bool> c) : c_(std::move(c)) {}
    void Cancel() override { *c_ = true; }

   private:
    std::shared_ptr<bool> c_;
  };
  std::map<std::string, Fn> tools_;
};

}  // namespace scaffold::testing
