// The scaffold executable: answers --version, and hands every other command line to the parser
// (cli/commands.cc).

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "cli/commands.h"
#include "cli/exit_codes.h"

int main(int argc, char** argv) {
  // `scaffold --version` answers before the parser is built: CLI11 reports its version flag by
  // throwing, and setting up every subcommand and unwinding cost more than the rest of this
  // command's start-up. Nothing was set up, so nothing is torn down: the static objects'
  // destructors are skipped (each touches a page of code no other part of this run needed).
  // The flag is still registered with the parser, for --help.
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    if (std::puts("scaffold " SCAFFOLD_VERSION) >= 0 && std::fflush(stdout) == 0)
      std::_Exit(scaffold::cli::kExitOk);
    std::fprintf(stderr, "scaffold: error: cannot write to stdout\n");
    std::_Exit(scaffold::cli::kExitFailed);
  }
  return scaffold::cli::RunCommandLine(argc, argv);
}
