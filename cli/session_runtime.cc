#include "cli/session_runtime.h"

#include "cli/common.h"
#include "cli/session_driver.h"
#include "net/llm_provider.h"

namespace scaffold::cli {

SessionRuntime::SessionRuntime(const SessionFlags& flags) {
  options.provider_override = flags.provider;
  options.model_override = flags.model;
}

bool OpenStore(SessionRuntime* rt, const SessionFlags& flags) {
  rt->store = OpenStoreOrReport(flags.db);
  return rt->store != nullptr;
}

bool PrepareProviders(SessionRuntime* rt, const engine::Workflow& workflow,
                      const SessionFlags& flags) {
  auto endpoints = net::ResolveEndpoints(workflow, flags.provider, net::ProcessEnvironment());
  if (!endpoints.ok()) {
    PrintError(endpoints.status().message());
    return false;
  }
  rt->provider = std::make_unique<net::LlmProvider>(std::move(*endpoints));
  rt->tools = std::make_unique<engine::NoToolHost>();
  return true;
}

int Drive(SessionRuntime* rt, engine::Session* session, const engine::Workflow& workflow,
          const SessionFlags& flags) {
  auto answers = ParseAnswers(flags.answers);
  if (!answers.ok()) {
    PrintError(answers.status().message());
    return kExitUsage;
  }
  DriveOptions options;
  options.prices = engine::PriceTable::BuiltIn();
  for (const auto& [model, price] : workflow.prices) options.prices.Set(model, price);
  for (const auto& flag : flags.prices) {
    if (Status s = options.prices.SetFromFlag(flag); !s.ok()) {
      PrintError(s.message());
      return kExitUsage;
    }
  }
  options.json = flags.json;
  options.quiet = flags.quiet;
  options.no_color = flags.no_color;
  options.answers = *answers;
  return DriveSession(session, workflow, &rt->loop, options);
}

}  // namespace scaffold::cli
