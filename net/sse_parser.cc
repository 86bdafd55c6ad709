#include "net/sse_parser.h"

namespace scaffold::net {

bool SseParser::Fits(size_t more) {
  if (line_.size() + data_.size() + type_.size() + more <= max_event_bytes_) return true;
  Overflow();
  return false;
}

void SseParser::Overflow() {
  overflowed_ = true;
  line_.clear();
  data_.clear();
}

void SseParser::Feed(std::string_view chunk, std::vector<SseEvent>* out) {
  static constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (overflowed_) return;
  if (at_start_) {
    // The stream may start with a BOM, which may itself arrive in pieces.
    while (!chunk.empty() && bom_.size() < 3 && chunk[0] == kBom[bom_.size()]) {
      bom_ += chunk[0];
      chunk.remove_prefix(1);
    }
    if (bom_.size() < 3 && chunk.empty()) return;  // undecided: wait for more bytes
    at_start_ = false;
    if (bom_.size() < 3) line_ = bom_;  // not a BOM after all: those bytes are data
  }
  size_t start = 0;
  for (size_t i = 0; i < chunk.size(); ++i) {
    char c = chunk[i];
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n') {
        start = i + 1;
        continue;
      }
    }
    if (c != '\r' && c != '\n') continue;
    if (!Fits(i - start)) return;
    line_.append(chunk.substr(start, i - start));
    Line(line_, out);
    line_.clear();
    if (overflowed_) return;
    skip_lf_ = c == '\r';
    start = i + 1;
  }
  if (!Fits(chunk.size() - start)) return;
  line_.append(chunk.substr(start));
}

void SseParser::Finish(std::vector<SseEvent>* out) {
  if (overflowed_) return;
  if (!line_.empty()) {
    Line(line_, out);
    line_.clear();
  }
  Line("", out);
}

void SseParser::Line(std::string_view line, std::vector<SseEvent>* out) {
  if (line.empty()) {
    // Dispatch. The stream's last event id takes the buffer's value even for an event with no
    // data, which is not delivered.
    last_event_id_ = id_buffer_;
    if (has_data_) {
      SseEvent e;
      e.type = type_.empty() ? "message" : type_;
      e.data = data_;
      if (!e.data.empty() && e.data.back() == '\n') e.data.pop_back();
      e.last_event_id = last_event_id_;
      out->push_back(std::move(e));
    }
    data_.clear();
    type_.clear();
    has_data_ = false;
    return;
  }
  if (line[0] == ':') return;  // comment
  std::string_view field = line, value;
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  }
  if (field == "data") {
    // The line is held too until it is done with: data grows by at most the line's length.
    if (data_.size() + value.size() + 1 > max_event_bytes_) return Overflow();
    data_.append(value);
    data_ += '\n';
    has_data_ = true;
  } else if (field == "event") {
    type_ = std::string(value);
  } else if (field == "id") {
    if (value.find('\0') == std::string_view::npos) id_buffer_ = std::string(value);
  } else if (field == "retry") {
    if (!value.empty() && value.find_first_not_of("0123456789") == std::string_view::npos &&
        value.size() < 18) {
      retry_ = std::stoll(std::string(value));
    }
  }
}

}  // namespace scaffold::net
