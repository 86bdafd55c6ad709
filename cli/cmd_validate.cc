// scaffold validate FILE: check a workflow file without running it.

#include "cli/commands.h"
#include "cli/common.h"

namespace scaffold::cli {
int RunValidate(const ValidateOptions& o) {
  auto text = ReadFileCapped(o.file, engine::kMaxWorkflowBytes, "workflow file");
  if (!text.ok()) {
    PrintError(text.status().message());
    return kExitUsage;
  }
  auto loaded = engine::LoadWorkflow(*text);
  if (o.json) {
    Json problems = Json::array();
    for (const auto& d : loaded.diagnostics) {
      Json p = {{"path", d.path}, {"message", d.message}};
      if (d.line > 0) {
        p["line"] = d.line;
        p["column"] = d.column;
      }
      problems.push_back(std::move(p));
    }
    std::printf(
        "%s\n",
        DumpJson({{"file", o.file}, {"valid", loaded.workflow != nullptr}, {"problems", problems}})
            .c_str());
    return loaded.workflow ? kExitOk : kExitUsage;
  }
  if (!loaded.workflow) {
    for (const auto& d : loaded.diagnostics) {
      if (d.line > 0) {
        std::fprintf(stderr, "%s:%d:%d: %s\n", o.file.c_str(), d.line, d.column, d.message.c_str());
      } else {
        std::fprintf(stderr, "%s: %s\n", o.file.c_str(), d.ToString().c_str());
      }
    }
    std::fprintf(stderr, "%zu problem%s\n", loaded.diagnostics.size(),
                 loaded.diagnostics.size() == 1 ? "" : "s");
    return kExitUsage;
  }
  const engine::Workflow& wf = *loaded.workflow;
  std::printf("ok: %s — %zu phase%s, %zu agent%s, entry \"%s\"\n", wf.name.c_str(),
              wf.phases.size(), wf.phases.size() == 1 ? "" : "s", wf.agents.size(),
              wf.agents.size() == 1 ? "" : "s", wf.entry.c_str());
  return kExitOk;
}

}  // namespace scaffold::cli
