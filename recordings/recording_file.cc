#include "recordings/recording_file.h"

#include <openssl/evp.h>

#include <algorithm>
#include <deque>
#include <stdexcept>

#include "engine/crypto.h"
#include "engine/event_shape.h"
#include "engine/json_reader.h"
#include "engine/parallel.h"
#include "engine/redactor.h"
#include "recordings/recording_exchanges.h"
#include "recordings/sha256.h"

namespace scaffold::recordings {
namespace {

// Incremental sha256 over the lines written or read before the end line.
class Digest {
 public:
  Digest() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ && EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
      EVP_MD_CTX_free(ctx_);
      ctx_ = nullptr;
    }
  }
  ~Digest() { EVP_MD_CTX_free(ctx_); }
  void Add(std::string_view data) {
    if (ctx_) (void)EVP_DigestUpdate(ctx_, data.data(), data.size());  // Hex() reports failure
  }
  std::string Hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!ctx_ || EVP_DigestFinal_ex(ctx_, digest, &n) != 1)
      throw std::runtime_error("sha256: " + engine::CryptoError());
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < n; ++i) {
      out += kHex[digest[i] >> 4];
      out += kHex[digest[i] & 15];
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

Json SessionJson(const engine::SessionInfo& s) {
  Json out = {{"id", s.id},
              {"owner", s.owner},
              {"workflowName", s.workflow_name},
              {"status", engine::SessionStatusName(s.status)},
              {"createdAt", s.created_at},
              {"updatedAt", s.updated_at}};
  if (!s.parent_id.empty()) {
    out["parentId"] = s.parent_id;
    out["forkPosition"] = s.fork_position;
  }
  return out;
}

Json ExchangeJson(const Exchange& x) {
  return Json{{"seq", x.seq},     {"key", x.key},         {"occurrence", x.occurrence},
              {"agent", x.agent}, {"request", x.request}, {"response", x.response}};
}

// A line is one JSON document: "invalid JSON: parse error at line 1, column 7: ..." reads
// "not valid JSON at column 7: ...".
std::string LineJsonError(const Status& s) {
  std::string m = s.message();
  static const std::string kPrefix = "invalid JSON: parse error at line 1, ";
  if (m.rfind(kPrefix, 0) == 0) return "not valid JSON at " + m.substr(kPrefix.size());
  if (m.rfind("invalid JSON: ", 0) == 0) return "not valid JSON: " + m.substr(14);
  return m;
}

Status LineError(size_t line, const std::string& message) {
  return InvalidArgument("line " + std::to_string(line) + ": " + message);
}

// The lines of a recording file, one at a time: the header, the exchanges, where each event's
// wire form is, the checksum and the counts. The events are parsed afterwards: all at once
// (ReadRecording) or one at a time when asked for (RecordingText).
class RecordingReader {
 public:
  // The problem with line `number`, if any.
  Status Line(size_t number, std::string_view line) {
    if (ended_) return LineError(number, "text after the end line");
    // An event line as export writes it, {"event":<the stored wire form>}: the event is parsed
    // later, once, in place, and keeps those bytes as its wire form.
    static constexpr std::string_view kEventPrefix = "{\"event\":";
    if (number > 1 && line.size() > kEventPrefix.size() + 1 && line.starts_with(kEventPrefix) &&
        line.back() == '}') {
      AddEvent(number, line.substr(kEventPrefix.size(), line.size() - kEventPrefix.size() - 1));
      return Checksummed(line);
    }
    static constexpr std::string_view kExchangePrefix = "{\"exchange\":";
    if (defer_exchanges_ && number > 1 && line.starts_with(kExchangePrefix))
      return Defer(number, line);
    auto parsed = ParseJson(line);
    if (!parsed.ok() || !parsed->is_object()) {
      std::string why = parsed.ok() ? "not a JSON object" : LineJsonError(parsed.status());
      return LineError(number, number == 1 ? "not a scaffold recording (" + why + ")"
                                           : why + " (is the file damaged?)");
    }
    const Json& j = *parsed;
    if (number == 1) {
      if (Status s = Header(j); !s.ok()) return LineError(1, s.message());
    } else if (j.contains("exchange")) {
      if (defer_exchanges_) return Defer(number, line);
      if (!wires_.empty()) return LineError(number, "an exchange after the events");
      if (Status s = AddExchange(std::move(*parsed)); !s.ok())
        return LineError(number, s.message());
    } else if (j.contains("event")) {
      // Written some other way (spacing, key order): given the canonical form first.
      auto event = engine::Event::Parse(DumpJson(j["event"]));
      if (!event.ok()) return LineError(number, event.status().message());
      event->Serialize();
      rewritten_.push_back(std::move(event->wire));
      AddEvent(number, rewritten_.back());
    } else if (j.contains("end")) {
      JsonReader in(j);
      JsonReader e = in.Child("end", true);
      std::string sha256 = e.String("sha256");
      int64_t events = e.Int("events", 0);
      int64_t exchanges = e.Int("exchanges", 0);
      if (!in.ok()) return LineError(number, in.status().ToString());
      if (sha256 != digest_.Hex())
        return LineError(number, "checksum mismatch: the file was changed after export");
      if (events != static_cast<int64_t>(wires_.size()) ||
          exchanges != static_cast<int64_t>(exchanges_seen_)) {
        return LineError(number, "the end line's counts do not match the file");
      }
      ended_ = true;
      return Status::Ok();
    } else {
      return LineError(number, "not an exchange, an event or the end line");
    }
    return Checksummed(line);
  }

  // Parses the events (on several threads for a long file); they must be numbered 1, 2, ... in
  // file order. On a problem, `*line` is the line of the first bad one.
  Status ParseEvents(size_t* line) {
    size_t bad = 0;
    Status s = engine::ParseEvents(wires_, &rec_.events, &bad);
    for (size_t i = 0; s.ok() && i < rec_.events.size(); ++i) {
      int64_t position = rec_.events[i]->position;
      if (position != static_cast<int64_t>(i) + 1) {
        bad = i;
        s = InvalidArgument("event position " + std::to_string(position) + " where " +
                            std::to_string(i + 1) + " was expected");
      } else if (Status shape = engine::CheckEventShape(*rec_.events[i]); !shape.ok()) {
        bad = i;
        s = InvalidArgument(shape.message());
      }
    }
    *line = first_event_line_ + bad;
    return s;
  }

  // Exchange lines are kept as text (deferred()) and checked afterwards (CheckExchangeLines),
  // not parsed into the recording.
  void DeferExchanges() { defer_exchanges_ = true; }
  struct Deferred {
    size_t line;
    std::string_view text;
  };
  const std::vector<Deferred>& deferred() const { return deferred_; }
  size_t exchanges_seen() const { return exchanges_seen_; }
  bool ended() const { return ended_; }
  std::vector<std::string_view>& wires() { return wires_; }
  std::deque<std::string>& rewritten() { return rewritten_; }
  size_t first_event_line() const { return first_event_line_; }
  int64_t expected_events() const { return expected_events_; }
  size_t expected_exchanges() const { return expected_exchanges_; }
  Recording& recording() { return rec_; }

 private:
  Status Header(const Json& j) {
    if (!j.contains("scaffold_recording"))
      return InvalidArgument("not a scaffold recording (no header)");
    if (j["scaffold_recording"] != kRecordingFormat) {
      return InvalidArgument("unsupported recording format " +
                             DumpJson(j["scaffold_recording"]).substr(0, 64) +
                             " (this build reads " + std::to_string(kRecordingFormat) + ")");
    }
    JsonReader in(j);
    JsonReader s = in.Child("session", true);
    engine::SessionInfo& info = rec_.info;
    info.id = s.String("id");
    info.owner = s.OptString("owner").value_or("");
    info.workflow_name = s.OptString("workflowName").value_or("");
    std::string status = s.OptString("status").value_or("running");
    info.created_at = s.OptInt("createdAt", 0).value_or(0);
    info.updated_at = s.OptInt("updatedAt", 0).value_or(0);
    info.parent_id = s.OptString("parentId").value_or("");
    info.fork_position = s.OptInt("forkPosition", 0).value_or(0);
    info.workflow_source = in.String("workflow");
    info.workflow_sha256 = in.String("workflow_sha256");
    info.input = in.Value("input");
    JsonReader redact = in.List("redact");
    for (size_t i = 0; i < redact.json().size(); ++i) {
      const Json& p = redact.json()[i];
      if (!p.is_string()) {
        redact.FailAt(redact.PathOf(i), JsonReader::Expected("a string", p));
        break;
      }
      info.redact.push_back(p.get<std::string>());
    }
    expected_events_ = in.Int("events", 0);
    expected_exchanges_ = static_cast<size_t>(in.Int("exchanges", 0));
    if (!in.ok()) return InvalidArgument("the header: " + in.status().ToString());
    auto parsed_status = engine::ParseSessionStatus(status);
    if (!parsed_status)
      return InvalidArgument("the header: unknown session status \"" + status.substr(0, 32) + "\"");
    info.status = *parsed_status;
    if (auto redactor = engine::Redactor::Compile(info.redact); !redactor.ok())
      return InvalidArgument("the header: " + redactor.status().message());
    if (Sha256Hex(info.workflow_source) != info.workflow_sha256)
      return InvalidArgument("the workflow does not match its sha256 (the file was changed)");
    return Status::Ok();
  }

  Status AddExchange(Json&& line) {
    int64_t seq = static_cast<int64_t>(exchanges_seen_) + 1;
    auto ex = ParseExchange(std::move(line), rec_.info.id, seq);
    if (!ex.ok()) return ex.status();
    ++exchanges_seen_;
    rec_.exchanges.push_back(std::move(*ex));
    return Status::Ok();
  }

  void AddEvent(size_t number, std::string_view wire) {
    if (wires_.empty()) first_event_line_ = number;
    wires_.push_back(wire);
  }

  Status Defer(size_t number, std::string_view line) {
    if (!wires_.empty()) return LineError(number, "an exchange after the events");
    deferred_.push_back({number, line});
    ++exchanges_seen_;
    return Checksummed(line);
  }

  Status Checksummed(std::string_view line) {
    digest_.Add(line);
    digest_.Add("\n");
    return Status::Ok();
  }

  Recording rec_;
  bool defer_exchanges_ = false;
  std::vector<Deferred> deferred_;
  size_t exchanges_seen_ = 0;
  Digest digest_;
  int64_t expected_events_ = -1;
  size_t expected_exchanges_ = 0;
  bool ended_ = false;
  std::vector<std::string_view> wires_;  // each event line's event, in the file's buffer
  std::deque<std::string> rewritten_;    // or here, for event lines written some other way
  size_t first_event_line_ = 0;
};

}  // namespace

Status ExportRecording(Store* store, const std::string& session_id, std::ostream& out) {
  auto info = store->GetSession(session_id);
  if (!info.ok()) return info.status();
  auto exchanges = store->ListExchanges(session_id);
  if (!exchanges.ok()) return exchanges.status();
  Digest digest;
  auto write = [&](const std::string& line) {
    digest.Add(line);
    digest.Add("\n");
    out << line << '\n';
  };
  Json header = {{"scaffold_recording", kRecordingFormat},
                 {"scaffold_version", SCAFFOLD_RECORDINGS_VERSION},
                 {"session", SessionJson(*info)},
                 {"workflow", info->workflow_source},
                 {"workflow_sha256", info->workflow_sha256},
                 {"input", info->input},
                 {"redact", info->redact},
                 {"events", info->event_count},
                 {"exchanges", exchanges->size()}};
  write(DumpJson(header));
  for (const auto& x : *exchanges) write(DumpJson({{"exchange", ExchangeJson(x)}}));
  int64_t after = 0;
  while (after < info->event_count) {
    auto page = store->ReadEvents(session_id, after, 4096);
    if (!page.ok()) return page.status();
    if (page->empty()) break;
    for (const auto& e : *page) {
      write("{\"event\":" + e->wire + "}");
      after = e->position;
    }
  }
  Json end = {{"end",
               {{"events", info->event_count},
                {"exchanges", exchanges->size()},
                {"sha256", digest.Hex()}}}};
  out << DumpJson(end) << '\n';
  out.flush();
  if (!out) return Status(ErrorCode::kUnavailable, "could not write the recording");
  return Status::Ok();
}

namespace {

// The whole of `in`, or an error when it holds more than `max_bytes`. A file's size is known
// before anything is read; a pipe is read in chunks and refused at the first byte past the bound,
// so an endless stream costs at most `max_bytes` of memory.
Result<std::string> ReadAll(std::istream& in, size_t max_bytes) {
  auto too_large = [&] {
    return InvalidArgument("the recording is larger than " + std::to_string(max_bytes) +
                           " bytes, the most scaffold reads");
  };
  std::string data;
  if (in.seekg(0, std::ios::end); in) {
    // A file: one read of its size, no growing buffer.
    auto size = static_cast<uint64_t>(std::max<std::streamoff>(in.tellg(), 0));
    if (size > max_bytes) return too_large();
    data.resize(static_cast<size_t>(size));
    in.seekg(0, std::ios::beg);
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    data.resize(static_cast<size_t>(in.gcount()));
    return data;
  }
  in.clear();
  constexpr size_t kChunk = 64 << 10;
  for (;;) {
    size_t at = data.size();
    if (at == max_bytes) {
      // Full: one byte more is one too many.
      if (in.peek() == std::istream::traits_type::eof()) return data;
      return too_large();
    }
    size_t want = std::min(kChunk, max_bytes - at);
    // Doubling up to the bound, never past it: a 1 GiB stream is not given 2 GiB.
    if (at + want > data.capacity())
      data.reserve(std::min(max_bytes, std::max(at + want, 2 * data.capacity())));
    data.resize(at + want);
    in.read(data.data() + at, static_cast<std::streamsize>(want));
    data.resize(at + static_cast<size_t>(in.gcount()));
    if (!in) return data;
  }
}

// Checks every line of `data`; `*lines` is how many there are.
Status ScanLines(std::string_view data, RecordingReader* reader, size_t* lines) {
  Status scanned;
  size_t number = 0;
  for (size_t at = 0; at < data.size() && scanned.ok();) {
    size_t eol = std::min(data.find('\n', at), data.size());
    scanned = reader->Line(++number, data.substr(at, eol - at));
    at = eol + 1;
  }
  *lines = number;
  return scanned;
}

// What is wrong with the file as a whole, once its lines are read.
Status CheckWhole(RecordingReader& reader, size_t lines, size_t events) {
  if (lines == 0) return InvalidArgument("the file is empty");
  if (!reader.ended()) {
    return LineError(lines, "the file ends without its end line: it was cut short (" +
                                std::to_string(events) + " of " +
                                std::to_string(reader.expected_events()) + " events)");
  }
  if (reader.exchanges_seen() != reader.expected_exchanges() ||
      static_cast<int64_t>(events) != reader.expected_events()) {
    return LineError(1, "the header's counts do not match the file");
  }
  return Status::Ok();
}

}  // namespace

Result<Recording> ReadRecording(std::istream& in, size_t max_bytes) {
  auto read = ReadAll(in, max_bytes);
  if (!read.ok()) return read.status();
  std::string data = std::move(read).value();
  // The lines first, then the events; the problem reported is the one on the earliest line.
  RecordingReader reader;
  size_t number = 0;
  Status scanned = ScanLines(data, &reader, &number);
  size_t bad_line = 0;
  Status parsed = reader.ParseEvents(&bad_line);
  if (!parsed.ok() && (scanned.ok() || bad_line < number))
    return LineError(bad_line, parsed.message());
  if (!scanned.ok()) return scanned;
  Recording& rec = reader.recording();
  SCAFFOLD_RETURN_IF_ERROR(CheckWhole(reader, number, rec.events.size()));
  rec.info.event_count = static_cast<int64_t>(rec.events.size());
  return std::move(rec);
}

namespace {

// Checks a recording's exchange lines (read as RecordingReader::DeferExchanges keeps them), on
// several threads when there are many, and indexes them. A problem names the earliest bad line.
Result<std::unique_ptr<RecordingExchanges>> CheckExchangeLines(
    const engine::SessionInfo& info, const std::vector<RecordingReader::Deferred>& lines) {
  struct Checked {
    Exchange header;  // without its request and response
    Status problem;
  };
  std::vector<Checked> checked(lines.size());
  auto check = [&](size_t i) {
    const auto& [number, text] = lines[i];
    auto parsed = ParseJson(text);
    if (!parsed.ok() || !parsed->is_object()) {
      std::string why = parsed.ok() ? "not a JSON object" : LineJsonError(parsed.status());
      checked[i].problem = LineError(number, why + " (is the file damaged?)");
      return false;
    }
    auto x = ParseExchange(std::move(*parsed), info.id, static_cast<int64_t>(i) + 1);
    if (!x.ok()) {
      checked[i].problem = LineError(number, x.status().message());
      return false;
    }
    x->request = Json();
    x->response = Json();
    checked[i].header = std::move(*x);
    return true;
  };
  engine::ForEachInChunks(lines.size(), 64, check);

  auto out = std::make_unique<RecordingExchanges>(info.id, info.redact);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (!checked[i].problem.ok()) return checked[i].problem;
    if (Status s = out->Add(lines[i].line, lines[i].text, checked[i].header); !s.ok())
      return LineError(lines[i].line, s.message());
  }
  return out;
}

}  // namespace

Result<RecordingText> ReadRecordingText(std::istream& in, size_t max_bytes) {
  auto read = ReadAll(in, max_bytes);
  if (!read.ok()) return read.status();
  auto data = std::make_shared<const std::string>(std::move(read).value());
  RecordingReader reader;
  reader.DeferExchanges();
  size_t number = 0;
  Status scanned = ScanLines(*data, &reader, &number);
  // The exchange lines read before any problem; theirs come first in the file.
  auto exchanges = CheckExchangeLines(reader.recording().info, reader.deferred());
  if (!exchanges.ok()) return exchanges.status();
  SCAFFOLD_RETURN_IF_ERROR(scanned);
  SCAFFOLD_RETURN_IF_ERROR(CheckWhole(reader, number, reader.wires().size()));
  RecordingText text;
  Recording& rec = reader.recording();
  text.info_ = std::move(rec.info);
  text.info_.event_count = static_cast<int64_t>(reader.wires().size());
  text.exchanges_ = std::move(*exchanges);
  text.data_ = std::move(data);
  text.rewritten_ = std::make_shared<std::deque<std::string>>(std::move(reader.rewritten()));
  text.wires_ = std::move(reader.wires());
  text.first_event_line_ = reader.first_event_line();
  return text;
}

Result<engine::EventPtr> RecordingText::Event(size_t i) const {
  size_t line = first_event_line_ + i;
  auto event = engine::Event::Parse(wires_[i]);
  if (!event.ok()) return LineError(line, event.status().message());
  if (event->position != static_cast<int64_t>(i) + 1) {
    return LineError(line, "event position " + std::to_string(event->position) + " where " +
                               std::to_string(i + 1) + " was expected");
  }
  if (Status shape = engine::CheckEventShape(*event); !shape.ok()) {
    return LineError(line, shape.message());
  }
  event->wire = std::string();  // the text stays in the file's buffer
  return std::make_shared<const engine::Event>(std::move(*event));
}

Status ImportRecording(Store* store, const Recording& recording) {
  auto existing = store->GetSession(recording.info.id);
  if (existing.ok()) {
    return Status(ErrorCode::kAlreadyExists,
                  "session " + recording.info.id + " is already in " + store->Describe());
  }
  return store->ImportSession(recording.info, recording.events, recording.exchanges);
}

}  // namespace scaffold::recordings
