// Human input for `ask` phases: request ids, and turning an answer into the phase's output.
//
// Answers by type:
//   approval  yes/no (y, true, approve, ok / n, false, reject, deny) or a boolean, or an explicit
//             `approved` flag with any value; output {"approved": bool, "value": value-or-null}
//   choice    one of the options, or its 1-based number; output the option
//   text      a string; output the string
//   json      any JSON value matching the ask's schema; output the value
#pragma once

#include <optional>
#include <string>

#include "engine/workflow.h"

namespace scaffold::engine {

// "review" on the first visit, "review#2" on the second, ...
std::string AskId(const std::string& phase, int visit);

struct AskAnswer {
  Json value;                    // as recorded in input:received
  std::optional<bool> approved;  // approval asks only
};

// Checks an answer against the ask and normalizes it; kInvalidArgument says what was expected.
Result<AskAnswer> NormalizeAnswer(const AskSpec& ask, const Json& value,
                                  std::optional<bool> approved);

// The ask's `default` as an answer.
AskAnswer DefaultAnswer(const AskSpec& ask);

// The phase output for a normalized answer.
Json AskOutput(const AskSpec& ask, const AskAnswer& answer);

// Turns text typed at a terminal or given with --answer into a value for NormalizeAnswer: JSON
// asks parse it as JSON, the others take it as a string.
Result<Json> ParseTypedAnswer(const AskSpec& ask, const std::string& text);

}  // namespace scaffold::engine
