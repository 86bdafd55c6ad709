// scaffold client URL --tool NAME=PROGRAM: serve client tools to a scaffold server from this
// machine, reconnecting until Ctrl-C.

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/exit_codes.h"
#include "cli/interrupts.h"
#include "net/client/tool_client.h"

namespace scaffold::cli {

int RunClient(const ClientOptions& o) {
  net::ToolClientOptions options;
  options.url = o.url;
  options.token = o.token;
  if (options.token.empty()) {
    if (const char* env = std::getenv("SCAFFOLD_TOKEN")) options.token = env;
  }
  for (const auto& flag : o.tools) {
    auto tool = net::ParseToolFlag(flag);
    if (!tool.ok()) {
      PrintError(tool.status().message());
      return kExitUsage;
    }
    options.tools.push_back(*tool);
  }
  if (!o.quiet) {
    options.log = [](const std::string& line) {
      std::fprintf(stderr, "scaffold client: %s\n", line.c_str());
    };
  }
  InitInterrupts();
  net::ToolClient client(std::move(options));
  std::atomic<bool> interrupted{false};
  OnInterrupt([&] {
    interrupted = true;
    client.Stop();
  });
  Status s = client.Run();
  if (!s.ok()) {
    PrintError(s.message());
    return s.code() == ErrorCode::kInvalidArgument ? kExitUsage : kExitFailed;
  }
  return interrupted ? kExitInterrupted : kExitOk;
}

}  // namespace scaffold::cli
