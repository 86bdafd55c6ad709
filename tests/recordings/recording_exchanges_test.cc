// A recording file's exchanges as a replay reads them: checked when the file is read (on
// several threads for many), then looked up in the file's text.

#include "recordings/recording_exchanges.h"

#include <catch2/catch.hpp>
#include <functional>
#include <sstream>

#include "recordings/recording_file.h"
#include "recordings/sha256.h"

using scaffold::Json;
using scaffold::recordings::ExchangeKey;

namespace {

constexpr int kExchanges = 400;  // enough for the threads to split them

std::string ExchangeLine(int seq, const std::string& agent, int occurrence, const Json& request) {
  Json delta = {{"type", "text"}, {"text", "r" + std::to_string(seq)}};
  Json x = {{"seq", seq},
            {"key", ExchangeKey(request)},
            {"occurrence", occurrence},
            {"agent", agent},
            {"request", request},
            {"response", {{"outcome", "complete"}, {"stream", Json::array({delta})}}}};
  return scaffold::DumpJson(Json{{"exchange", x}});
}

// Header, kExchanges exchange lines (agent "a" for odd seq, "b" for even; every request
// different), one event, the end line; `edit` changes the lines before the end line is made.
std::string File(const std::function<void(std::vector<std::string>&)>& edit = {}) {
  std::vector<std::string> lines;
  Json header = {{"scaffold_recording", 1},
                 {"session", {{"id", "s1"}, {"owner", "local"}}},
                 {"workflow", "{}"},
                 {"workflow_sha256", scaffold::recordings::Sha256Hex("{}")},
                 {"redact", Json::array({"sk-[a-z]+"})},
                 {"events", 1},
                 {"exchanges", kExchanges}};
  lines.push_back(scaffold::DumpJson(header));
  for (int i = 1; i <= kExchanges; ++i) {
    lines.push_back(ExchangeLine(i, i % 2 ? "a" : "b", 1, {{"prompt", "p" + std::to_string(i)}}));
  }
  lines.push_back(
      R"({"event":{"id":"e1","position":1,"name":"test:note","payload":{},"timestamp":1}})");
  if (edit) edit(lines);
  std::string body;
  for (const auto& l : lines) body += l + "\n";
  Json end = {{"end",
               {{"events", 1},
                {"exchanges", kExchanges},
                {"sha256", scaffold::recordings::Sha256Hex(body)}}}};
  return body + scaffold::DumpJson(end) + "\n";
}

scaffold::Result<scaffold::recordings::RecordingText> Read(const std::string& text) {
  std::istringstream in(text);
  return scaffold::recordings::ReadRecordingText(in);
}

}  // namespace

TEST_CASE("a recording's exchanges are found by key and occurrence in the file's text",
          "[recording]") {
  std::string text = File();
  auto rec = Read(text);
  REQUIRE(rec.ok());
  auto* book = rec->exchanges();
  Json request = {{"prompt", "p123"}};
  auto found = book->FindExchange(ExchangeKey(request), 1, std::string("s1"));
  REQUIRE(found.ok());
  REQUIRE(*found);
  CHECK((*found)->seq == 123);
  CHECK((*found)->agent == "a");
  CHECK((*found)->request == request);
  CHECK((*found)->response["stream"][0]["text"] == "r123");
  CHECK_FALSE(*book->FindExchange(ExchangeKey(request), 2, std::string("s1")));
  CHECK_FALSE(*book->FindExchange(ExchangeKey(request), 1, std::string("other")));
  CHECK(*book->FindExchange(ExchangeKey(request), 1, std::nullopt));
  CHECK(*book->CountExchanges("s1", ExchangeKey(request)) == 1);
  CHECK(*book->CountExchanges("s1", "nope") == 0);

  auto recent = book->ExchangesForAgent("b", std::string("s1"), 3);
  REQUIRE(recent.ok());
  REQUIRE(recent->size() == 3);
  CHECK((*recent)[0].seq == kExchanges);
  CHECK((*recent)[2].seq == kExchanges - 4);
  CHECK(book->RedactPatterns("s1")->front() == "sk-[a-z]+");
  CHECK(book->AppendExchange((*recent)[0]).code() == scaffold::ErrorCode::kFailedPrecondition);
}

TEST_CASE("exchanges parsed ahead in recording order are the right ones, in any lookup order",
          "[recording]") {
  auto rec = Read(File());
  REQUIRE(rec.ok());
  auto* book = rec->exchanges();
  auto check = [&](int seq) {
    auto found = book->FindExchange(ExchangeKey(Json{{"prompt", "p" + std::to_string(seq)}}), 1,
                                    std::string("s1"));
    REQUIRE(found.ok());
    REQUIRE(*found);
    CHECK((*found)->seq == seq);
    CHECK((*found)->response["stream"][0]["text"] == "r" + std::to_string(seq));
  };
  for (int seq = 1; seq <= kExchanges; ++seq) check(seq);  // the replay's usual order
  // Backwards, jumping, and the same one twice.
  for (int seq : {kExchanges, 1, 2, 2, 200, 3, 201, 202, 150, 151, 151, kExchanges - 1, 5}) {
    INFO(seq);
    check(seq);
  }
  for (int seq = kExchanges; seq >= 1; seq -= 3) check(seq);
}

TEST_CASE("the earliest bad exchange line is the one reported, wherever the threads split",
          "[recording]") {
  // Exchange seq i is on line i + 1.
  auto wrong_key = [](int seq) {
    return [seq](std::vector<std::string>& lines) {
      Json x = Json::parse(lines[seq]);
      x["exchange"]["key"] = ExchangeKey(Json{{"prompt", "other"}});
      lines[seq] = scaffold::DumpJson(x);
    };
  };
  auto late = Read(File(wrong_key(350)));
  REQUIRE_FALSE(late.ok());
  CHECK(late.status().message() == "line 351: the exchange's request does not match its key");

  auto both = Read(File([&](std::vector<std::string>& lines) {
    wrong_key(350)(lines);
    lines[40] = "{\"exchange\": not json";
  }));
  REQUIRE_FALSE(both.ok());
  CHECK_THAT(both.status().message(), Catch::StartsWith("line 41: not valid JSON"));

  auto order = Read(File([&](std::vector<std::string>& lines) {
    lines[200] = ExchangeLine(7, "b", 1, {{"prompt", "p200"}});
  }));
  REQUIRE_FALSE(order.ok());
  CHECK(order.status().message() == "line 201: an exchange out of order (seq 7)");

  // The same request and occurrence twice: a lookup could not tell them apart.
  auto twice = Read(File([&](std::vector<std::string>& lines) {
    lines[300] = ExchangeLine(300, "b", 1, {{"prompt", "p10"}});
  }));
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.status().message() ==
        "line 301: a second exchange for the same request and occurrence (line 11 has it)");

  // A bad exchange before a bad line found by the scan: the exchange's line wins; an exchange
  // after the events is refused where it is.
  auto scan_later = Read(File([&](std::vector<std::string>& lines) {
    wrong_key(100)(lines);
    lines.back() = "not json";
  }));
  REQUIRE_FALSE(scan_later.ok());
  CHECK_THAT(scan_later.status().message(), Catch::StartsWith("line 101: "));
  auto after = Read(File([&](std::vector<std::string>& lines) {
    lines.push_back(ExchangeLine(kExchanges + 1, "a", 1, {{"prompt", "late"}}));
  }));
  REQUIRE_FALSE(after.ok());
  CHECK(after.status().message() == "line " + std::to_string(kExchanges + 3) +
                                        ": an exchange after the events");
}
