// The scaffold executable: registers the subcommands and maps their results to exit codes.

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/exit_codes.h"

namespace {

struct Command {
  void (*setup)(CLI::App&, int*);
};

const Command kCommands[] = {
    {scaffold::cli::SetupRun},    {scaffold::cli::SetupValidate}, {scaffold::cli::SetupResume},
    {scaffold::cli::SetupFork},   {scaffold::cli::SetupSessions}, {scaffold::cli::SetupEvents},
    {scaffold::cli::SetupState},
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("scaffold runs LLM-agent workflows defined in JSON", "scaffold");
  app.set_version_flag("--version", "scaffold " SCAFFOLD_VERSION);
  app.require_subcommand(1);
  int exit_code = scaffold::cli::kExitOk;
  for (const auto& c : kCommands) c.setup(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : scaffold::cli::kExitUsage;
  }
  return exit_code;
}
