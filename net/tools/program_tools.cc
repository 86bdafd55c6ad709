#include "net/tools/program_tools.h"

#include "engine/uuid.h"
#include "net/tools/child_process.h"
#include "net/tools/tool_router.h"

namespace scaffold::net {
namespace {

constexpr int64_t kMaxResponseBytes = 16 * 1024 * 1024;

std::string Tail(const std::string& text, size_t n) {
  std::string t = text.size() > n ? "…" + text.substr(text.size() - n) : text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  return ToValidUtf8(t);
}

}  // namespace

Result<ToolProgram> ParseToolFlag(const std::string& flag) {
  size_t eq = flag.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == flag.size()) {
    return InvalidArgument("--tool " + flag +
                           ": expected NAME=PROGRAM, e.g. --tool screenshot=./shot.sh");
  }
  return ToolProgram{flag.substr(0, eq), flag.substr(eq + 1)};
}

engine::ToolResult RunToolProgram(const std::string& program, const Json& request,
                                  int64_t timeout_ms, const std::atomic<bool>* cancel) {
  ChildSpec spec;
  spec.argv = {"/bin/sh", "-c", program};
  spec.stdin_data = DumpJson(request) + "\n";
  spec.timeout_ms = timeout_ms;
  spec.max_output_bytes = kMaxResponseBytes;
  ChildResult r = RunChild(spec, cancel);
  std::string who = "tool program \"" + program + "\"";
  if (!r.ok()) {
    std::string message = who + " " + r.Describe(timeout_ms);
    if (!r.err.empty()) message += ": " + Tail(r.err, 400);
    return {Json(message), true};
  }
  auto parsed = ParseJson(r.out);
  Json response = parsed.ok() ? std::move(parsed).value() : Json();
  if (!response.is_object() || !response.contains("output")) {
    std::string shown = r.out.empty() ? "nothing" : "\"" + Tail(r.out, 200) + "\"";
    return {Json(who + " printed " + shown +
                 " instead of a JSON response such as {\"output\": ..., \"isError\": false}"),
            true};
  }
  auto is_error = response.find("isError");
  if (is_error != response.end() && !is_error->is_boolean())
    return {Json(who + " answered with a non-boolean \"isError\""), true};
  return {response["output"], is_error != response.end() && is_error->get<bool>()};
}

std::unique_ptr<engine::ToolCall> ProgramTools::Call(const engine::ToolRequest& request,
                                                     const engine::ToolDecl* decl,
                                                     engine::Executor* executor,
                                                     std::function<void(engine::ToolResult)> done) {
  auto it = programs_.find(request.tool_name);
  if (it == programs_.end()) {
    return engine::PostToolResult(executor,
                                  {Json("no program serves client tool \"" + request.tool_name +
                                        "\" (run with --tool " + request.tool_name + "=PROGRAM)"),
                                   true},
                                  std::move(done));
  }
  int64_t timeout_ms = decl ? decl->timeout_ms : 30000;
  Json wire = {{"callId", request.call_id.empty() ? engine::NewUuid() : request.call_id},
               {"sessionId", request.session_id},
               {"toolName", request.tool_name},
               {"input", request.input},
               {"timeoutMs", timeout_ms}};
  return RunOnThread(
      executor,
      [program = it->second, wire, timeout_ms](const std::atomic<bool>& cancel) {
        return RunToolProgram(program, wire, timeout_ms, &cancel);
      },
      std::move(done));
}

}  // namespace scaffold::net
