// SessionHub::Entry: one session as the hub holds it (private to session_hub*.cc).
#pragma once

#include <algorithm>
#include <atomic>
#include <memory>
#include <unordered_map>
#include <vector>

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

// The subscribers of one session (session strand only). Added and removed in O(1) (a removal
// moves the last one into the gap), so K connections closing cost O(K), not O(K²); fanned out
// without copying the list. Order among subscribers is not kept: each one's events are.
class SubscriberSet {
 public:
  void Add(const std::shared_ptr<Subscriber>& s) {
    auto [it, added] = index_.emplace(s.get(), list_.size());
    if (!added) {
      // Already there, or a subscriber gone without unsubscribing left its address, now s's.
      list_[it->second].subscriber = s;
      return;
    }
    list_.push_back({s.get(), s});
  }
  void Remove(const Subscriber* key) {
    auto it = index_.find(key);
    if (it != index_.end()) RemoveAt(it->second);
  }
  bool empty() const { return list_.empty(); }
  size_t size() const { return list_.size(); }
  // Calls fn(std::shared_ptr<Subscriber>) for each subscriber still alive, dropping those
  // gone; how many were called. fn must not add or remove (the hub's calls only post).
  template <typename F>
  int64_t ForEach(F&& fn) {
    int64_t reached = 0;
    for (size_t i = 0; i < list_.size();) {
      if (auto s = list_[i].subscriber.lock()) {
        fn(std::move(s));
        ++reached;
        ++i;
      } else {
        RemoveAt(i);  // the last one moved here: look at i again
      }
    }
    return reached;
  }
  void Clear() {
    list_.clear();
    index_.clear();
  }

 private:
  struct Listed {
    const Subscriber* key;  // its address, known even once it is gone
    std::weak_ptr<Subscriber> subscriber;
  };

  void RemoveAt(size_t i) {
    index_.erase(list_[i].key);
    if (i + 1 != list_.size()) {
      list_[i] = std::move(list_.back());
      index_[list_[i].key] = i;
    }
    list_.pop_back();
  }

  std::vector<Listed> list_;
  std::unordered_map<const Subscriber*, size_t> index_;
};

// Hands a commit's frames to every subscriber: one task per connection loop, holding that
// loop's subscribers (a handful of loops: a short list), so a commit costs a post per loop, not
// per connection. Those without a loop are called here; they only queue and post, so nothing
// unsubscribes while this runs. How many subscribers it reached. Session strand.
inline int64_t FanOut(SubscriberSet& subscribers, const FrameBatch& batch) {
  struct LoopTask {
    SubscriberLoop* loop;
    std::vector<std::shared_ptr<Subscriber>> subscribers;
  };
  std::vector<LoopTask> tasks;
  int64_t reached = subscribers.ForEach([&](std::shared_ptr<Subscriber> s) {
    SubscriberLoop* loop = s->loop();
    if (!loop) return s->OnEvents(batch);
    auto task = std::find_if(tasks.begin(), tasks.end(),
                             [loop](const LoopTask& t) { return t.loop == loop; });
    if (task == tasks.end()) task = tasks.insert(tasks.end(), {loop, {}});
    task->subscribers.push_back(std::move(s));
  });
  for (auto& task : tasks) {
    task.loop->Post([batch, subscribers = std::move(task.subscribers)] {
      for (const auto& s : subscribers) s->OnEvents(batch);
    });
  }
  return reached;
}

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
    if (subscribers.empty()) return;
    auto frames = std::make_shared<std::vector<EventFramePtr>>();
    frames->reserve(events.size());
    for (const auto& e : events) frames->push_back(MakeEventFrame(id, *e));
    FrameBatch batch = std::move(frames);
    int64_t reached = FanOut(subscribers, batch);
    metrics->deliveries += reached * static_cast<int64_t>(batch->size());
  }

  const std::string id;
  const std::string owner;
  const std::unique_ptr<StrandExecutor> exec;
  Metrics* const metrics;
  CountingProvider counting;

  // Session strand only.
  std::unique_ptr<engine::Session> session;
  SubscriberSet subscribers;
  std::function<void()> after_cancel;  // a Delete waiting for the session to stop
  // A client asked this session to pause: it is stopping, and a second ask changes nothing.
  bool pause_asked = false;
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
