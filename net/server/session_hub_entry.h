// SessionHub::Entry: one session as the hub holds it (private to session_hub*.cc).
#pragma once

#include <algorithm>
#include <atomic>

#include "net/server/session_hub.h"
#include "net/server/strand_executor.h"

namespace scaffold::net {

// Counts model calls for /metrics.
class CountingProvider : public engine::Provider {
 public:
  CountingProvider(engine::Provider* inner, Metrics* metrics) : inner_(inner), metrics_(metrics) {}
  std::unique_ptr<engine::ModelCall> Start(const engine::ModelRequest& request,
                                           engine::Executor* executor,
                                           engine::ModelStreamHandler* handler) override {
    ++metrics_->provider_requests;
    return inner_->Start(request, executor, handler);
  }

 private:
  engine::Provider* inner_;
  Metrics* metrics_;
};

struct SessionHub::Entry : public engine::EventSink, public std::enable_shared_from_this<Entry> {
  Entry(std::string id, std::string owner, boost::asio::io_context* io, Metrics* metrics,
        engine::Provider* provider)
      : id(std::move(id)),
        owner(std::move(owner)),
        exec(std::make_unique<StrandExecutor>(io)),
        metrics(metrics),
        counting(provider, metrics) {}

  // Session strand: the session committed events here.
  void OnEvents(std::span<const engine::EventPtr> events) override {
    metrics->events_appended += static_cast<int64_t>(events.size());
    for (const auto& e : events) {
      if (e->name == engine::events::kAgentRetry) ++metrics->provider_retries;
      if (e->name == engine::events::kAgentCompleted && e->payload.contains("usage")) {
        metrics->input_tokens += e->payload["usage"].value("inputTokens", int64_t{0});
        metrics->output_tokens += e->payload["usage"].value("outputTokens", int64_t{0});
      }
    }
    Fanout(events);
  }

  // Session strand: sends committed events (in order, each once) to the subscribers.
  void Fanout(std::span<const engine::EventPtr> events) {
    if (events.empty()) return;
    delivered = events.back()->position;
    const std::string& last = events.back()->name;
    ended = last == engine::events::kWorkflowCompleted || last == engine::events::kWorkflowError;
    subscribers.erase(
        std::remove_if(subscribers.begin(), subscribers.end(),
                       [](const std::weak_ptr<Subscriber>& w) { return w.expired(); }),
        subscribers.end());
    if (subscribers.empty()) return;
    auto frames = std::make_shared<std::vector<EventFramePtr>>();
    frames->reserve(events.size());
    for (const auto& e : events) frames->push_back(MakeEventFrame(id, *e));
    FrameBatch batch = std::move(frames);
    auto targets = subscribers;  // a subscriber may unsubscribe while being called
    int64_t reached = 0;
    for (const auto& weak : targets) {
      if (auto s = weak.lock()) {
        s->OnEvents(batch);
        ++reached;
      }
    }
    metrics->deliveries += reached * static_cast<int64_t>(batch->size());
  }

  const std::string id;
  const std::string owner;
  const std::unique_ptr<StrandExecutor> exec;
  Metrics* const metrics;
  CountingProvider counting;

  // Session strand only.
  std::unique_ptr<engine::Session> session;
  std::vector<std::weak_ptr<Subscriber>> subscribers;
  std::function<void()> after_cancel;  // a Delete waiting for the session to stop
  std::atomic<bool> running{false};
  Status stopped;  // why the log could not be written (session strand; read under the hub's mu_)
  bool deleted = false;  // session strand only
  // Several nodes (session strand only): the last position fanned out; whether the session is
  // driven elsewhere and followed through the database; whether this node's lease on it was lost.
  int64_t delivered = 0;
  bool following = false;
  bool lease_lost = false;
  bool ended = false;  // the last event fanned out ends the session: nothing to poll for
};

}  // namespace scaffold::net
