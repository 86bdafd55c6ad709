#include "cli/session_runtime.h"

#include <filesystem>

#include "cli/common.h"
#include "cli/session_driver.h"
#include "net/llm/llm_provider.h"
#include "net/tools/program_tools.h"
#include "net/tools/tool_router.h"

namespace scaffold::cli {

SessionRuntime::SessionRuntime(const SessionFlags& flags) {
  options.provider_override = flags.provider;
  options.model_override = flags.model;
  options.redact = flags.redact;
}

engine::SessionDeps SessionRuntime::Deps() {
  if (!recorder) {
    recorder = std::make_unique<recordings::RecordingProvider>(
        store.get(), live.get(), recordings::RecordingProvider::Options{mode, false});
  }
  return {store.get(), recorder.get(), tools.get(), &loop, &clock};
}

bool OpenStore(SessionRuntime* rt, const SessionFlags& flags) {
  rt->store = OpenStoreOrReport(flags.db);
  return rt->store != nullptr;
}

bool PrepareTools(SessionRuntime* rt, const engine::Workflow& workflow, const SessionFlags& flags) {
  std::map<std::string, std::string> programs;
  for (const auto& flag : flags.tools) {
    auto tool = net::ParseToolFlag(flag);
    if (!tool.ok()) {
      PrintError(tool.status().message());
      return false;
    }
    auto decl = workflow.tools.find(tool->name);
    if (decl == workflow.tools.end() || decl->second.type != "client") {
      PrintError("--tool " + flag + ": the workflow declares no client tool \"" + tool->name +
                 "\"");
      return false;
    }
    programs[tool->name] = tool->program;
  }
  net::ToolRouterOptions options;
  options.data_dir = DataDirFor(flags.db);
  options.allow_commands = flags.allow_commands;
  if (rt->mode == recordings::RecordMode::kPlayback)
    options.no_mcp_reason = "MCP servers are not started in playback mode";
  if (!programs.empty()) {
    rt->client_tools = std::make_unique<net::ProgramTools>(std::move(programs));
    options.client_tools = rt->client_tools.get();
  }
  options.no_client_hint = [](const std::string& tool) {
    return " (serve it with --tool " + tool + "=PROGRAM)";
  };

  rt->tools = std::make_unique<net::ToolRouter>(std::move(options));
  return true;
}

bool PrepareProviders(SessionRuntime* rt, const engine::Workflow& workflow,
                      const SessionFlags& flags, const std::string& provider_override) {
  auto mode = recordings::ParseRecordMode(flags.mode);
  if (!mode.ok()) {
    PrintError(mode.status().message());
    return false;
  }
  rt->mode = *mode;
  if (!PrepareTools(rt, workflow, flags)) return false;
  if (rt->mode == recordings::RecordMode::kPlayback) return true;
  auto endpoints = net::ResolveEndpoints(workflow, provider_override, net::ProcessEnvironment());
  if (!endpoints.ok()) {
    std::string hint = rt->mode == recordings::RecordMode::kAuto
                           ? " (auto mode may call the provider; --mode playback needs no key)"
                           : "";
    PrintError(endpoints.status().message() + hint);
    return false;
  }
  rt->live = std::make_unique<net::LlmProvider>(std::move(*endpoints));
  return true;
}

int Drive(SessionRuntime* rt, engine::Session* session, const engine::Workflow& workflow,
          const SessionFlags& flags) {
  auto options = MakeDriveOptions(flags, workflow.prices);
  if (!options.ok()) {
    PrintError(options.status().message());
    return kExitUsage;
  }
  LocalSession local(session);
  return DriveSession(&local, &rt->loop, *options);
}

}  // namespace scaffold::cli
