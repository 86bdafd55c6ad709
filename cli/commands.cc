// The command line: flag bindings for every subcommand, and the parse. CLI11 lives here only: it
// is costly to compile, and each file that includes it builds its validators at start-up.

#include "cli/commands.h"

// clang-format off
#include "engine/no_iostream_init.h"  // before CLI/CLI.hpp, which includes <iostream>
#include <CLI/CLI.hpp>
// clang-format on

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>

#include "cli/exit_codes.h"
#include "cli/fd_ostream.h"
#include "engine/suggest.h"

namespace scaffold::cli {
namespace {

// Adds --db, --provider, --model, --answer, --price, --json, --quiet and --no-color.
void AddSessionFlags(CLI::App* cmd, SessionFlags* flags) {
  cmd->add_option("--db", flags->db,
                  "Database file (default: $SCAFFOLD_DB or .scaffold/scaffold.db)");
  cmd->add_option("--provider", flags->provider, "Use this provider for every agent");
  cmd->add_option("--model", flags->model, "Use this model for every agent");
  cmd->add_option("--answer", flags->answers,
                  "Answer an ask without prompting: ID=VALUE (repeatable)");
  cmd->add_option(
         "--mode", flags->mode,
         "live (call providers and record), playback (recordings only, no network) or auto")
      ->check(CLI::IsMember({"live", "playback", "auto"}));
  cmd->add_option("--price", flags->prices,
                  "A model's price in USD per million tokens: "
                  "MODEL=INPUT,OUTPUT[,CACHE_READ[,CACHE_WRITE]] (repeatable)");
  cmd->add_flag("--json", flags->json,
                "Print events as NDJSON, one per line, and nothing else on stdout");
  cmd->add_flag("--quiet,-q", flags->quiet, "Print only asks, errors and the summary");
  cmd->add_flag("--no-color", flags->no_color, "Never colour the output");
  cmd->add_option("--tool", flags->tools,
                  "Serve client tool NAME with PROGRAM: NAME=PROGRAM (repeatable; the request "
                  "JSON on its stdin, the response JSON on its stdout)");
  cmd->add_flag("--allow-commands", flags->allow_commands,
                "Let the workflow's command tools run programs (off by default)");
}

void SetupRun(CLI::App* cmd, int* exit_code) {
  auto o = std::make_shared<RunCommandOptions>();
  cmd->add_option("FILE", o->file, "Workflow file")->required();
  CLI::Option* input =
      cmd->add_option("--input", o->input,
                      "Session input: text, or JSON when the workflow's input is not a string");
  cmd->add_option("--input-file", o->input_file, "Read the session input from a file")
      ->excludes(input);
  AddSessionFlags(cmd, &o->session);
  cmd->add_option("--redact", o->session.redact,
                  "Mask matches of this regular expression in everything stored (repeatable)");
  cmd->add_option(
      "--server", o->server,
      "Run the session on this scaffold server (http://HOST:PORT) and follow it from here");
  cmd->add_option("--token", o->token, "Bearer token for --server (default: $SCAFFOLD_TOKEN)");
  cmd->callback([o, input, exit_code] {
    o->has_input = input->count() > 0;
    *exit_code = RunRun(*o);
  });
}

void SetupReplay(CLI::App* cmd, int* exit_code) {
  auto o = std::make_shared<ReplayOptions>();
  cmd->add_option("SESSION_OR_FILE", o->target,
                  "A session id (or unique prefix) or a recording file")
      ->required();
  cmd->add_option("--workflow", o->workflow,
                  "Replay this workflow file against the recording instead");
  cmd->add_flag("--json", o->json, "Print one JSON report and nothing else");
  cmd->add_flag("--quiet,-q", o->quiet, "Print only the verdict");
  cmd->add_flag("--no-color", o->no_color, "Never colour the output");
  cmd->add_option("--db", o->db, "Database file (default: $SCAFFOLD_DB or .scaffold/scaffold.db)");
  cmd->callback([o, exit_code] { *exit_code = RunReplay(*o); });
}

void SetupAttach(CLI::App* cmd, int* exit_code) {
  auto o = std::make_shared<AttachOptions>();
  cmd->add_option("URL", o->url, "The server, http://HOST:PORT")->required();
  cmd->add_option("SESSION", o->id, "The session's id")->required();
  cmd->add_option("--token", o->token, "Bearer token (default: $SCAFFOLD_TOKEN)");
  cmd->add_flag("--resume", o->resume, "Resume the session first if it is paused");
  cmd->add_option("--answer", o->session.answers,
                  "Answer an ask without prompting: ID=VALUE (repeatable)");
  cmd->add_option("--price", o->session.prices,
                  "A model's price in USD per million tokens: "
                  "MODEL=INPUT,OUTPUT[,CACHE_READ[,CACHE_WRITE]] (repeatable)");
  cmd->add_flag("--json", o->session.json,
                "Print events as NDJSON, one per line, and nothing else on stdout");
  cmd->add_flag("--quiet,-q", o->session.quiet, "Print only asks, errors and the summary");
  cmd->add_flag("--no-color", o->session.no_color, "Never colour the output");
  cmd->callback([o, exit_code] { *exit_code = RunAttach(*o); });
}

void SetupClient(CLI::App* cmd, int* exit_code) {
  auto o = std::make_shared<ClientOptions>();
  cmd->add_option("URL", o->url, "The server, http://HOST:PORT")->required();
  cmd->add_option("--tool", o->tools,
                  "Serve tool NAME by running PROGRAM: NAME=PROGRAM (repeatable; the request "
                  "JSON on its stdin, the response JSON on its stdout)")
      ->required();
  cmd->add_option("--token", o->token, "Bearer token (default: $SCAFFOLD_TOKEN)");
  cmd->add_flag("--quiet,-q", o->quiet, "Print only errors");
  cmd->callback([o, exit_code] { *exit_code = RunClient(*o); });
}

void SetupMcp(CLI::App* cmd, int* exit_code) {
  auto o = std::make_shared<McpOptions>();
  cmd->add_option("FILE", o->files, "Workflow files to offer as tools");
  cmd->add_option("--workflows", o->workflows_dir, "Offer every *.json workflow in this directory");
  cmd->add_option("--db", o->db,
                  "Database file, or a postgresql:// URL (default: $SCAFFOLD_DB or "
                  ".scaffold/scaffold.db)");
  cmd->add_option("--mode", o->mode, "live, playback or auto (see scaffold(1))")
      ->check(CLI::IsMember({"live", "playback", "auto"}));
  cmd->add_flag("--allow-commands", o->allow_commands,
                "Let the workflows' command tools run and their MCP servers start");
  cmd->callback([o, exit_code] { *exit_code = RunMcp(*o); });
}

void SetupServe(CLI::App* cmd, int* exit_code) {
  auto o = std::make_shared<ServeOptions>();
  cmd->add_option("--listen", o->listen,
                  "Address to listen on, HOST:PORT (port 0 picks a free one)")
      ->capture_default_str();
  cmd->add_option("--workflows", o->workflows_dir, "Serve every *.json workflow in this directory");
  cmd->add_option("--workflow", o->workflow_files, "Serve this workflow file (repeatable)");
  cmd->add_option("--db", o->db,
                  "Database file, or a postgresql:// URL shared by several nodes (default: "
                  "$SCAFFOLD_DB or .scaffold/scaffold.db)");
  cmd->add_option("--mode", o->mode, "live, playback or auto (see scaffold(1))")
      ->check(CLI::IsMember({"live", "playback", "auto"}));
  cmd->add_option("--node-id", o->node_id,
                  "This node's name among several on PostgreSQL ([A-Za-z0-9_-], at most 48; "
                  "default: a random one)");
  cmd->add_option("--lease-ms", o->lease_ms,
                  "PostgreSQL: how long a node may go unheard before another takes its sessions "
                  "over")
      ->check(CLI::Range(int64_t{300}, int64_t{3600000}))
      ->capture_default_str();
  cmd->add_option("--max-running", o->max_running,
                  "PostgreSQL: sessions this node drives at once; more wait for a node with room "
                  "(0: no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--auth", o->auth, "none (loopback only) or jwt")
      ->check(CLI::IsMember({"none", "jwt"}));
  cmd->add_option("--jwt-secret-file", o->jwt_secret_file,
                  "HS256: a file holding the shared secret");
  cmd->add_option("--jwt-public-key", o->jwt_public_key, "RS256/ES256: a PEM public key file");
  cmd->add_option("--jwks-file", o->jwks_file,
                  "RS256/ES256: a JWKS file; tokens pick a key by kid");
  cmd->add_option("--jwt-issuer", o->jwt_issuer, "Require this iss claim");
  cmd->add_option("--jwt-audience", o->jwt_audience, "Require this aud claim");
  cmd->add_flag("--insecure-no-auth", o->insecure_no_auth,
                "Allow --auth none on a non-loopback address");
  cmd->add_option("--cors-origin", o->cors_origins,
                  "Let pages of this origin call the server, scheme://host[:port] (repeatable)");
  cmd->add_option("--allowed-host", o->allowed_hosts,
                  "Accept this Host name too, on loopback without auth (repeatable)");
  cmd->add_option("--default-workflow", o->default_workflow,
                  "The workflow a POST /sessions that names none starts");
  cmd->add_option("--metrics-listen", o->metrics_listen,
                  "Serve GET /metrics on this HOST:PORT instead (with --auth jwt, the only place)");
  cmd->add_option("--threads", o->threads,
                  "Threads serving connections and sessions (default: one per core)");
  cmd->add_option("--max-body-bytes", o->max_body_bytes, "Largest request body (413 above)")
      ->capture_default_str();
  cmd->add_option("--max-ws-message-bytes", o->max_ws_message_bytes,
                  "Largest WebSocket message (close 1009 above)")
      ->capture_default_str();
  cmd->add_option("--max-connections", o->max_connections, "Connections at once (503 above)")
      ->capture_default_str();
  cmd->add_option("--max-send-queue-bytes", o->max_send_queue_bytes,
                  "Unsent bytes per connection before a slow subscriber is disconnected")
      ->capture_default_str();
  cmd->add_option("--header-timeout-ms", o->header_timeout_ms, "Time to send request headers")
      ->capture_default_str();
  cmd->add_option("--idle-timeout-ms", o->idle_timeout_ms, "Idle time on a kept-alive connection")
      ->capture_default_str();
  cmd->add_option("--heartbeat-ms", o->heartbeat_ms, "SSE heartbeat interval")
      ->capture_default_str();
  cmd->add_flag("--no-access-log", o->no_access_log, "Do not log one line per request on stderr");
  cmd->add_flag("--allow-commands", o->allow_commands,
                "Let served workflows' command tools run programs (off by default)");

  cmd->callback([o, exit_code] { *exit_code = RunServe(*o); });
}

void SetupValidate(CLI::App* cmd, int* exit_code) {
  auto o = std::make_shared<ValidateOptions>();
  cmd->add_option("FILE", o->file, "Workflow file")->required();
  cmd->add_flag("--json", o->json, "Print the result as one JSON object");
  cmd->callback([o, exit_code] { *exit_code = RunValidate(*o); });
}

void SetupResume(CLI::App* cmd, int* exit_code) {
  auto o = std::make_shared<ResumeOptions>();
  cmd->add_option("ID", o->id, "Session id (or a unique prefix)")->required();
  AddSessionFlags(cmd, &o->session);
  cmd->callback([o, exit_code] { *exit_code = RunResume(*o); });
}

void SetupFork(CLI::App* cmd, int* exit_code) {
  auto o = std::make_shared<ForkOptions>();
  cmd->add_option("ID", o->id, "Session id (or a unique prefix)")->required();
  cmd->add_option("--at", o->at, "Keep events 1..N")->required()->check(CLI::PositiveNumber);
  cmd->add_flag("--no-run", o->no_run, "Only create the fork; run it later with scaffold resume");
  AddSessionFlags(cmd, &o->session);
  cmd->callback([o, exit_code] { *exit_code = RunFork(*o); });
}

void SetupSessions(CLI::App* cmd, int* exit_code) {
  auto o = std::make_shared<SessionsOptions>();
  cmd->add_option("--db", o->db, "Database file (default: $SCAFFOLD_DB or .scaffold/scaffold.db)");
  cmd->require_subcommand(0, 1);

  CLI::App* list = cmd->add_subcommand("list", "List sessions, newest first (the default)");
  list->add_flag("--json", o->json, "One JSON object per session per line");
  list->add_option("--limit", o->limit, "At most this many")->check(CLI::PositiveNumber);
  list->fallthrough();
  list->callback([o, exit_code] { *exit_code = RunList(*o); });

  CLI::App* show =
      cmd->add_subcommand("show", "Show one session: status, input, usage, result or error");
  show->add_option("ID", o->id, "Session id (or a unique prefix)")->required();
  show->add_flag("--json", o->json, "Print one JSON object");
  show->fallthrough();
  show->callback([o, exit_code] { *exit_code = RunShow(*o); });

  CLI::App* exp =
      cmd->add_subcommand("export", "Write a session as a recording file (scaffold-recording(5))");
  exp->add_option("ID", o->id, "Session id (or a unique prefix)")->required();
  exp->add_option("-o,--output", o->output, "Write to this file instead of standard output");
  exp->fallthrough();
  exp->callback([o, exit_code] { *exit_code = RunExport(*o); });

  CLI::App* imp = cmd->add_subcommand("import", "Load a recording file into the database");
  imp->add_option("FILE", o->file, "The recording file")->required();
  imp->fallthrough();
  imp->callback([o, exit_code] { *exit_code = RunImport(*o); });

  CLI::App* rm = cmd->add_subcommand("rm", "Remove a session and all its events");
  rm->add_option("ID", o->id, "The full session id")->required();
  rm->fallthrough();
  rm->callback([o, exit_code] { *exit_code = RunRemove(*o); });

  cmd->callback([cmd, o, exit_code] {
    if (cmd->get_subcommands().empty()) *exit_code = RunList(*o);
  });
}

void SetupEvents(CLI::App* cmd, int* exit_code) {
  auto o = std::make_shared<EventsOptions>();
  cmd->add_option("ID", o->id, "Session id (or a unique prefix)")->required();
  cmd->add_option("--from", o->from, "Start at this position (default 1)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--follow,-f", o->follow, "Keep printing new events until the session finishes");
  cmd->add_flag("--json", o->json, "One event per line, as NDJSON");
  cmd->add_flag("--no-color", o->no_color, "Never colour the output");
  cmd->add_option("--db", o->db, "Database file (default: $SCAFFOLD_DB or .scaffold/scaffold.db)");
  cmd->callback([o, exit_code] { *exit_code = RunEvents(*o); });
}

void SetupState(CLI::App* cmd, int* exit_code) {
  auto o = std::make_shared<StateOptions>();
  cmd->add_option("ID", o->id, "Session id (or a unique prefix)")->required();
  cmd->add_option("--at", o->at, "The state after event N")->check(CLI::PositiveNumber);
  cmd->add_option("--db", o->db, "Database file (default: $SCAFFOLD_DB or .scaffold/scaffold.db)");
  cmd->callback([o, exit_code] { *exit_code = RunState(*o); });
}

// The command named on the command line: its first argument that is not an option.
std::string_view InvokedCommand(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] != '-') return argv[i];
  }
  return {};
}

bool AsksForHelp(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0) return true;
  }
  return false;
}

// Adds the subcommands to `app`, with its options only for `invoked`, which stores its exit code
// in *exit_code; returns the names of all of them. A command line that names a command and asks
// for no help gets that command alone: each subcommand is a CLI::App of its own, and building the
// other eleven cost `scaffold validate` 10 page faults and about 0.13 ms. With -h or --help
// anywhere, every command is built, so that the top-level help lists them all.
std::vector<std::string> SetupCommands(CLI::App& app, int* exit_code, std::string_view invoked,
                                       bool help) {
  struct Command {
    const char* name;
    const char* description;
    void (*setup)(CLI::App* cmd, int* exit_code);
  };
  static constexpr Command kCommands[] = {
      {"run", "Run a workflow in this terminal", SetupRun},
      {"validate", "Check a workflow file and list every problem by JSON path", SetupValidate},
      {"replay", "Re-run a recorded session without any LLM and check it produces the same events",
       SetupReplay},
      {"serve", "Serve sessions over HTTP/SSE and WebSocket (scaffold-protocol(7))", SetupServe},
      {"mcp", "Offer workflows as the tools of an MCP server on stdin and stdout", SetupMcp},
      {"attach", "Follow a session on a scaffold server in this terminal", SetupAttach},
      {"client",
       "Serve client tools to a scaffold server from this machine (as a desktop app does)",
       SetupClient},
      {"resume", "Continue a paused, interrupted or waiting session", SetupResume},
      {"fork", "Copy a session's first N events into a new session and run it on", SetupFork},
      {"sessions", "List, show and remove stored sessions", SetupSessions},
      {"events", "Print a session's events", SetupEvents},
      {"state", "Print a session's state (as JSON) now or at a position", SetupState},
  };
  // Only the one being run gets its options: building all of them cost about 0.5 ms of every
  // start.
  bool alone = !help && std::any_of(std::begin(kCommands), std::end(kCommands),
                                    [&](const Command& c) { return invoked == c.name; });
  std::vector<std::string> names;
  for (const auto& c : kCommands) {
    names.emplace_back(c.name);
    if (alone && invoked != c.name) continue;
    CLI::App* cmd = app.add_subcommand(c.name, c.description);
    if (invoked == c.name) c.setup(cmd, exit_code);
  }
  return names;
}

}  // namespace

int RunCommandLine(int argc, char** argv) {
  CLI::App app("scaffold runs LLM-agent workflows defined in JSON", "scaffold");
  app.set_version_flag("--version", "scaffold " SCAFFOLD_CLI_VERSION);
  app.require_subcommand(1);
  int exit_code = kExitOk;
  std::string_view invoked = InvokedCommand(argc, argv);
  std::vector<std::string> names = SetupCommands(app, &exit_code, invoked, AsksForHelp(argc, argv));
  if (!invoked.empty() && std::find(names.begin(), names.end(), invoked) == names.end()) {
    // CLI11 would say only that a subcommand is required.
    std::fprintf(stderr, "scaffold: error: unknown command \"%.*s\"%s; see scaffold --help\n",
                 static_cast<int>(std::min<size_t>(invoked.size(), 64)), invoked.data(),
                 DidYouMean(invoked, names).c_str());
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    FdOstream out(STDOUT_FILENO), err(STDERR_FILENO);
    return app.exit(e, out, err) == 0 ? kExitOk : kExitUsage;
  } catch (const std::exception& e) {
    // What no command turned into an error of its own (a system library that cannot be
    // loaded): reported, never an abort.
    std::fprintf(stderr, "scaffold: error: %s\n", e.what());
    return kExitFailed;
  }
  return exit_code;
}

}  // namespace scaffold::cli
