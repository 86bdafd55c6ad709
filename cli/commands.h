// The subcommands. Each SetupX adds its subcommand to the app, binding flags to an options
// struct; when the subcommand is chosen its callback runs it and stores the exit code.
#pragma once

namespace CLI {
class App;
}

namespace scaffold::cli {

void SetupRun(CLI::App& app, int* exit_code);
void SetupValidate(CLI::App& app, int* exit_code);
void SetupResume(CLI::App& app, int* exit_code);
void SetupFork(CLI::App& app, int* exit_code);
void SetupSessions(CLI::App& app, int* exit_code);
void SetupEvents(CLI::App& app, int* exit_code);
void SetupState(CLI::App& app, int* exit_code);

}  // namespace scaffold::cli
