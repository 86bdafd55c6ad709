#include "recordings/recording_provider.h"

#include "engine/json_reader.h"

namespace scaffold::recordings {
namespace {

using engine::ModelStreamHandler;

// Wraps a live call: forwards everything to the engine and records the exchange when the call
// ends (or times out).
class RecordingCall : public engine::ModelCall, public ModelStreamHandler {
 public:
  RecordingCall(RecordingProvider* owner, Exchange exchange, ModelStreamHandler* handler)
      : owner_(owner), exchange_(std::move(exchange)), handler_(handler) {}

  void Begin(engine::Provider* inner, const engine::ModelRequest& request,
             engine::Executor* executor) {
    inner_call_ = inner->Start(request, executor, this);
  }

  void Cancel() override {
    ended_ = true;
    if (inner_call_) inner_call_->Cancel();
  }

  void TimedOut() override {
    if (!ended_) Finish("timeout", Json());
    Cancel();
  }

  void OnTextDelta(std::string_view d) override {
    stream_.push_back({{"type", "text"}, {"text", std::string(d)}});
    handler_->OnTextDelta(d);
  }
  void OnThinkingDelta(std::string_view d) override {
    stream_.push_back({{"type", "thinking"}, {"text", std::string(d)}});
    handler_->OnThinkingDelta(d);
  }
  void OnComplete(engine::ModelResponse response) override {
    Status recorded = Finish("complete", response.ToJson());
    if (!recorded.ok()) {
      return handler_->OnError({engine::ProviderErrorKind::kOther,
                                "could not record the exchange: " + recorded.message(), 0,
                                std::nullopt, false});
    }
    handler_->OnComplete(std::move(response));
  }
  void OnError(engine::ProviderError error) override {
    Finish("error", error.ToJson());
    handler_->OnError(std::move(error));
  }

 private:
  Status Finish(const char* outcome, const Json& result) {
    ended_ = true;
    Json response = {{"stream", stream_}, {"outcome", outcome}};
    if (std::string(outcome) == "complete") response["response"] = result;
    if (std::string(outcome) == "error") response["error"] = result;
    exchange_.response = std::move(response);
    return owner_->Record(exchange_);
  }

  RecordingProvider* owner_;
  Exchange exchange_;
  ModelStreamHandler* handler_;
  std::unique_ptr<engine::ModelCall> inner_call_;
  Json stream_ = Json::array();
  bool ended_ = false;
};

// Plays a recorded exchange back, one delta per task, or reports a missing one.
class PlaybackCall : public engine::ModelCall {
 public:
  PlaybackCall(engine::Executor* executor, ModelStreamHandler* handler)
      : alive_(std::make_shared<bool>(true)) {
    executor_ = executor;
    handler_ = handler;
  }
  ~PlaybackCall() override { Cancel(); }
  void Cancel() override { *alive_ = false; }

  void Play(const Json& response) {
    auto alive = alive_;
    auto* handler = handler_;
    // A recording may come from anywhere: what it holds is checked before any of it is played.
    JsonReader in(response);
    JsonReader stream = in.List("stream");
    std::vector<std::pair<bool, std::string>> pieces;
    for (size_t i = 0; i < stream.json().size() && in.ok(); ++i) {
      JsonReader piece = stream.Item(i);
      bool thinking = piece.OptString("type").value_or("") == "thinking";
      pieces.emplace_back(thinking, piece.OptString("text").value_or(""));
    }
    std::string outcome = in.OptString("outcome").value_or("");
    std::optional<Result<engine::ModelResponse>> complete;
    std::optional<Result<engine::ProviderError>> error;
    if (in.ok() && outcome == "complete") complete = engine::ModelResponse::FromJson(in.Value("response"));
    if (in.ok() && outcome == "error") error = engine::ProviderError::FromJson(in.Value("error"));
    Status bad = !in.ok()                    ? in.status()
                 : complete && !complete->ok() ? complete->status()
                 : error && !error->ok()       ? error->status()
                                               : Status::Ok();
    if (!bad.ok()) {
      engine::ProviderError e;
      e.kind = engine::ProviderErrorKind::kInvalidRequest;
      e.message = "the recorded response is malformed: " + bad.ToString();
      return Fail(e);
    }
    for (auto& [thinking, text] : pieces) {
      executor_->Post([alive, handler, thinking = thinking, text = std::move(text)] {
        if (!*alive) return;
        if (thinking) {
          handler->OnThinkingDelta(text);
        } else {
          handler->OnTextDelta(text);
        }
      });
    }
    if (complete) {
      executor_->Post([alive, handler, r = std::move(complete->value())]() mutable {
        if (*alive) handler->OnComplete(std::move(r));
      });
    } else if (error) {
      executor_->Post([alive, handler, e = std::move(error->value())] {
        if (*alive) handler->OnError(e);
      });
    }
    // "timeout": the call never ended; the engine's own timeout fires, as it did when recorded.
  }

  void Fail(engine::ProviderError error) {
    auto alive = alive_;
    auto* handler = handler_;
    executor_->Post([alive, handler, error] {
      if (*alive) handler->OnError(error);
    });
  }

 private:
  std::shared_ptr<bool> alive_;
  engine::Executor* executor_;
  ModelStreamHandler* handler_;
};

}  // namespace

Result<RecordMode> ParseRecordMode(const std::string& text) {
  if (text == "live") return RecordMode::kLive;
  if (text == "playback") return RecordMode::kPlayback;
  if (text == "auto") return RecordMode::kAuto;
  return InvalidArgument("--mode " + text + ": expected live, playback or auto");
}

const char* RecordModeName(RecordMode mode) {
  switch (mode) {
    case RecordMode::kLive:
      return "live";
    case RecordMode::kPlayback:
      return "playback";
    case RecordMode::kAuto:
      return "auto";
  }
  return "live";
}

std::string MissingExchange::Describe() const {
  std::string out = "agent \"" + agent + "\": no recorded exchange for this request (occurrence " +
                    std::to_string(occurrence) + ", key " + key.substr(0, 12) + ")";
  if (!nearest) return out + "; nothing was recorded for this agent";
  out += "\n  nearest recorded request of \"" + agent + "\" differs:";
  size_t shown = 0;
  for (const auto& change : diff) {
    if (++shown > 12) {
      out += "\n    … and " + std::to_string(diff.size() - 12) + " more";
      break;
    }
    out += "\n    " + change.ToString();
  }
  if (diff.empty())
    out += " only in how many times it was sent (occurrence " + std::to_string(occurrence) + ")";
  return out;
}

Json MissingExchange::ToJson() const {
  Json changes = Json::array();
  for (const auto& c : diff) {
    const char* kind = c.kind == engine::JsonChange::Kind::kAdded     ? "added"
                       : c.kind == engine::JsonChange::Kind::kRemoved ? "removed"
                                                                      : "changed";
    changes.push_back({{"path", c.path}, {"kind", kind}, {"recorded", c.before}, {"now", c.after}});
  }
  return Json{{"agent", agent},
              {"key", key},
              {"occurrence", occurrence},
              {"request", request},
              {"nearestKey", nearest ? Json(nearest->key) : Json(nullptr)},
              {"diff", changes}};
}

RecordingProvider::RecordingProvider(ExchangeBook* book, engine::Provider* inner,
                                     Options options)
    : book_(book), inner_(inner), options_(options) {}

const engine::Redactor& RecordingProvider::RedactorFor(const std::string& session_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = redactors_.find(session_id);
  if (it != redactors_.end()) return it->second;
  engine::Redactor redactor;
  if (auto patterns = book_->RedactPatterns(session_id); patterns.ok()) {
    if (auto compiled = engine::Redactor::Compile(*patterns); compiled.ok())
      redactor = std::move(*compiled);
  }
  return redactors_.emplace(session_id, std::move(redactor)).first->second;
}

RecordingProvider::Prepared RecordingProvider::Prepare(const engine::ModelRequest& request) {
  Json canonical = RedactorFor(request.session_id).Apply(request.ToJson());
  std::string key = ExchangeKey(canonical);
  return {std::move(canonical), std::move(key)};
}

Status RecordingProvider::Record(const Exchange& exchange) {
  Exchange x = exchange;
  x.response = RedactorFor(x.session_id).Apply(x.response);
  auto count = book_->CountExchanges(x.session_id, x.key);
  if (!count.ok()) return count.status();
  x.occurrence = *count + 1;
  return book_->AppendExchange(x);
}

MissingExchange RecordingProvider::Explain(const engine::ModelRequest& request,
                                           const Prepared& prepared, int64_t occurrence) {
  MissingExchange miss;
  miss.session_id = request.session_id;
  miss.agent = request.agent;
  miss.key = prepared.key;
  miss.occurrence = occurrence;
  miss.request = prepared.request;
  std::optional<std::string> scope;
  if (options_.same_session_only) scope = request.session_id;
  auto candidates = book_->ExchangesForAgent(request.agent, scope, 200);
  if (candidates.ok()) {
    size_t best = static_cast<size_t>(-1);
    for (auto& c : *candidates) {
      auto diff = engine::DiffJson(c.request, prepared.request);
      if (diff.size() < best) {
        best = diff.size();
        miss.diff = std::move(diff);
        miss.nearest = std::move(c);
      }
    }
  }
  return miss;
}

std::unique_ptr<engine::ModelCall> RecordingProvider::Start(const engine::ModelRequest& request,
                                                            engine::Executor* executor,
                                                            ModelStreamHandler* handler) {
  Prepared prepared = Prepare(request);
  if (options_.mode != RecordMode::kLive) {
    int64_t occurrence;
    {
      std::lock_guard<std::mutex> lock(mu_);
      occurrence = ++started_[{request.session_id, prepared.key}];
    }
    std::optional<std::string> scope;
    if (options_.same_session_only) scope = request.session_id;
    auto found = book_->FindExchange(prepared.key, occurrence, scope);
    auto call = std::make_unique<PlaybackCall>(executor, handler);
    if (!found.ok()) {
      call->Fail({engine::ProviderErrorKind::kOther,
                  "cannot read recordings: " + found.status().message(), 0, std::nullopt, false});
      return call;
    }
    if (*found) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++played_;
      }
      call->Play((*found)->response);
      return call;
    }
    if (options_.mode == RecordMode::kPlayback || !inner_) {
      MissingExchange miss = Explain(request, prepared, occurrence);
      std::string message = miss.Describe();
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!first_miss_) first_miss_ = std::move(miss);
      }
      call->Fail({engine::ProviderErrorKind::kMissingRecording, message, 0, std::nullopt, false});
      return call;
    }
  }
  Exchange exchange;
  exchange.session_id = request.session_id;
  exchange.key = prepared.key;
  exchange.agent = request.agent;
  exchange.request = prepared.request;
  auto call = std::make_unique<RecordingCall>(this, std::move(exchange), handler);
  call->Begin(inner_, request, executor);
  return call;
}

std::optional<MissingExchange> RecordingProvider::first_miss() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_miss_;
}

int64_t RecordingProvider::played() const {
  std::lock_guard<std::mutex> lock(mu_);
  return played_;
}

}  // namespace scaffold::recordings
