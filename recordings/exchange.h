// A recorded provider exchange: one model call's normalized request and what came back.
//
// `request` is ModelRequest::ToJson() (keys sorted, so two requests differing only in a
// property name differ), after --redact masking; `key` is the sha256 of its compact text.
// `occurrence` numbers identical requests within a session (a retried call repeats its request).
// `response` is {"stream": [{"type": "text"|"thinking", "text": ...}, ...], "outcome":
// "complete" | "error" | "timeout", "response": ModelResponse (complete), "error":
// ProviderError (error)}: every delta in order, then how the call ended.
#pragma once

#include <string>

#include "engine/json.h"

namespace scaffold::recordings {

struct Exchange {
  std::string session_id;
  int64_t seq = 0;  // recording order within the session, from 1
  std::string key;
  int64_t occurrence = 1;
  std::string agent;
  Json request;
  Json response;
};

// The key of a canonical request.
std::string ExchangeKey(const Json& request);

}  // namespace scaffold::recordings
