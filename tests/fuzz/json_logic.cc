// Fuzz target: JSON Logic. The first line is the rule, the rest the data; the rule is checked
// as the workflow validator checks it, then evaluated.

#include "engine/json_logic.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [rule_text, data_text] = scaffold::fuzz::SplitFirstLine(scaffold::fuzz::AsText(data, size));
  auto rule = scaffold::ParseJson(rule_text);
  if (!rule.ok()) return 0;
  auto context = scaffold::ParseJson(data_text.empty() ? "{}" : data_text);
  if (!context.ok()) return 0;
  std::vector<scaffold::engine::LogicIssue> issues;
  scaffold::engine::CheckLogic(*rule, "", &issues);
  std::vector<scaffold::engine::LogicVar> vars;
  scaffold::engine::CollectLogicVars(*rule, "", &vars);
  auto result = scaffold::engine::EvaluateLogic(*rule, *context);
  if (result.ok()) (void)scaffold::DumpJson(*result);
  return 0;
}
