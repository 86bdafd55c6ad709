#include "recordings/recording_exchanges.h"

#include <algorithm>
#include <optional>

#include "engine/json_reader.h"

namespace scaffold::recordings {

Result<Exchange> ParseExchange(Json&& line, const std::string& session_id, int64_t seq) {
  Exchange ex;
  {
    JsonReader in(line);
    JsonReader x = in.Child("exchange", true);
    ex.session_id = session_id;
    ex.seq = x.Int("seq", 1);
    ex.key = x.String("key");
    ex.occurrence = x.Int("occurrence", 1);
    ex.agent = x.OptString("agent").value_or("");
    (void)x.Value("request");
    (void)x.Value("response");
    if (!in.ok()) return InvalidArgument("an exchange: " + in.status().ToString());
  }
  if (ex.seq != seq)
    return InvalidArgument("an exchange out of order (seq " + std::to_string(ex.seq) + ")");
  // Checked present above: moved out of the line, not copied.
  Json& fields = line["exchange"];
  ex.request = std::move(fields["request"]);
  ex.response = std::move(fields["response"]);
  if (ExchangeKey(ex.request) != ex.key)
    return InvalidArgument("the exchange's request does not match its key");
  return ex;
}

Result<Exchange> ParseExchangeLine(std::string_view line, const std::string& session_id,
                                   int64_t seq) {
  auto parsed = ParseJson(line);
  if (!parsed.ok()) return parsed.status();
  return ParseExchange(std::move(*parsed), session_id, seq);
}

Status RecordingExchanges::Add(size_t line, std::string_view text, const Exchange& x) {
  auto& same_key = by_key_[x.key];
  for (size_t i : same_key) {
    if (entries_[i].occurrence == x.occurrence) {
      return InvalidArgument("a second exchange for the same request and occurrence (line " +
                             std::to_string(entries_[i].line) + " has it)");
    }
  }
  same_key.push_back(entries_.size());
  entries_.push_back({line, text, x.key, x.occurrence, x.agent});
  return Status::Ok();
}

Result<Exchange> RecordingExchanges::Load(size_t index) const {
  const Entry& e = entries_[index];
  auto x = ParseExchangeLine(e.text, session_id_, static_cast<int64_t>(index) + 1);
  if (!x.ok())
    return InvalidArgument("line " + std::to_string(e.line) + ": " + x.status().message());
  return x;
}

RecordingExchanges::~RecordingExchanges() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  if (ahead_.joinable()) ahead_.join();
}

Result<Exchange> RecordingExchanges::Take(size_t index) {
  std::unique_lock<std::mutex> lock(mu_);
  if (!ahead_.joinable()) ahead_ = std::thread([this] { ParseAhead(); });
  changed_.wait(lock, [&] { return parsing_ != index; });
  std::optional<Result<Exchange>> taken;
  if (auto it = parsed_.find(index); it != parsed_.end()) {
    taken = std::move(it->second);
    parsed_.erase(it);
  }
  // Only the next few are kept.
  std::erase_if(parsed_, [&](const auto& item) {
    return item.first <= index || item.first > index + kAhead;
  });
  next_ = std::max(next_, index + 1);
  if (next_ > index + kAhead + 1) next_ = index + 1;
  until_ = std::min(entries_.size(), index + 1 + kAhead);
  lock.unlock();
  changed_.notify_all();
  if (taken) return std::move(*taken);
  return Load(index);
}

void RecordingExchanges::ParseAhead() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    changed_.wait(lock, [&] { return stop_ || next_ < until_; });
    if (stop_) return;
    size_t index = next_++;
    if (parsed_.count(index)) continue;
    parsing_ = index;
    lock.unlock();
    auto x = Load(index);
    lock.lock();
    parsed_.emplace(index, std::move(x));
    parsing_ = SIZE_MAX;
    changed_.notify_all();
  }
}

Result<std::vector<std::string>> RecordingExchanges::RedactPatterns(
    const std::string& session_id) {
  if (session_id != session_id_) return NotFound("no session " + session_id + " in the recording");
  return redact_;
}

Status RecordingExchanges::AppendExchange(const Exchange&) {
  return Status(ErrorCode::kFailedPrecondition, "a recording file's exchanges are not written to");
}

Result<int64_t> RecordingExchanges::CountExchanges(const std::string& session_id,
                                                   const std::string& key) {
  if (session_id != session_id_) return 0;
  auto it = by_key_.find(key);
  return it == by_key_.end() ? 0 : static_cast<int64_t>(it->second.size());
}

Result<std::optional<Exchange>> RecordingExchanges::FindExchange(
    const std::string& key, int64_t occurrence, const std::optional<std::string>& session_id) {
  auto it = by_key_.find(key);
  if (!Mine(session_id) || it == by_key_.end()) return std::optional<Exchange>();
  for (size_t i : it->second) {
    if (entries_[i].occurrence != occurrence) continue;
    auto x = Take(i);
    if (!x.ok()) return x.status();
    return std::optional<Exchange>(std::move(*x));
  }
  return std::optional<Exchange>();
}

Result<std::vector<Exchange>> RecordingExchanges::ExchangesForAgent(
    const std::string& agent, const std::optional<std::string>& session_id, int64_t limit) {
  std::vector<Exchange> out;
  if (!Mine(session_id)) return out;
  for (size_t i = entries_.size(); i-- > 0 && static_cast<int64_t>(out.size()) < limit;) {
    if (entries_[i].agent != agent) continue;
    auto x = Load(i);
    if (!x.ok()) return x.status();
    out.push_back(std::move(*x));
  }
  return out;
}

}  // namespace scaffold::recordings
