// scaffold mcp FILE... : workflows as the tools of an MCP server on stdio (mcp_server.h).
// Standard output carries the protocol and nothing else; messages for people go to stderr.

#include <unistd.h>

#include <thread>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/mcp_server.h"
#include "cli/session_runtime.h"
#include "cli/workflow_set.h"
#include "net/llm/llm_provider.h"
#include "net/tools/child_process.h"
#include "net/tools/tool_router.h"

namespace scaffold::cli {
namespace {

constexpr size_t kMaxLineBytes = 16 * 1024 * 1024;

// Reads stdin line by line, posting each to `on_line` on `loop`, then `on_end` at its end. A
// line longer than kMaxLineBytes is passed on as its first bytes, which fail to parse.
void ReadLines(engine::EventLoop* loop, std::function<void(std::string)> on_line,
               std::function<void()> on_end) {
  std::string line;
  bool skipping = false;  // the rest of a line that was too long
  char buf[65536];
  for (;;) {
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      if (buf[i] == '\n') {
        if (!skipping) loop->Post([on_line, l = std::move(line)]() mutable { on_line(std::move(l)); });
        line.clear();
        skipping = false;
      } else if (!skipping) {
        line.push_back(buf[i]);
        if (line.size() > kMaxLineBytes) {
          loop->Post([on_line] { on_line("{\"message too long\""); });
          line.clear();
          skipping = true;
        }
      }
    }
  }
  if (!line.empty() && !skipping)
    loop->Post([on_line, l = std::move(line)]() mutable { on_line(std::move(l)); });
  loop->Post(on_end);
}

void WriteLine(std::string line) {
  line.push_back('\n');
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = net::WriteToPipe(STDOUT_FILENO, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the client is gone; its end of input follows
    done += static_cast<size_t>(n);
  }
}

}  // namespace

int RunMcp(const McpOptions& o) {
  auto workflows = LoadWorkflowSet(o.files, o.workflows_dir);
  auto mode = recordings::ParseRecordMode(o.mode);
  if (!mode.ok()) {
    PrintError(mode.status().message());
    return kExitUsage;
  }
  auto endpoints = ResolveWorkflowEndpoints(&workflows, *mode == recordings::RecordMode::kPlayback);
  if (workflows.empty()) {
    PrintError("no workflow to offer (give workflow files or --workflows DIR)");
    return kExitUsage;
  }

  SessionFlags flags;
  flags.db = o.db;
  flags.mode = o.mode;
  flags.allow_commands = o.allow_commands;
  SessionRuntime rt(flags);
  rt.mode = *mode;
  if (!OpenStore(&rt, flags)) return kExitUsage;
  if (rt.mode != recordings::RecordMode::kPlayback)
    rt.live = std::make_unique<net::LlmProvider>(std::move(endpoints));
  net::ToolRouterOptions tool_options;
  tool_options.data_dir = DataDirFor(o.db);
  tool_options.allow_commands = o.allow_commands;
  if (rt.mode == recordings::RecordMode::kPlayback)
    tool_options.no_mcp_reason = "MCP servers are not started in playback mode";
  rt.tools = std::make_unique<net::ToolRouter>(std::move(tool_options));

  WorkflowToolServer server(workflows, {rt.Deps(), rt.options, SCAFFOLD_CLI_VERSION, WriteLine});
  std::fprintf(stderr, "scaffold mcp: %zu workflow%s offered as tools on stdio\n",
               workflows.size(), workflows.size() == 1 ? "" : "s");
  std::thread reader(ReadLines, &rt.loop, [&server](std::string line) { server.OnLine(line); },
                     [&server, &rt] { server.OnInputClosed([&rt] { rt.loop.Stop(); }); });
  rt.loop.Run();
  reader.join();
  return kExitOk;
}

}  // namespace scaffold::cli
