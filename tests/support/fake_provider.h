// A scripted Provider for engine tests: each agent gets a queue of replies, streamed as posted
// tasks the way a real client delivers them. Records every request it receives.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/provider.h"

namespace scaffold::testing {

struct Reply {
  std::vector<std::string> deltas;  // text, streamed one delta per task
  std::string thinking;
  std::vector<engine::ToolUse> tools;
  std::optional<Json> structured;
  std::optional<engine::ProviderError> error;  // delivered after the deltas
  engine::Usage usage{10, 5, 0, 0};
  bool hang = false;    // never completes (for timeouts and cancellation)
  int delay_tasks = 0;  // extra tasks before the first delta (reorders parallel branches)

  static Reply Text(std::string text) {
    Reply r;
    r.deltas = {std::move(text)};
    return r;
  }
  static Reply Structured(scaffold::Json value) {
    Reply r;
    r.structured = std::move(value);
    return r;
  }
  static Reply Error(engine::ProviderErrorKind kind, bool retryable,
                     std::string message = "upstream failed") {
    Reply r;
    r.error = engine::ProviderError{kind, std::move(message), 0, std::nullopt, retryable};
    return r;
  }
  static Reply ToolCall(std::string id, std::string name, scaffold::Json input) {
    Reply r;
    r.tools.push_back({std::move(id), std::move(name), std::move(input)});
    return r;
  }
};

class FakeProvider : public engine::Provider {
 public:
  void Add(const std::string& agent, Reply reply) { scripts_[agent].push_back(std::move(reply)); }

  std::unique_ptr<engine::ModelCall> Start(const engine::ModelRequest& request,
                                           engine::Executor* executor,
                                           engine::ModelStreamHandler* handler) override {
    requests.push_back(request);
    if (on_start) on_start(request);
    auto cancelled = std::make_shared<bool>(false);
    auto& queue = scripts_[request.agent];
    if (queue.empty()) {
      executor->Post([handler, cancelled, agent = request.agent] {
        if (!*cancelled)
          handler->OnError({engine::ProviderErrorKind::kInvalidRequest,
                            "no scripted reply for " + agent,
                            400,
                            {},
                            false});
      });
      return std::make_unique<Call>(cancelled);
    }
    Reply reply = queue.front();
    queue.pop_front();
    if (reply.hang) return std::make_unique<Call>(cancelled);
    Stream(reply, executor, handler, cancelled, reply.delay_tasks);
    return std::make_unique<Call>(cancelled);
  }

  std::vector<engine::ModelRequest> requests;
  // Called as each request goes out.
  std::function<void(const engine::ModelRequest&)> on_start;

 private:
  class Call : public engine::ModelCall {
   public:
    explicit Call(std::shared_ptr<bool> cancelled) : cancelled_(std::move(cancelled)) {}
    ~Call() override { Cancel(); }
    void Cancel() override { *cancelled_ = true; }

   private:
    std::shared_ptr<bool> cancelled_;
  };

  static void Stream(Reply reply, engine::Executor* executor, engine::ModelStreamHandler* handler,
                     std::shared_ptr<bool> cancelled, int delay) {
    if (delay > 0) {
      executor->Post([reply, executor, handler, cancelled, delay] {
        if (!*cancelled) Stream(reply, executor, handler, cancelled, delay - 1);
      });
      return;
    }
    if (!reply.thinking.empty()) {
      executor->Post([handler, cancelled, t = reply.thinking] {
        if (!*cancelled) handler->OnThinkingDelta(t);
      });
    }
    for (const auto& d : reply.deltas) {
      executor->Post([handler, cancelled, d] {
        if (!*cancelled) handler->OnTextDelta(d);
      });
    }
    executor->Post([handler, cancelled, reply] {
      if (*cancelled) return;
      if (reply.error) return handler->OnError(*reply.error);
      engine::ModelResponse r;
      for (const auto& d : reply.deltas) r.text += d;
      r.thinking = reply.thinking;
      if (!r.text.empty()) r.content.push_back({{"type", "text"}, {"text", r.text}});
      for (const auto& t : reply.tools) {
        r.content.push_back(
            {{"type", "tool_use"}, {"id", t.id}, {"name", t.name}, {"input", t.input}});
      }
      r.tool_uses = reply.tools;
      r.structured = reply.structured;
      r.stop_reason = reply.tools.empty() ? "end_turn" : "tool_use";
      r.usage = reply.usage;
      handler->OnComplete(std::move(r));
    });
  }

  std::map<std::string, std::deque<Reply>> scripts_;
};

}  // namespace scaffold::testing
