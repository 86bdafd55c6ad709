// The scaffold executable: registers the subcommands and maps their results to exit codes.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "cli/exit_codes.h"

int main(int argc, char** argv) {
  CLI::App app("scaffold runs LLM-agent workflows defined in JSON", "scaffold");
  app.set_version_flag("--version", "scaffold " SCAFFOLD_VERSION);
  app.require_subcommand(1);
  int exit_code = scaffold::cli::kExitOk;
  scaffold::cli::SetupCommands(app, &exit_code, scaffold::cli::InvokedCommand(argc, argv));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? scaffold::cli::kExitOk : scaffold::cli::kExitUsage;
  } catch (const std::exception& e) {
    // What no command turned into an error of its own (a system library that cannot be
    // loaded): reported, never an abort.
    std::fprintf(stderr, "scaffold: error: %s\n", e.what());
    return scaffold::cli::kExitFailed;
  }
  return exit_code;
}
