// SubscriberSet: the hub's per-session list of subscribers (net/server/session_hub_entry.h).
#include <catch2/catch.hpp>
#include <new>
#include <set>

#include "net/server/session_hub_entry.h"

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
  set.ForEach([&](Subscriber& s) { out.insert(&s); });
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
  CHECK(set.ForEach([](Subscriber& s) { s.OnEvents(nullptr); }) == 2);
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
  CHECK(set.ForEach([](Subscriber& s) { s.OnEvents(nullptr); }) == 1);
  CHECK(second->events == 1);
  set.Remove(second);
  CHECK(set.empty());
}
