#include "recordings/recording_file.h"

#include <openssl/evp.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <sstream>

#include "recordings/sha256.h"

namespace scaffold::recordings {
namespace {

// Incremental sha256 over the lines written or read before the end line.
class Digest {
 public:
  Digest() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Digest() { EVP_MD_CTX_free(ctx_); }
  void Add(std::string_view data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
  std::string Hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_, digest, &n);
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

Status LineError(size_t line, const std::string& message) {
  return InvalidArgument("line " + std::to_string(line) + ": " + message);
}

// Parses the event lines' wire forms; events must be numbered 1, 2, ... in file order. On a
// problem, `*bad` is the index of the first bad one.
Status ParseEventLines(const std::vector<std::string_view>& wires,
                       std::vector<engine::EventPtr>* out, size_t* bad) {
  if (Status s = engine::ParseEvents(wires, out, bad); !s.ok()) return s;
  for (size_t i = 0; i < out->size(); ++i) {
    int64_t position = (*out)[i]->position;
    if (position != static_cast<int64_t>(i) + 1) {
      *bad = i;
      return InvalidArgument("event position " + std::to_string(position) + " where " +
                             std::to_string(i + 1) + " was expected");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ExportRecording(SqliteStore* store, const std::string& session_id, std::ostream& out) {
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

Result<Recording> ReadRecording(std::istream& in) {
  std::string data;
  if (in.seekg(0, std::ios::end); in) {
    // A file: one read of its size, no growing buffer.
    data.resize(static_cast<size_t>(in.tellg()));
    in.seekg(0, std::ios::beg);
    in.read(data.data(), static_cast<std::streamsize>(data.size()));
    data.resize(static_cast<size_t>(in.gcount()));
  } else {
    in.clear();
    std::ostringstream buffer;
    buffer << in.rdbuf();
    data = std::move(buffer).str();
  }

  // First a pass over the lines: the header, the exchanges, the checksum and counts, and where
  // each event's wire form is. Then the events are parsed (in parallel). The problem reported
  // is the one on the earliest line.
  Recording rec;
  Digest digest;
  size_t number = 0;
  int64_t expected_events = -1;
  size_t expected_exchanges = 0;
  bool ended = false;
  std::vector<std::string_view> wires;  // each event line's event
  std::deque<std::string> rewritten;    // event lines written some other way, made canonical
  size_t first_event_line = 0;
  std::optional<Status> scan_error;
  size_t scan_error_line = 0;
  auto fail = [&](size_t line, const std::string& message) {
    scan_error = LineError(line, message);
    scan_error_line = line;
  };
  static constexpr std::string_view kEventPrefix = "{\"event\":";
  for (size_t at = 0; at < data.size() && !scan_error;) {
    size_t eol = data.find('\n', at);
    if (eol == std::string::npos) eol = data.size();
    std::string_view line(data.data() + at, eol - at);
    at = eol + 1;
    ++number;
    if (ended) {
      fail(number, "text after the end line");
      break;
    }
    auto add_event = [&](std::string_view wire) {
      if (wires.empty()) first_event_line = number;
      wires.push_back(wire);
      digest.Add(line);
      digest.Add("\n");
    };
    // An event line as export writes it, {"event":<the stored wire form>}: the event is parsed
    // once, in place, and keeps those bytes as its wire form.
    if (number > 1 && line.size() > kEventPrefix.size() + 1 && line.starts_with(kEventPrefix) &&
        line.back() == '}') {
      add_event(line.substr(kEventPrefix.size(), line.size() - kEventPrefix.size() - 1));
      continue;
    }
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      fail(number, number == 1 ? "not a scaffold recording (not JSON)"
                               : "not valid JSON (is the file damaged?)");
      break;
    }
    if (number == 1) {
      if (!j.contains("scaffold_recording")) {
        fail(1, "not a scaffold recording (no header)");
        break;
      }
      if (j["scaffold_recording"] != kRecordingFormat) {
        fail(1, "unsupported recording format " + DumpJson(j["scaffold_recording"]) +
                    " (this build reads " + std::to_string(kRecordingFormat) + ")");
        break;
      }
      const Json& s = j.value("session", Json::object());
      rec.info.id = s.value("id", "");
      rec.info.owner = s.value("owner", "");
      rec.info.workflow_name = s.value("workflowName", "");
      rec.info.status = engine::ParseSessionStatus(s.value("status", "running"))
                            .value_or(engine::SessionStatus::kRunning);
      rec.info.created_at = s.value("createdAt", int64_t{0});
      rec.info.updated_at = s.value("updatedAt", int64_t{0});
      rec.info.parent_id = s.value("parentId", "");
      rec.info.fork_position = s.value("forkPosition", int64_t{0});
      rec.info.workflow_source = j.value("workflow", "");
      rec.info.workflow_sha256 = j.value("workflow_sha256", "");
      rec.info.input = j.value("input", Json());
      for (const auto& p : j.value("redact", Json::array())) rec.info.redact.push_back(p);
      expected_events = j.value("events", int64_t{-1});
      expected_exchanges = j.value("exchanges", size_t{0});
      if (rec.info.id.empty()) {
        fail(1, "the header has no session id");
        break;
      }
      if (Sha256Hex(rec.info.workflow_source) != rec.info.workflow_sha256) {
        fail(1, "the workflow does not match its sha256 (the file was changed)");
        break;
      }
    } else if (j.contains("exchange")) {
      if (!wires.empty()) {
        fail(number, "an exchange after the events");
        break;
      }
      const Json& x = j["exchange"];
      Exchange ex;
      ex.session_id = rec.info.id;
      ex.seq = x.value("seq", int64_t{0});
      ex.key = x.value("key", "");
      ex.occurrence = x.value("occurrence", int64_t{0});
      ex.agent = x.value("agent", "");
      ex.request = x.value("request", Json());
      ex.response = x.value("response", Json());
      if (ex.key.empty() || ex.seq != static_cast<int64_t>(rec.exchanges.size()) + 1 ||
          ex.occurrence < 1) {
        fail(number, "a malformed exchange");
        break;
      }
      if (ExchangeKey(ex.request) != ex.key) {
        fail(number, "the exchange's request does not match its key");
        break;
      }
      rec.exchanges.push_back(std::move(ex));
    } else if (j.contains("event")) {
      // Written some other way (spacing, key order): parsed, then given the canonical form.
      auto event = engine::Event::Parse(DumpJson(j["event"]));
      if (!event.ok()) {
        fail(number, event.status().message());
        break;
      }
      event->Serialize();
      rewritten.push_back(std::move(event->wire));
      add_event(rewritten.back());
      continue;
    } else if (j.contains("end")) {
      const Json& e = j["end"];
      if (e.value("sha256", "") != digest.Hex()) {
        fail(number, "checksum mismatch: the file was changed after export");
        break;
      }
      if (e.value("events", int64_t{-1}) != static_cast<int64_t>(wires.size()) ||
          e.value("exchanges", size_t{0}) != rec.exchanges.size()) {
        fail(number, "the end line's counts do not match the file");
        break;
      }
      ended = true;
      continue;
    } else {
      fail(number, "not an exchange, an event or the end line");
      break;
    }
    digest.Add(line);
    digest.Add("\n");
  }

  size_t bad = 0;
  Status parsed = ParseEventLines(wires, &rec.events, &bad);
  if (!parsed.ok() && (!scan_error || first_event_line + bad < scan_error_line))
    return LineError(first_event_line + bad, parsed.message());
  if (scan_error) return *scan_error;
  if (number == 0) return InvalidArgument("the file is empty");
  if (!ended) {
    return LineError(number, "the file ends without its end line: it was cut short (" +
                                 std::to_string(rec.events.size()) + " of " +
                                 std::to_string(expected_events) + " events)");
  }
  if (rec.exchanges.size() != expected_exchanges ||
      static_cast<int64_t>(rec.events.size()) != expected_events) {
    return LineError(1, "the header's counts do not match the file");
  }
  rec.info.event_count = static_cast<int64_t>(rec.events.size());
  return rec;
}

Status ImportRecording(SqliteStore* store, const Recording& recording) {
  auto existing = store->GetSession(recording.info.id);
  if (existing.ok()) {
    return Status(ErrorCode::kAlreadyExists,
                  "session " + recording.info.id + " is already in " + store->path());
  }
  return store->ImportSession(recording.info, recording.events, recording.exchanges);
}

}  // namespace scaffold::recordings
