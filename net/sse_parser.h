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

class SseParser {
 public:
  // Parses `chunk` and appends the events it completes to `out`.
  void Feed(std::string_view chunk, std::vector<SseEvent>* out);

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
