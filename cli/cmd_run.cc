// scaffold run FILE: validate a workflow, start a session and run it in this terminal.

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/interrupts.h"
#include "cli/remote_session.h"
#include "cli/session_runtime.h"
#include "recordings/sha256.h"

namespace scaffold::cli {
namespace {

// run --server: the server runs the session with its own database, providers and keys.
int RunOnServer(const RunCommandOptions& o, const engine::Workflow& workflow, const Json& input) {
  const SessionFlags& f = o.session;
  const char* local_only = !f.db.empty()         ? "--db"
                           : !f.provider.empty() ? "--provider"
                           : !f.model.empty()    ? "--model"
                           : f.mode != "live"    ? "--mode"
                           : !f.redact.empty()   ? "--redact"
                                                 : nullptr;
  if (local_only) {
    PrintError(std::string(local_only) +
               " applies to local runs; with --server the server decides it");
    return kExitUsage;
  }
  auto remote = ResolveRemote(o.server, o.token, "--server");
  if (!remote.ok()) {
    PrintError(remote.status().message());
    return kExitUsage;
  }
  // The server must serve this very file: its sha256 is sent along and checked.
  auto text = ReadFileCapped(o.file, engine::kMaxWorkflowBytes, "workflow file");
  if (!text.ok()) {
    PrintError(text.status().message());
    return kExitUsage;
  }
  return RunRemote(*remote, workflow, recordings::Sha256Hex(*text), input, o.session);
}

}  // namespace

int RunRun(const RunCommandOptions& o) {
  InitInterrupts();
  auto workflow = LoadWorkflowFileOrReport(o.file);
  if (!workflow) return kExitUsage;
  Json input = nullptr;
  if (o.has_input || !o.input_file.empty()) {
    std::string text = o.input;
    std::string origin = "--input";
    if (!o.input_file.empty()) {
      auto read = ReadFileCapped(o.input_file, kMaxInputBytes, "input file");
      if (!read.ok()) {
        PrintError(read.status().message());
        return kExitUsage;
      }
      text = std::move(*read);
      origin = "--input-file " + o.input_file;
    }
    auto parsed = ParseSessionInput(*workflow, text, origin);
    if (!parsed.ok()) {
      PrintError(parsed.status().message());
      return kExitUsage;
    }
    input = std::move(*parsed);
  }
  // Checked before the database is touched: a run refused for its input leaves nothing behind.
  if (Status valid = engine::ValidateInput(*workflow, input); !valid.ok()) {
    std::string message = valid.message();
    if (!o.has_input && o.input_file.empty()) message += " (pass it with --input or --input-file)";
    PrintError(message);
    return kExitUsage;
  }
  if (!o.server.empty()) return RunOnServer(o, *workflow, input);
  // Provider keys are checked before the database is touched, too.
  auto rt = std::make_unique<SessionRuntime>(o.session);
  if (!PrepareProviders(rt.get(), *workflow, o.session, o.session.provider) ||
      !OpenStore(rt.get(), o.session))
    return kExitUsage;
  auto session = engine::Session::Create(rt->Deps(), workflow, std::move(input), rt->options);
  if (!session.ok()) {
    PrintError(session.status().message());
    return ExitCodeFor(session.status());
  }
  return Drive(rt.get(), session->get(), *workflow, o.session);
}

}  // namespace scaffold::cli
