// LlmProvider: the engine's Provider over real HTTP. Routes each request by its provider name
// to an Endpoint (Anthropic Messages or OpenAI Chat Completions), streams the reply through
// the process's one CurlLoop, and posts decoded deltas to the session's executor in batches,
// one task per network read.
//
// Configuration (DESIGN §6): the built-in providers `anthropic` (ANTHROPIC_API_KEY,
// ANTHROPIC_BASE_URL without /v1, default https://api.anthropic.com) and `openai`
// (OPENAI_API_KEY, OPENAI_BASE_URL with /v1, default https://api.openai.com/v1), and named
// entries of the workflow's `providers` map, which may also redefine the built-in names. A key
// is required unless the base URL is on the loopback interface.
//
// Failures become ProviderErrors the engine retries or reports: 429 rate_limited, 529
// overloaded, 408/409/5xx and broken connections server_error, connect and stall timeouts
// timeout (all retryable, honouring retry-after-ms, retry-after and x-should-retry); 400, 404,
// 413, 422 invalid request and 401/403 authentication are not retried. No message ever
// contains a key.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "engine/provider.h"
#include "engine/workflow.h"
#include "net/curl_loop.h"
#include "net/llm/llm_api.h"

namespace scaffold::net {

// Looks up an environment variable.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnvironment();

// True for http(s) URLs whose host is on the loopback interface (localhost, 127.x, ::1).
bool IsLoopbackUrl(const std::string& url);

// The endpoints of every provider the workflow's agents use (all of them named
// `provider_override` when it is set). Fails before anything runs when a provider is unknown,
// a base URL is not http(s), or a key is missing, naming the variable to set.
Result<std::map<std::string, Endpoint>> ResolveEndpoints(const engine::Workflow& workflow,
                                                         const std::string& provider_override,
                                                         const EnvLookup& env);

// The error for an HTTP error response.
engine::ProviderError HttpStatusError(const Endpoint& endpoint, int status,
                                      const std::map<std::string, std::string>& headers,
                                      std::string_view body);

class LlmProvider : public engine::Provider {
 public:
  explicit LlmProvider(std::map<std::string, Endpoint> endpoints);

  std::unique_ptr<engine::ModelCall> Start(const engine::ModelRequest& request,
                                           engine::Executor* executor,
                                           engine::ModelStreamHandler* handler) override;

  // Transfers in flight.
  size_t active() const;

 private:
  // The transfer loop (and libcurl, opened on first use) starts with the first call, so a run
  // whose workflow never calls a model does not pay for them.
  CurlLoop& Loop();

  const std::map<std::string, Endpoint> endpoints_;
  mutable std::mutex loop_mu_;
  std::unique_ptr<CurlLoop> loop_;
};

}  // namespace scaffold::net
