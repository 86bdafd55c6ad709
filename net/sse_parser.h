// Server-sent events parsing (WHATWG HTML, "Interpreting an event stream"), incremental: bytes
// may arrive split anywhere, including inside a CRLF, a UTF-8 sequence or the leading BOM.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace scaffold::net {

struct SseEvent {
  std::string type;           // "message" when the stream gave none
  std::string data;           // data lines joined with "\n"
  std::string last_event_id;  // the stream's last event id when this event was dispatched
};

// The most an event may hold while it is read: its data and the line being read (16 MiB, as a
// line of `scaffold mcp` and a session's input may be).
inline constexpr size_t kMaxSseEventBytes = 16 << 20;

class SseParser {
 public:
  explicit SseParser(size_t max_event_bytes = kMaxSseEventBytes)
      : max_event_bytes_(max_event_bytes) {}

  // Parses `chunk` and appends the events it completes to `out`. Once an event would hold more
  // than `max_event_bytes`, the parser stops: overflowed() is true and every later byte is
  // ignored, so a stream that never ends a line or an event cannot take the process's memory.
  // The caller ends the stream with an error.
  void Feed(std::string_view chunk, std::vector<SseEvent>* out);
  bool overflowed() const { return overflowed_; }
  size_t max_event_bytes() const { return max_event_bytes_; }

  // Ends the stream. An event EventSource would drop because the stream ended before its
  // blank line (or even its final newline) is dispatched here; LLM API clients call this, as
  // the official SDKs' decoders do, since some servers end the last event at the connection's
  // close. A truncated event then fails where it is parsed as JSON.
  void Finish(std::vector<SseEvent>* out);

  // The reconnection time the stream last set with a valid `retry:` field.
  std::optional<int64_t> retry() const { return retry_; }
  // The last event id as of the last dispatched (blank-line-terminated) event.
  const std::string& last_event_id() const { return last_event_id_; }

 private:
  void Line(std::string_view line, std::vector<SseEvent>* out);
  // Whether `more` bytes can be held on top of what the current event holds; if not, Overflow().
  bool Fits(size_t more);
  // Stops the parser at the bound, dropping what the event held.
  void Overflow();

  size_t max_event_bytes_;
  bool overflowed_ = false;

  std::string line_;      // the current, unfinished line
  bool skip_lf_ = false;  // the last byte was CR: a following LF belongs to it
  bool at_start_ = true;  // still looking for a byte-order mark
  std::string bom_;       // the start of a possible BOM split across chunks
  std::string data_;
  std::string type_;
  bool has_data_ = false;
  std::string id_buffer_;      // set by id: lines
  std::string last_event_id_;  // id_buffer_ as of the last dispatch
  std::optional<int64_t> retry_;
};

}  // namespace scaffold::net
