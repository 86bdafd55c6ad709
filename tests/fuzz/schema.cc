// Fuzz target: JSON Schema. The first line is the schema, the rest the value checked against
// it (as workflow inputs, agent outputs, answers and client tool inputs are).

#include "engine/schema.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [schema_text, value_text] = scaffold::fuzz::SplitFirstLine(scaffold::fuzz::AsText(data, size));
  auto source = scaffold::ParseJson(schema_text);
  if (!source.ok()) return 0;
  auto schema = scaffold::engine::JsonSchema::Compile(*source);
  if (!schema.ok()) return 0;
  auto value = scaffold::ParseJson(value_text.empty() ? "null" : value_text);
  if (!value.ok()) return 0;
  (void)scaffold::engine::DescribeViolations(schema->Validate(*value));
  return 0;
}
