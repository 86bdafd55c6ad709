// Reading recording files: long ones are parsed on several threads, and a problem is still
// reported on the earliest line it is on.

#include "recordings/recording_file.h"

#include <catch2/catch.hpp>
#include <sstream>

#include "recordings/sha256.h"

using scaffold::Json;
using scaffold::engine::Event;

namespace {

constexpr int kEvents = 20000;  // enough for the parallel parse on any machine with 2+ cores

std::string EventLine(int64_t position, const std::string& text) {
  Event e;
  e.id = "e" + std::to_string(position);
  e.position = position;
  e.name = "test:note";  // not in the catalog: its payload shape is free
  e.payload = {{"text", text}};
  e.timestamp = 1700000000000 + position;
  e.Serialize();
  return "{\"event\":" + e.wire + "}";
}

// Event i's text, "t<i>" (built by appending: GCC 12 at -O3 warns falsely on "t" + string).
std::string Text(int i) {
  std::string text = "t";
  text += std::to_string(i);
  return text;
}

// Header, event lines (1..kEvents unless `edit` changes them), and a matching end line.
std::string Recording(const std::function<void(std::vector<std::string>&)>& edit = {}) {
  std::vector<std::string> lines;
  lines.push_back(
      scaffold::DumpJson(Json{{"scaffold_recording", 1},
                              {"session", {{"id", "s1"}, {"owner", "local"}}},
                              {"workflow", "{}"},
                              {"workflow_sha256", scaffold::recordings::Sha256Hex("{}")},
                              {"events", kEvents},
                              {"exchanges", 0}}));
  for (int i = 1; i <= kEvents; ++i) lines.push_back(EventLine(i, Text(i)));
  if (edit) edit(lines);
  std::string body;
  for (const auto& l : lines) body += l + "\n";
  Json end = {{"end",
               {{"events", static_cast<int64_t>(lines.size()) - 1},
                {"exchanges", 0},
                {"sha256", scaffold::recordings::Sha256Hex(body)}}}};
  return body + scaffold::DumpJson(end) + "\n";
}

scaffold::Result<scaffold::recordings::Recording> Read(const std::string& text) {
  std::istringstream in(text);
  return scaffold::recordings::ReadRecording(in);
}

}  // namespace

TEST_CASE("a long recording is read whole, each event keeping its exact bytes", "[recording]") {
  std::string text = Recording();
  auto rec = Read(text);
  REQUIRE(rec.ok());
  REQUIRE(rec->events.size() == kEvents);
  for (int i : {0, 1, kEvents / 2, kEvents / 2 + 1, kEvents - 1}) {
    INFO(i);
    CHECK(rec->events[i]->position == i + 1);
    CHECK(rec->events[i]->payload["text"] == Text(i + 1));
    CHECK("{\"event\":" + rec->events[i]->wire + "}" == EventLine(i + 1, Text(i + 1)));
  }
  CHECK(rec->info.event_count == kEvents);
}

TEST_CASE("an event line written another way is read and given the canonical form", "[recording]") {
  auto rec = Read(Recording([](std::vector<std::string>& lines) {
    Json spaced = Json::parse(lines[15000]);
    lines[15000] = spaced.dump(1);  // newlines would split it: indent 1 puts them in
    lines[15000].erase(std::remove(lines[15000].begin(), lines[15000].end(), '\n'),
                       lines[15000].end());
  }));
  REQUIRE(rec.ok());
  CHECK("{\"event\":" + rec->events[14999]->wire + "}" == EventLine(15000, "t15000"));
}

TEST_CASE("the earliest bad event line is the one reported, wherever the threads split",
          "[recording]") {
  auto swap_positions = [](int index) {
    return [index](std::vector<std::string>& lines) { lines[index] = EventLine(index + 7, "x"); };
  };
  // Line numbers are 1-based and the header is line 1: event i is on line i + 1.
  auto late = Read(Recording(swap_positions(17000)));
  REQUIRE_FALSE(late.ok());
  CHECK_THAT(late.status().message(),
             Catch::StartsWith("line 17001: event position 17007 where 17000"));

  auto both = Read(Recording([&](std::vector<std::string>& lines) {
    swap_positions(17000)(lines);
    swap_positions(3000)(lines);
  }));
  REQUIRE_FALSE(both.ok());
  CHECK_THAT(both.status().message(),
             Catch::StartsWith("line 3001: event position 3007 where 3000"));

  // A damaged event before a damaged line found by the scan: the event's line wins.
  auto damaged = Read(Recording([&](std::vector<std::string>& lines) {
    lines[2000] = "{\"event\":{\"id\":1}}";
    lines[18000] = "not json";
  }));
  REQUIRE_FALSE(damaged.ok());
  CHECK_THAT(damaged.status().message(), Catch::StartsWith("line 2001: "));
  auto scan_first = Read(Recording([&](std::vector<std::string>& lines) {
    lines[2000] = "not json";
    lines[18000] = "{\"event\":{\"id\":1}}";
  }));
  REQUIRE_FALSE(scan_first.ok());
  CHECK_THAT(scan_first.status().message(), Catch::StartsWith("line 2001: not valid JSON"));
}

namespace {

// A stream that cannot seek, as a pipe is read: `text` once, or `text` forever.
class PipeBuf : public std::streambuf {
 public:
  PipeBuf(std::string text, bool endless) : text_(std::move(text)), endless_(endless) {}
  size_t served() const { return served_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (served_ > 0 && !endless_) return traits_type::eof();
    char* begin = text_.data();
    setg(begin, begin, begin + text_.size());
    served_ += text_.size();
    return traits_type::to_int_type(*begin);
  }

 private:
  std::string text_;
  bool endless_;
  size_t served_ = 0;
};

}  // namespace

TEST_CASE("a recording larger than the bound is refused, from a file or an endless pipe",
          "[recording]") {
  std::string text = Recording();
  // From a pipe, within the bound: read whole.
  PipeBuf pipe(text, false);
  std::istream from_pipe(&pipe);
  auto whole = scaffold::recordings::ReadRecording(from_pipe, text.size());
  REQUIRE(whole.ok());
  CHECK(whole->events.size() == kEvents);

  // A file one byte too long is refused before it is read.
  std::istringstream file(text);
  auto big = scaffold::recordings::ReadRecording(file, text.size() - 1);
  REQUIRE_FALSE(big.ok());
  CHECK(big.status().message() == "the recording is larger than " +
                                      std::to_string(text.size() - 1) +
                                      " bytes, the most scaffold reads");
  std::istringstream again(text);
  CHECK_FALSE(scaffold::recordings::ReadRecordingText(again, text.size() - 1).ok());

  // An endless pipe stops at the bound, having read no more than it (and one chunk).
  PipeBuf endless("{\"event\":{}}\n", true);
  std::istream from_endless(&endless);
  constexpr size_t kBound = 4 << 20;
  auto endless_read = scaffold::recordings::ReadRecordingText(from_endless, kBound);
  REQUIRE_FALSE(endless_read.ok());
  CHECK_THAT(endless_read.status().message(), Catch::StartsWith("the recording is larger than"));
  CHECK(endless.served() <= kBound + (64 << 10));
}
