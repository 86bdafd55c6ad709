// A recording file's exchange lines (scaffold-recording(5)): how one is read and checked, and
// the exchanges of a file being replayed, looked up in place.
//
// A replay looks its exchanges up by (key, occurrence); RecordingExchanges keeps each as the
// text of its line in the file's buffer with what a lookup matches on, and parses that text
// again only when the exchange is played (or shown as the nearest miss). The lines were parsed
// and checked once when the file was read, so a long recording's exchanges cost about their
// own size, not a parsed copy or a database. A replay mostly plays them in recording order, so
// after each lookup a thread of its own parses the next few (kAhead), never more, while the
// re-run goes on; a lookup elsewhere parses in place.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "recordings/exchange.h"

namespace scaffold::recordings {

// An exchange line, {"exchange": {"seq", "key", "occurrence", "agent", "request",
// "response"}}, parsed: its seq must be `seq` and its key its request's. Problems are told
// without the line number (the caller knows it). The request and response are moved out of
// `line`.
Result<Exchange> ParseExchange(Json&& line, const std::string& session_id, int64_t seq);
// The same from the line's text.
Result<Exchange> ParseExchangeLine(std::string_view line, const std::string& session_id,
                                   int64_t seq);

class RecordingExchanges : public ExchangeBook {
 public:
  RecordingExchanges(std::string session_id, std::vector<std::string> redact)
      : session_id_(std::move(session_id)), redact_(std::move(redact)) {}
  ~RecordingExchanges() override;

  // Adds the next exchange, `x` as parsed from line `line` whose text is `text` (in a buffer
  // that outlives this). A second exchange for the same key and occurrence is refused.
  Status Add(size_t line, std::string_view text, const Exchange& x);
  size_t size() const { return entries_.size(); }

  Result<std::vector<std::string>> RedactPatterns(const std::string& session_id) override;
  // A recording file is read, not written: refused.
  Status AppendExchange(const Exchange& exchange) override;
  Result<int64_t> CountExchanges(const std::string& session_id, const std::string& key) override;
  Result<std::optional<Exchange>> FindExchange(
      const std::string& key, int64_t occurrence,
      const std::optional<std::string>& session_id) override;
  Result<std::vector<Exchange>> ExchangesForAgent(const std::string& agent,
                                                  const std::optional<std::string>& session_id,
                                                  int64_t limit) override;

 private:
  struct Entry {
    size_t line;
    std::string_view text;
    std::string key;
    int64_t occurrence;
    std::string agent;
  };
  static constexpr size_t kAhead = 2;

  // Exchange `index` parsed from its line.
  Result<Exchange> Load(size_t index) const;
  // The same, taken from what the thread parsed ahead when it has it; then asks the thread for
  // the next kAhead.
  Result<Exchange> Take(size_t index);
  void ParseAhead();
  bool Mine(const std::optional<std::string>& session_id) const {
    return !session_id || *session_id == session_id_;
  }

  const std::string session_id_;
  const std::vector<std::string> redact_;
  std::vector<Entry> entries_;  // in seq order
  std::unordered_map<std::string, std::vector<size_t>> by_key_;  // key -> entries, in seq order

  std::thread ahead_;  // started by the first Take
  std::mutex mu_;
  std::condition_variable changed_;
  // Guarded by mu_: parsed ahead, by index; the next index to parse and the end of the range
  // asked for; the index being parsed (SIZE_MAX for none).
  std::map<size_t, Result<Exchange>> parsed_;
  size_t next_ = 0;
  size_t until_ = 0;
  size_t parsing_ = SIZE_MAX;
  bool stop_ = false;
};

}  // namespace scaffold::recordings
