// The subcommands: each has an options struct filled from its flags and a RunX function that
// does the work and returns the exit code (one file per subcommand, cmd_*.cc). The flags are
// bound in commands.cc, the only place that sees CLI11 (each file that includes it builds its
// validators at start-up).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/run_flags.h"

namespace scaffold::cli {

struct RunCommandOptions {
  std::string file;
  std::string input;
  std::string input_file;
  bool has_input = false;
  std::string server;  // --server URL: run it on a scaffold server instead
  std::string token;   // --token, else $SCAFFOLD_TOKEN
  SessionFlags session;
};

struct AttachOptions {
  std::string url;
  std::string id;
  std::string token;  // --token, else $SCAFFOLD_TOKEN
  bool resume = false;
  SessionFlags session;  // answers, prices and output flags
};

struct ValidateOptions {
  std::string file;
  bool json = false;
};

struct ResumeOptions {
  std::string id;
  SessionFlags session;
};

struct ForkOptions {
  std::string id;
  int64_t at = 0;
  bool no_run = false;
  SessionFlags session;
};

struct SessionsOptions {
  std::string db;
  std::string id;
  std::string file;    // import: the recording file
  std::string output;  // export: -o FILE (default stdout)
  bool json = false;
  int64_t limit = 50;
};

struct EventsOptions {
  std::string db;
  std::string id;
  int64_t from = 1;
  bool follow = false;
  bool json = false;
  bool no_color = false;
};

struct StateOptions {
  std::string db;
  std::string id;
  int64_t at = 0;
};

struct McpOptions {
  std::vector<std::string> files;  // workflow files
  std::string workflows_dir;       // --workflows DIR
  std::string db;
  std::string mode = "live";
  bool allow_commands = false;
};

struct ReplayOptions {
  std::string target;    // a session id (or prefix) or a recording file
  std::string workflow;  // --workflow: replay this file instead of the recorded workflow
  std::string db;
  bool json = false;
  bool quiet = false;
  bool no_color = false;
};

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  std::string workflows_dir;
  std::vector<std::string> workflow_files;
  std::string db;
  std::string mode = "live";
  std::string auth = "none";
  std::string jwt_secret_file, jwt_public_key, jwks_file, jwt_issuer, jwt_audience;
  bool insecure_no_auth = false;
  std::vector<std::string> cors_origins;
  std::vector<std::string> allowed_hosts;  // --allowed-host, beside the loopback names
  std::string default_workflow;            // --default-workflow
  std::string metrics_listen;              // --metrics-listen HOST:PORT
  int threads = 0;
  size_t max_body_bytes = 1 << 20;
  size_t max_ws_message_bytes = 1 << 20;
  int max_connections = 10000;
  size_t max_send_queue_bytes = 8 << 20;
  int64_t header_timeout_ms = 10000;
  int64_t idle_timeout_ms = 60000;
  int64_t heartbeat_ms = 15000;
  bool no_access_log = false;
  bool allow_commands = false;  // --allow-commands
  // Several nodes on one PostgreSQL (--db postgresql://...).
  std::string node_id;  // --node-id; a random one when empty
  int64_t lease_ms = 15000;
  int max_running = 0;  // 0: no limit
};

int RunRun(const RunCommandOptions& o);
int RunServe(const ServeOptions& o);
int RunMcp(const McpOptions& o);
int RunAttach(const AttachOptions& o);

struct ClientOptions {
  std::string url;
  std::string token;               // --token, else $SCAFFOLD_TOKEN
  std::vector<std::string> tools;  // --tool NAME=PROGRAM
  bool quiet = false;
};
int RunClient(const ClientOptions& o);

int RunReplay(const ReplayOptions& o);
int RunExport(const SessionsOptions& o);
int RunImport(const SessionsOptions& o);
int RunValidate(const ValidateOptions& o);
int RunResume(const ResumeOptions& o);
int RunFork(const ForkOptions& o);
int RunList(const SessionsOptions& o);
int RunShow(const SessionsOptions& o);
int RunRemove(const SessionsOptions& o);
int RunEvents(const EventsOptions& o);
int RunState(const StateOptions& o);

// Parses the command line and runs the command it names; returns the exit code. Usage errors
// are told on stderr (exit 2), --help on stdout.
int RunCommandLine(int argc, char** argv);

}  // namespace scaffold::cli
