// The scaffold executable: registers the subcommands and maps their results to exit codes.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

#include "cli/commands.h"
#include "cli/exit_codes.h"

int main(int argc, char** argv) {
  // `scaffold --version` answers before the parser is built: CLI11 reports its version flag by
  // throwing, and setting up every subcommand and unwinding cost more than the rest of this
  // command's start-up. Nothing was set up, so nothing is torn down: the static objects'
  // destructors are skipped (each touches a page of code no other part of this run needed).
  // The flag is still registered below, for --help.
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    if (std::puts("scaffold " SCAFFOLD_VERSION) >= 0 && std::fflush(stdout) == 0)
      std::_Exit(scaffold::cli::kExitOk);
    std::fprintf(stderr, "scaffold: error: cannot write to stdout\n");
    std::_Exit(scaffold::cli::kExitFailed);
  }
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
