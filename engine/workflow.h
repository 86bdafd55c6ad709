// The workflow model (format version 1, DESIGN §3) and its loader.
//
// LoadWorkflow reads a workflow file's text, checks everything that can be checked before a
// session starts, and returns either a Workflow or every problem found, each with the JSON
// pointer of the offending value. A Workflow is immutable after loading and may be shared by
// many sessions and threads.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/json.h"
#include "engine/pricing.h"
#include "engine/schema.h"

namespace scaffold::engine {

// Files larger than this are refused before parsing.
inline constexpr size_t kMaxWorkflowBytes = 4 * 1024 * 1024;
inline constexpr int kFormatVersion = 1;
inline constexpr int kDefaultMaxVisits = 100;

// One `pointer: expression` entry of an update (`update`, `set`, `start`), in file order.
struct Update {
  std::string pointer;  // RFC 6901 pointer into the state; may end in "/-" (append)
  Json expression;      // JSON Logic; a plain value is a constant
};

struct ProviderConfig {
  std::string name;
  std::string type;                // "anthropic" or "openai"
  std::string base_url;            // empty: the type's default (or its environment variable)
  std::string api_key_env;         // empty: the type's default variable
  int64_t connect_timeout_ms = 0;  // 0: the default (10 s)
  int64_t stall_timeout_ms = 0;    // 0: the default (60 s without a byte aborts the call)
};

struct Agent {
  std::string name;
  std::string provider;  // "anthropic", "openai" or a key of Workflow::providers
  std::string model;
  std::string system;  // template
  std::string prompt;  // template
  std::optional<JsonSchema> output;
  std::vector<Update> update;
  std::vector<std::string> tools;
  int max_turns = 8;
  int max_tokens = 1024;
  std::optional<double> temperature;
  int retries = 2;         // re-asks after invalid output, and retries after transient failures
  int64_t timeout_ms = 0;  // per provider call; 0: none
  Json params = Json::object();  // provider-specific request fields, passed through
};

enum class AskType { kApproval, kChoice, kText, kJson };
const char* AskTypeName(AskType type);

struct AskSpec {
  std::string prompt;  // template
  AskType type = AskType::kText;
  std::vector<std::string> options;   // kChoice
  std::optional<JsonSchema> schema;   // kJson
  int64_t timeout_ms = 0;             // 0: wait forever
  std::optional<Json> default_value;  // applied on timeout; without it a timeout fails the phase
};

struct EachSpec {
  Json items;  // expression yielding an array
  std::string agent;
  int concurrency = 4;
};

struct ToolPhaseSpec {
  std::string name;
  Json input;  // string leaves are templates
};

enum class PhaseKind { kRun, kAsk, kParallel, kEach, kTool, kSet, kTerminal };
const char* PhaseKindName(PhaseKind kind);

struct Phase {
  std::string name;
  PhaseKind kind = PhaseKind::kSet;
  std::string agent;                  // kRun
  AskSpec ask;                        // kAsk
  std::vector<std::string> parallel;  // kParallel
  EachSpec each;                      // kEach
  ToolPhaseSpec tool;                 // kTool
  std::vector<Update> set;            // kSet
  std::vector<Update> update;         // applied after the phase's own work, any kind
  std::optional<Json> next;           // phase name (string) or expression; absent when terminal
  std::optional<Json> result;         // kTerminal: expression for the session result
  int max_visits = kDefaultMaxVisits;
};

inline constexpr int64_t kDefaultToolBytes = 1024 * 1024;

// A `tools` entry (DESIGN §7). String templates below render against
// {input: the call's input, session: {id}}; they are never passed through a shell.
struct ToolDecl {
  std::string name;
  std::string type;  // "client", "command", "files", "http" or "mcp"
  std::string description;
  Json input_schema = Json::object();  // files: a fixed schema when none is given
  int64_t timeout_ms = 30000;

  // command: the program and its arguments, each a template; run in the session's workspace.
  // mcp: the server program ("command"), rendered against {session: {id, workspace}, env}.
  std::vector<std::string> argv;
  int64_t max_output_bytes = kDefaultToolBytes;  // command: stdout and stderr, each; mcp: result

  // mcp: the server's environment beyond the few variables it always gets (templates), and the
  // server's tools agents may use (empty: every tool it lists).
  std::map<std::string, std::string> env;
  std::vector<std::string> allow;

  // files: the largest file read or written; writes and deletes refused when read_only.
  int64_t max_bytes = kDefaultToolBytes;
  bool read_only = false;

  // http: the request (url, header values and string leaves of body are templates) and the
  // hosts it may go to ("example.com", or "*.example.com" for its subdomains).
  std::string method = "GET";
  std::string url;
  std::map<std::string, std::string> headers;
  std::optional<Json> body;
  std::vector<std::string> allow_hosts;
  int64_t max_response_bytes = kDefaultToolBytes;
};

// The input schema of a `files` tool that declares none: {op, path, content?}.
const Json& FilesToolSchema();

// True when an http tool may call `host`: it equals a pattern (case-insensitive), or a pattern
// "*.example.com" names one of its parent domains.
bool HostAllowed(const std::string& host, const std::vector<std::string>& patterns);

struct Workflow {
  int format = kFormatVersion;
  std::string name;
  std::string description;
  std::optional<JsonSchema> input_schema;
  Json initial_state = Json::object();
  std::vector<Update> start;
  std::string entry;
  std::map<std::string, ProviderConfig> providers;
  std::map<std::string, Agent> agents;
  std::vector<Phase> phases;  // file order
  std::map<std::string, ToolDecl> tools;
  std::map<std::string, ModelPrice> prices;  // per model, USD per million tokens
  int max_visits = kDefaultMaxVisits;

  std::string source;  // the file's text, byte for byte

  // The phase named `name`, or null: by the index IndexPhases() made, so a workflow of many
  // phases is checked and run without a scan per step.
  const Phase* FindPhase(const std::string& name) const;
  const Agent* FindAgent(const std::string& name) const;

  // Indexes `phases` by name (the loader calls it once they are all read). The first of two
  // phases with one name wins, as a scan would find it.
  void IndexPhases();

 private:
  std::map<std::string, size_t, std::less<>> phase_index_;  // sorted: names come from outside
};

struct Diagnostic {
  std::string path;  // JSON pointer; empty for whole-file problems
  std::string message;
  int line = 0;  // JSON syntax errors only
  int column = 0;

  // "/phases/review/next: unknown phase \"drafts\"" or "line 3, column 5: ..."
  std::string ToString() const;
};

struct LoadedWorkflow {
  std::shared_ptr<const Workflow> workflow;  // null when diagnostics is not empty
  std::vector<Diagnostic> diagnostics;
};

// Parses and validates a workflow file's text. Never throws.
LoadedWorkflow LoadWorkflow(std::string_view text);

}  // namespace scaffold::engine
