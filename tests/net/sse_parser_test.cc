#include "net/sse_parser.h"

#include <catch2/catch.hpp>

#include "tests/support/conformance.h"

using scaffold::Json;
using scaffold::net::SseEvent;
using scaffold::net::SseParser;

namespace {

Json Describe(const std::vector<SseEvent>& events) {
  Json out = Json::array();
  for (const auto& e : events)
    out.push_back({{"type", e.type}, {"data", e.data}, {"lastEventId", e.last_event_id}});
  return out;
}

// "data: " and `size` copies of `c`, then `end` (built by appending: GCC 12 at -O3 warns
// falsely on "data: " + string).
std::string DataLine(size_t size, char c, const char* end) {
  std::string line = "data: ";
  line.append(size, c);
  line += end;
  return line;
}

}  // namespace

TEST_CASE("the SSE parser passes every vector, whole and split at every byte",
          "[conformance][sse]") {
  Json vectors = scaffold::testing::LoadConformance("sse/vectors.json");
  int cases = 0;
  for (const auto& v : vectors) {
    std::string input = v["input"];
    Json expected = v["events"];
    ++cases;
    {
      INFO(v["name"].get<std::string>() << " (whole)");
      SseParser p;
      std::vector<SseEvent> events;
      p.Feed(input, &events);
      CHECK(Describe(events) == expected);
      CHECK(p.last_event_id() == v["lastEventIdAtEnd"].get<std::string>());
      if (v["retry"].is_null()) {
        CHECK_FALSE(p.retry());
      } else {
        CHECK(p.retry() == v["retry"].get<int64_t>());
      }
    }
    for (size_t split = 1; split < input.size(); ++split) {
      INFO(v["name"].get<std::string>() << " split at byte " << split);
      SseParser p;
      std::vector<SseEvent> events;
      p.Feed(std::string_view(input).substr(0, split), &events);
      p.Feed(std::string_view(input).substr(split), &events);
      CHECK(Describe(events) == expected);
    }
    {
      INFO(v["name"].get<std::string>() << " one byte at a time");
      SseParser p;
      std::vector<SseEvent> events;
      for (char c : input) p.Feed(std::string_view(&c, 1), &events);
      CHECK(Describe(events) == expected);
    }
  }
  CHECK(cases == 12);
}

TEST_CASE("the SSE parser reads the verbatim provider fixtures", "[sse]") {
  for (const char* file :
       {"providers/anthropic-basic_response.sse", "providers/openai-chat-a247c49c5fcd.sse"}) {
    SseParser p;
    std::vector<SseEvent> events;
    p.Feed(scaffold::testing::ReadFile(scaffold::testing::ConformancePath(file)), &events);
    INFO(file);
    CHECK(events.size() > 3);
  }
}

TEST_CASE("finishing a stream dispatches an event cut off by the end of the stream", "[sse]") {
  SseParser p;
  std::vector<SseEvent> events;
  p.Feed("event: a\ndata: 1\n\nevent: b\ndata: 2", &events);
  REQUIRE(events.size() == 1);
  p.Finish(&events);
  REQUIRE(events.size() == 2);
  CHECK(events[1].type == "b");
  CHECK(events[1].data == "2");
  p.Finish(&events);
  CHECK(events.size() == 2);
}

TEST_CASE("an event larger than the bound stops the parser, however the stream is cut", "[sse]") {
  SECTION("a line that never ends") {
    SseParser p(1000);
    std::vector<SseEvent> events;
    p.Feed("data: ok\n\n", &events);
    REQUIRE(events.size() == 1);
    for (int i = 0; i < 100 && !p.overflowed(); ++i) p.Feed(std::string(100, 'x'), &events);
    CHECK(p.overflowed());
    p.Feed("\n\ndata: late\n\n", &events);  // ignored once stopped
    p.Finish(&events);
    CHECK(events.size() == 1);
  }
  SECTION("many data lines of one event") {
    SseParser p(1000);
    std::vector<SseEvent> events;
    for (int i = 0; i < 100 && !p.overflowed(); ++i) p.Feed(DataLine(50, 'y', "\n"), &events);
    CHECK(p.overflowed());
    CHECK(events.empty());
  }
  SECTION("an event of exactly the bound is delivered") {
    SseParser p(1000);
    std::vector<SseEvent> events;
    // The line (906 bytes with its "data: "), then the data (901 with its newline) each fit.
    p.Feed(DataLine(900, 'z', "\n\n"), &events);
    CHECK_FALSE(p.overflowed());
    REQUIRE(events.size() == 1);
    CHECK(events[0].data.size() == 900);
  }
  SECTION("the default bound is 16 MiB") {
    SseParser p;
    CHECK(p.max_event_bytes() == 16u << 20);
    std::vector<SseEvent> events;
    p.Feed(DataLine((16u << 20) - 100, 'w', "\n\n"), &events);
    CHECK(events.size() == 1);
    p.Feed(DataLine(16u << 20, 'w', ""), &events);
    CHECK(p.overflowed());
  }
}
