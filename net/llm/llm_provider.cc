#include "net/llm/llm_provider.h"

#include <cmath>
#include <cstdlib>
#include <ctime>
#include <set>

#include "net/llm/anthropic.h"
#include "net/llm/openai.h"

namespace scaffold::net {
namespace {

using engine::ProviderError;
using engine::ProviderErrorKind;

// A reply the process refuses to hold (Endpoint::max_reply_bytes, SseParser's event bound).
ProviderError TooLarge(const Endpoint& endpoint, const std::string& what, size_t bound) {
  return {ProviderErrorKind::kOther,
          "the reply from " + endpoint.name + " " + what + " larger than " + std::to_string(bound) +
              " bytes",
          0, std::nullopt, false};
}

std::optional<int64_t> RetryAfterMs(const std::map<std::string, std::string>& headers) {
  if (auto it = headers.find("retry-after-ms"); it != headers.end()) {
    char* end = nullptr;
    double ms = std::strtod(it->second.c_str(), &end);
    if (end != it->second.c_str() && ms >= 0) return static_cast<int64_t>(std::min(ms, 1e12));
  }
  if (auto it = headers.find("retry-after"); it != headers.end()) {
    char* end = nullptr;
    double seconds = std::strtod(it->second.c_str(), &end);
    if (end != it->second.c_str() && *end == '\0' && seconds >= 0)
      return static_cast<int64_t>(std::min(seconds, 1e9) * 1000);
    tm when{};
    if (strptime(it->second.c_str(), "%a, %d %b %Y %H:%M:%S", &when)) {
      int64_t delta =
          static_cast<int64_t>(timegm(&when)) - static_cast<int64_t>(std::time(nullptr));
      return std::max<int64_t>(0, delta * 1000);
    }
  }
  return std::nullopt;
}

ProviderError TransportError(const Endpoint& endpoint, const TransferResult& r) {
  std::string where = endpoint.name + " (" + endpoint.base_url + ")";
  switch (r.outcome) {
    case TransferResult::Outcome::kConnectFailed:
      return {ProviderErrorKind::kServerError, "cannot connect to " + where + ": " + r.error, 0,
              std::nullopt, true};
    case TransferResult::Outcome::kConnectTimeout:
      return {ProviderErrorKind::kTimeout, "connecting to " + where + " timed out", 0, std::nullopt,
              true};
    case TransferResult::Outcome::kStalled:
      return {ProviderErrorKind::kTimeout, "the stream from " + where + " stalled: " + r.error, 0,
              std::nullopt, true};
    case TransferResult::Outcome::kBroken:
      return {ProviderErrorKind::kServerError, "the connection to " + where + " broke: " + r.error,
              0, std::nullopt, true};
    default:
      return {ProviderErrorKind::kOther, "request to " + where + " failed: " + r.error, 0,
              std::nullopt, false};
  }
}

class StreamingCall : public Transfer, public std::enable_shared_from_this<StreamingCall> {
 public:
  StreamingCall(Endpoint endpoint, engine::Executor* executor, engine::ModelStreamHandler* handler,
                std::unique_ptr<StreamDecoder> decoder)
      : endpoint_(std::move(endpoint)),
        executor_(executor),
        handler_(handler),
        decoder_(std::move(decoder)) {}

  std::atomic<bool> cancelled{false};

  bool OnHead(const HttpHead& head) override {
    status_ = head.status;
    headers_ = head.headers;
    return !cancelled;
  }

  bool OnData(std::string_view data) override {
    if (cancelled) return false;
    if (status_ < 200 || status_ >= 300) {
      if (error_body_.size() < 65536)
        error_body_.append(data.substr(0, 65536 - error_body_.size()));
      return true;
    }
    received_ += data.size();
    if (received_ > endpoint_.max_reply_bytes) {
      PostError(TooLarge(endpoint_, "is", endpoint_.max_reply_bytes));
      return false;
    }
    events_.clear();
    sse_.Feed(data, &events_);
    if (!Decode()) return false;
    if (sse_.overflowed()) {
      PostError(TooLarge(endpoint_, "has an event", sse_.max_event_bytes()));
      return false;
    }
    return true;
  }

  void OnDone(const TransferResult& result) override {
    if (cancelled) return;
    if (result.outcome != TransferResult::Outcome::kOk)
      return PostError(TransportError(endpoint_, result));
    if (status_ < 200 || status_ >= 300)
      return PostError(HttpStatusError(endpoint_, status_, headers_, error_body_));
    events_.clear();
    sse_.Finish(&events_);
    if (!Decode()) return;
    if (!decoder_->Complete()) {
      return PostError(StreamError("the stream from " + endpoint_.name +
                                   " ended before the response was complete"));
    }
    engine::ModelResponse response;
    std::optional<ProviderError> error;
    try {
      error = decoder_->Finish(&response);
    } catch (const std::exception& e) {
      error = StreamError(std::string("internal error reading the response: ") + e.what());
    }
    if (error) return PostError(*error);
    auto self = shared_from_this();
    executor_->Post([self, response = std::move(response)]() mutable {
      if (!self->cancelled) self->handler_->OnComplete(std::move(response));
    });
  }

 private:
  // Decodes events_; false (the error posted) when the stream cannot go on. A decoder never
  // throws; the catch is the last resort that keeps a bug from ending the process.
  bool Decode() {
    std::vector<StreamDelta> deltas;
    std::optional<ProviderError> error;
    try {
      for (const auto& e : events_) {
        if ((error = decoder_->OnEvent(e, &deltas))) break;
      }
    } catch (const std::exception& e) {
      error = StreamError(std::string("internal error reading the stream: ") + e.what());
    }
    PostDeltas(std::move(deltas));
    if (error) PostError(*error);
    return !error;
  }

  void PostDeltas(std::vector<StreamDelta> deltas) {
    if (deltas.empty()) return;
    auto self = shared_from_this();
    executor_->Post([self, deltas = std::move(deltas)] {
      for (const auto& d : deltas) {
        if (self->cancelled) return;
        if (d.thinking) {
          self->handler_->OnThinkingDelta(d.text);
        } else {
          self->handler_->OnTextDelta(d.text);
        }
      }
    });
  }

  void PostError(ProviderError error) {
    auto self = shared_from_this();
    executor_->Post([self, error = std::move(error)] {
      if (!self->cancelled) self->handler_->OnError(error);
    });
  }

  const Endpoint endpoint_;
  engine::Executor* const executor_;
  engine::ModelStreamHandler* const handler_;
  // CurlLoop thread only.
  std::unique_ptr<StreamDecoder> decoder_;
  SseParser sse_;
  std::vector<SseEvent> events_;
  int status_ = 0;
  std::map<std::string, std::string> headers_;
  std::string error_body_;
  size_t received_ = 0;  // bytes of a 2xx reply's stream
};

class LlmCall : public engine::ModelCall {
 public:
  LlmCall(std::shared_ptr<StreamingCall> call, CurlLoop* loop, uint64_t id)
      : call_(std::move(call)), loop_(loop), id_(id) {}
  ~LlmCall() override { Cancel(); }
  void Cancel() override {
    if (!call_->cancelled.exchange(true)) loop_->Cancel(id_);
  }

 private:
  std::shared_ptr<StreamingCall> call_;
  CurlLoop* loop_;
  uint64_t id_;
};

// Reports an error for a request that never reaches the network.
class FailedCall : public engine::ModelCall {
 public:
  FailedCall(engine::Executor* executor, engine::ModelStreamHandler* handler, ProviderError error)
      : cancelled_(std::make_shared<bool>(false)) {
    executor->Post([c = cancelled_, handler, error] {
      if (!*c) handler->OnError(error);
    });
  }
  ~FailedCall() override { Cancel(); }
  void Cancel() override { *cancelled_ = true; }

 private:
  std::shared_ptr<bool> cancelled_;
};

std::string HostOf(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  std::string rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find('/'));
  if (auto at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest[0] == '[') return rest.substr(1, rest.find(']') - 1);
  return rest.substr(0, rest.find(':'));
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v || !*v) return std::nullopt;
    return std::string(v);
  };
}

bool IsLoopbackUrl(const std::string& url) {
  std::string host = HostOf(url);
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

Result<std::map<std::string, Endpoint>> ResolveEndpoints(const engine::Workflow& workflow,
                                                         const std::string& provider_override,
                                                         const EnvLookup& env) {
  std::map<std::string, std::vector<std::string>> users;  // provider -> agents
  for (const auto& [name, agent] : workflow.agents) {
    users[provider_override.empty() ? agent.provider : provider_override].push_back(name);
  }
  std::map<std::string, Endpoint> out;
  std::vector<std::string> problems;
  for (const auto& [name, agents] : users) {
    Endpoint e;
    e.name = name;
    std::string base_url, key_env;
    if (auto it = workflow.providers.find(name); it != workflow.providers.end()) {
      e.type = it->second.type;
      base_url = it->second.base_url;
      key_env = it->second.api_key_env;
      if (it->second.connect_timeout_ms > 0) e.connect_timeout_ms = it->second.connect_timeout_ms;
      if (it->second.stall_timeout_ms > 0) e.stall_timeout_ms = it->second.stall_timeout_ms;
    } else if (name == "anthropic" || name == "openai") {
      e.type = name;
    } else {
      problems.push_back("unknown provider \"" + name +
                         "\" (use anthropic, openai or a key of the workflow's \"providers\")");
      continue;
    }
    bool anthropic = e.type == "anthropic";
    if (base_url.empty())
      base_url = env(anthropic ? "ANTHROPIC_BASE_URL" : "OPENAI_BASE_URL").value_or("");
    if (base_url.empty())
      base_url = anthropic ? "https://api.anthropic.com" : "https://api.openai.com/v1";
    while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
    if (base_url.rfind("http://", 0) != 0 && base_url.rfind("https://", 0) != 0) {
      problems.push_back("provider \"" + name + "\": base URL \"" + base_url +
                         "\" is not an http(s) URL");
      continue;
    }
    e.base_url = base_url;
    e.api_key_env =
        key_env.empty() ? (anthropic ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY") : key_env;
    e.api_key = env(e.api_key_env).value_or("");
    if (e.api_key.empty() && !IsLoopbackUrl(base_url)) {
      std::string who;
      for (size_t i = 0; i < agents.size(); ++i) who += (i ? ", " : "") + agents[i];
      problems.push_back("provider \"" + name + "\" needs an API key: set " + e.api_key_env +
                         " (used by agent" + (agents.size() == 1 ? " " : "s ") + who + ")");
      continue;
    }
    out[name] = std::move(e);
  }
  if (!problems.empty()) {
    std::string message;
    for (size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
    return InvalidArgument(message);
  }
  return out;
}

ProviderError HttpStatusError(const Endpoint& endpoint, int status,
                              const std::map<std::string, std::string>& headers,
                              std::string_view body) {
  ProviderError e;
  e.http_status = status;
  e.retry_after_ms = RetryAfterMs(headers);
  std::string message = ErrorBodyMessage(body);
  e.message = endpoint.name + " returned HTTP " + std::to_string(status) + ": " + message;
  if (status == 429) {
    e.kind = ProviderErrorKind::kRateLimited;
  } else if (status == 529) {
    e.kind = ProviderErrorKind::kOverloaded;
  } else if (status == 408 || status == 409 || status >= 500) {
    e.kind = ProviderErrorKind::kServerError;
  } else if (status == 401 || status == 403) {
    e.kind = ProviderErrorKind::kAuthentication;
    e.message += " (check " + endpoint.api_key_env + ")";
  } else {
    e.kind = ProviderErrorKind::kInvalidRequest;
    if (status == 404 && endpoint.type == "openai" && endpoint.base_url.size() >= 3 &&
        endpoint.base_url.substr(endpoint.base_url.size() - 3) != "/v1") {
      e.message += " (OpenAI-compatible base URLs usually end in /v1)";
    }
  }
  e.retryable = e.kind == ProviderErrorKind::kRateLimited ||
                e.kind == ProviderErrorKind::kOverloaded ||
                e.kind == ProviderErrorKind::kServerError;
  if (auto it = headers.find("x-should-retry"); it != headers.end()) {
    if (it->second == "true") e.retryable = true;
    if (it->second == "false") e.retryable = false;
  }
  return e;
}

LlmProvider::LlmProvider(std::map<std::string, Endpoint> endpoints)
    : endpoints_(std::move(endpoints)) {}

size_t LlmProvider::active() const {
  std::lock_guard<std::mutex> lock(loop_mu_);
  return loop_ ? loop_->active() : 0;
}

CurlLoop& LlmProvider::Loop() {
  std::lock_guard<std::mutex> lock(loop_mu_);
  if (!loop_) loop_ = std::make_unique<CurlLoop>();
  return *loop_;
}

std::unique_ptr<engine::ModelCall> LlmProvider::Start(const engine::ModelRequest& request,
                                                      engine::Executor* executor,
                                                      engine::ModelStreamHandler* handler) {
  auto it = endpoints_.find(request.provider);
  if (it == endpoints_.end()) {
    return std::make_unique<FailedCall>(
        executor, handler,
        ProviderError{ProviderErrorKind::kInvalidRequest,
                      "no provider named \"" + request.provider + "\" is configured", 0,
                      std::nullopt, false});
  }
  const Endpoint& endpoint = it->second;
  bool anthropic = endpoint.type == "anthropic";
  HttpRequest http =
      anthropic ? BuildAnthropicRequest(request, endpoint) : BuildOpenAiRequest(request, endpoint);
  auto decoder = anthropic ? NewAnthropicDecoder(request) : NewOpenAiDecoder(request);
  auto call = std::make_shared<StreamingCall>(endpoint, executor, handler, std::move(decoder));
  CurlLoop& loop = Loop();
  uint64_t id = loop.Start(std::move(http), call);
  return std::make_unique<LlmCall>(std::move(call), &loop, id);
}

}  // namespace scaffold::net
