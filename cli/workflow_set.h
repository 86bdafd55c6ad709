// The workflows a server offers (`scaffold serve`, `scaffold mcp`): files named one by one and
// the *.json files of a directory, loaded and validated; a file with problems is reported on
// stderr and skipped, as is a second workflow of the same name.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "net/llm/llm_provider.h"
#include "net/server/session_hub.h"

namespace scaffold::cli {

std::map<std::string, net::ServedWorkflow> LoadWorkflowSet(const std::vector<std::string>& files,
                                                           const std::string& dir);

// The provider endpoints every workflow needs, which must resolve (with their keys) unless
// `playback`: a workflow whose providers do not is reported on stderr and removed.
std::map<std::string, net::Endpoint> ResolveWorkflowEndpoints(
    std::map<std::string, net::ServedWorkflow>* workflows, bool playback);

}  // namespace scaffold::cli
