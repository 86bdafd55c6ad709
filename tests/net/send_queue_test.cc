// SendQueue: a connection's send queue (net/server/server_context.h).
#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "net/server/server_context.h"

using scaffold::net::SendQueue;
using scaffold::net::TakeWriteBatch;

namespace {

struct Item {
  std::shared_ptr<const std::string> bytes;
  size_t cost = 0;
};

Item Make(int n) { return {std::make_shared<const std::string>(std::to_string(n)), 1}; }

}  // namespace

TEST_CASE("a send queue is first in, first out, and compacts while it never empties",
          "[server][queue]") {
  SendQueue<Item> q;
  CHECK(q.empty());
  int next_in = 0, next_out = 0;
  // Always a few items ahead of the reader, over many more items than the compaction bound.
  for (int round = 0; round < 1000; ++round) {
    for (int i = 0; i < 3; ++i) q.push_back(Make(next_in++));
    for (int i = 0; i < 2; ++i) {
      REQUIRE_FALSE(q.empty());
      CHECK(*q.front().bytes == std::to_string(next_out++));
      q.pop_front();
    }
  }
  size_t left = 0;
  for (auto& item : q) CHECK(*item.bytes == std::to_string(next_out + static_cast<int>(left++)));
  CHECK(left == 1000);
  while (!q.empty()) {
    CHECK(*q.front().bytes == std::to_string(next_out++));
    q.pop_front();
  }
  CHECK(next_out == next_in);
}

TEST_CASE("a send queue drops what a predicate names, and write batches take whole items",
          "[server][queue]") {
  SendQueue<Item> q;
  for (int i = 0; i < 10; ++i) q.push_back(Make(i));
  q.pop_front();
  q.EraseIf([](const Item& item) { return std::stoi(*item.bytes) % 2 == 0; });
  std::string seen;
  size_t cost = TakeWriteBatch(q, [&](Item item) { seen += *item.bytes; });
  CHECK(seen == "13579");
  CHECK(cost == 5);
  CHECK(q.empty());
  q.EraseIf([](const Item&) { return true; });
  CHECK(q.empty());
}
