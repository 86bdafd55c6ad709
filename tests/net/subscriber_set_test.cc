// SubscriberSet, the hub's per-session list of subscribers, and the fan-out of commits to them
// (net/server/session_hub_entry.h).
#include <catch2/catch.hpp>
#include <functional>
#include <new>
#include <set>
#include <utility>

#include "net/server/session_hub_entry.h"

using scaffold::net::FanOut;
using scaffold::net::FrameBatch;
using scaffold::net::Subscriber;
using scaffold::net::SubscriberSet;

namespace {

struct Counting : Subscriber {
  int events = 0;
  int gone = 0;
  void OnEvents(const FrameBatch&) override { ++events; }
  void OnSessionGone() override { ++gone; }
};

std::set<Subscriber*> Reached(SubscriberSet& set) {
  std::set<Subscriber*> out;
  set.ForEach([&](std::shared_ptr<Subscriber> s) { out.insert(s.get()); });
  return out;
}

}  // namespace

TEST_CASE("a session's subscribers are added, removed and fanned out to, each once", "[server][hub]") {
  SubscriberSet set;
  std::vector<std::shared_ptr<Counting>> subs;
  for (int i = 0; i < 5; ++i) {
    subs.push_back(std::make_shared<Counting>());
    set.Add(subs.back());
  }
  set.Add(subs[2]);  // twice is once
  CHECK(set.size() == 5);
  set.Remove(subs[1].get());
  set.Remove(subs[1].get());  // and again: nothing
  set.Remove(nullptr);
  CHECK(Reached(set) == std::set<Subscriber*>{subs[0].get(), subs[2].get(), subs[3].get(),
                                               subs[4].get()});
  // Those gone without unsubscribing are dropped as they are met, the others all reached.
  subs[0].reset();
  subs[4].reset();
  CHECK(set.ForEach([](std::shared_ptr<Subscriber> s) { s->OnEvents(nullptr); }) == 2);
  CHECK(set.size() == 2);
  CHECK(subs[2]->events == 1);
  CHECK(subs[3]->events == 1);
  set.Clear();
  CHECK(set.empty());
}

TEST_CASE("a subscriber at the address of one gone without unsubscribing is still reached",
          "[server][hub]") {
  // Two subscribers in turn in the same storage, as an allocator reusing a block gives.
  alignas(Counting) unsigned char storage[sizeof(Counting)];
  auto destroy = [](Subscriber* s) { s->~Subscriber(); };
  SubscriberSet set;
  std::shared_ptr<Subscriber> first(new (storage) Counting, destroy);
  set.Add(first);
  first.reset();  // gone, still listed
  auto* second = new (storage) Counting;
  std::shared_ptr<Subscriber> owner(second, destroy);
  set.Add(owner);
  CHECK(set.ForEach([](std::shared_ptr<Subscriber> s) { s->OnEvents(nullptr); }) == 1);
  CHECK(second->events == 1);
  set.Remove(second);
  CHECK(set.empty());
}

namespace {

// A connection loop that keeps what it is given, to run when the test says.
struct HeldLoop : scaffold::net::SubscriberLoop {
  std::vector<std::function<void()>> tasks;
  void Post(std::function<void()> fn) override { tasks.push_back(std::move(fn)); }
  void RunAll() {
    for (auto& t : std::exchange(tasks, {})) t();
  }
};

struct OnLoop : Subscriber {
  explicit OnLoop(scaffold::net::SubscriberLoop* l) : on(l) {}
  scaffold::net::SubscriberLoop* loop() const override { return on; }
  void OnEvents(const FrameBatch& frames) override {
    for (const auto& f : *frames) positions.push_back(f->position);
  }
  void OnSessionGone() override {}
  scaffold::net::SubscriberLoop* on;
  std::vector<int64_t> positions;
};

scaffold::net::FrameBatch Commit(int64_t first, int count) {
  auto frames = std::make_shared<std::vector<scaffold::net::EventFramePtr>>();
  for (int64_t p = first; p < first + count; ++p) {
    scaffold::engine::Event e;
    e.position = p;
    e.name = "text:delta";
    e.payload = {{"delta", "x"}};
    e.Serialize();
    frames->push_back(scaffold::net::MakeEventFrame("s1", e));
  }
  return frames;
}

}  // namespace

TEST_CASE("a commit reaches each connection loop as one task, in commit order",
          "[server][hub]") {
  SubscriberSet set;
  HeldLoop a, b;
  std::vector<std::shared_ptr<OnLoop>> subs;
  for (int i = 0; i < 300; ++i) {
    subs.push_back(std::make_shared<OnLoop>(i % 3 == 0 ? nullptr : i % 3 == 1 ? &a : &b));
    set.Add(subs.back());
  }
  CHECK(FanOut(set, Commit(1, 2)) == 300);
  CHECK(FanOut(set, Commit(3, 1)) == 300);
  // Two commits, two loops: four tasks, whatever the number of subscribers; those without a
  // loop were called at once.
  CHECK(a.tasks.size() == 2);
  CHECK(b.tasks.size() == 2);
  CHECK(subs[0]->positions == std::vector<int64_t>{1, 2, 3});
  CHECK(subs[1]->positions.empty());
  // A subscriber gone before its loop runs is not kept alive by the hub's list, only by the
  // task that holds it (and it still gets what was committed before it went).
  std::weak_ptr<OnLoop> gone = subs[1];
  subs[1].reset();
  CHECK(!gone.expired());
  a.RunAll();
  b.RunAll();
  CHECK(gone.expired());
  for (size_t i = 2; i < subs.size(); ++i) {
    INFO(i);
    CHECK(subs[i]->positions == std::vector<int64_t>{1, 2, 3});
  }
  // The next commit finds the one gone and drops it.
  CHECK(FanOut(set, Commit(4, 1)) == 299);
  CHECK(set.size() == 299);
}
