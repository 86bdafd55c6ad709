// Fuzz target: Mustache templates. The first line is the context (JSON), the rest the
// template; rendered as prompts are (raw) and with HTML escaping, with partials from the
// context's "partials" object.

#include "engine/template.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [context_text, source] = scaffold::fuzz::SplitFirstLine(scaffold::fuzz::AsText(data, size));
  auto context = scaffold::ParseJson(context_text);
  if (!context.ok()) return 0;
  (void)scaffold::engine::ScanTemplate(source);
  scaffold::engine::TemplateOptions options;
  (void)scaffold::engine::RenderTemplate(source, *context, options);
  options.html_escape = true;
  if (context->is_object() && context->contains("partials")) options.partials = &(*context)["partials"];
  (void)scaffold::engine::RenderTemplate(source, *context, options);
  (void)scaffold::engine::RenderTemplateLeaves(scaffold::Json{{"a", std::string(source)}}, *context);
  return 0;
}
