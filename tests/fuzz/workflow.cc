// Fuzz target: the workflow loader and validator (scaffold validate, and every run).

#include "engine/workflow.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto loaded = scaffold::engine::LoadWorkflow(scaffold::fuzz::AsText(data, size));
  for (const auto& d : loaded.diagnostics) (void)d.ToString();
  return 0;
}
