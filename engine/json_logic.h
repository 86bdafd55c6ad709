// JSON Logic (jsonlogic.com): the expression language of workflow `update` values, `next`,
// conditions and `each.items`.
//
// Semantics follow the reference JavaScript implementation, including JavaScript's loose
// equality and number coercion, and are held to the upstream test suite. Two additions:
//  - `{"preserve": value}` returns `value` unevaluated, so a one-key object can be a constant;
//  - `substr` counts Unicode code points, not UTF-16 units.
// A single-key object whose key is not an operator is an error ("unknown operator"); objects
// with zero or several keys are constants.
#pragma once

#include <string>
#include <vector>

#include "engine/json.h"
#include "engine/status.h"

namespace scaffold::engine {

// Evaluates `rule` against `data`. Errors (unknown operator, malformed arguments) carry the JSON
// pointer of the offending sub-expression relative to the rule.
Result<Json> EvaluateLogic(const Json& rule, const Json& data);

// JSON Logic truthiness: false, null, 0, "" and [] are falsy; everything else is truthy.
bool LogicTruthy(const Json& value);

// A problem found by CheckLogic.
struct LogicIssue {
  std::string path;  // JSON pointer: `base` + the location inside the rule
  std::string message;
};

// Static checks for `scaffold validate`: unknown operators (with a suggestion) and operators
// given the wrong number of arguments where the count is fixed.
void CheckLogic(const Json& rule, const std::string& base, std::vector<LogicIssue>* issues);

// A `var` whose name is a constant string, found outside the scoped operators
// (map/filter/reduce/all/none/some bodies, where `var` refers to the current item).
struct LogicVar {
  std::string name;  // "state.ticket"
  std::string path;  // JSON pointer of the var expression
};
void CollectLogicVars(const Json& rule, const std::string& base, std::vector<LogicVar>* vars);

// The string constants the rule can evaluate to, following `if`/`?:` branches, `or`/`and`
// operands and constants. Returns false when some result is computed (a `var`, `cat`, ...), in
// which case `results` holds only the constants that were found.
bool CollectLogicResults(const Json& rule, std::vector<std::string>* results);

}  // namespace scaffold::engine
