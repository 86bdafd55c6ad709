// The `command` tool (see builtin_tools.h).
#include "engine/template.h"
#include "net/tools/builtin_tools.h"
#include "net/tools/child_process.h"

namespace scaffold::net {

engine::ToolResult RunCommandTool(const engine::ToolDecl& decl, const std::string& workspace,
                                  const Json& context, const std::atomic<bool>* cancel) {
  ChildSpec spec;
  for (size_t i = 0; i < decl.argv.size(); ++i) {
    auto arg = engine::RenderTemplate(decl.argv[i], context);
    if (!arg.ok()) {
      return {Json("command: argv[" + std::to_string(i) + "]: " + arg.status().message()), true};
    }
    spec.argv.push_back(std::move(arg).value());
  }
  spec.cwd = workspace;
  spec.env = std::vector<std::string>{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + workspace,
                                      "TMPDIR=" + workspace, "LANG=C.UTF-8"};
  spec.timeout_ms = decl.timeout_ms;
  spec.max_output_bytes = decl.max_output_bytes;
  ChildResult r = RunChild(spec, cancel);
  if (!r.spawn_error.empty()) return {Json("command: " + r.spawn_error), true};
  Json output = {{"exitCode", r.exit_code},
                 {"stdout", ToValidUtf8(std::move(r.out))},
                 {"stderr", ToValidUtf8(std::move(r.err))}};
  if (r.out_truncated || r.err_truncated) output["truncated"] = true;
  if (r.signal) output["signal"] = r.signal;
  if (r.timed_out || r.cancelled) output["error"] = r.Describe(decl.timeout_ms);
  return {std::move(output), !r.ok()};
}

}  // namespace scaffold::net
