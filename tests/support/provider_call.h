// Runs one Provider call to its end on a real EventLoop and records what the handler saw.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/event_loop.h"
#include "engine/provider.h"

namespace scaffold::testing {

struct CallOutcome {
  std::vector<std::string> text;      // text deltas, in order
  std::vector<std::string> thinking;  // thinking deltas, in order
  std::optional<engine::ModelResponse> response;
  std::optional<engine::ProviderError> error;
  bool timed_out = false;
  int callbacks_after_end = 0;

  std::string all_text() const {
    std::string out;
    for (const auto& t : text) out += t;
    return out;
  }
};

class RecordingHandler : public engine::ModelStreamHandler {
 public:
  explicit RecordingHandler(engine::EventLoop* loop) : loop_(loop) {}
  void OnTextDelta(std::string_view d) override {
    if (!Count()) outcome.text.emplace_back(d);
  }
  void OnThinkingDelta(std::string_view d) override {
    if (!Count()) outcome.thinking.emplace_back(d);
  }
  void OnComplete(engine::ModelResponse r) override {
    if (Count()) return;
    outcome.response = std::move(r);
    ended_ = true;
    loop_->Stop();
  }
  void OnError(engine::ProviderError e) override {
    if (Count()) return;
    outcome.error = std::move(e);
    ended_ = true;
    loop_->Stop();
  }
  CallOutcome outcome;

 private:
  bool Count() {
    if (ended_) ++outcome.callbacks_after_end;
    return ended_;
  }
  engine::EventLoop* loop_;
  bool ended_ = false;
};

inline CallOutcome CallProvider(engine::Provider& provider, const engine::ModelRequest& request,
                                int timeout_ms = 15000) {
  engine::EventLoop loop;
  RecordingHandler handler(&loop);
  auto call = provider.Start(request, &loop, &handler);
  bool timed_out = false;
  auto guard = loop.RunAfter(std::chrono::milliseconds(timeout_ms), [&] {
    timed_out = true;
    loop.Stop();
  });
  loop.Run();
  call->Cancel();
  handler.outcome.timed_out = timed_out;
  return handler.outcome;
}

}  // namespace scaffold::testing
