#include "cli/workflow_set.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "cli/common.h"
#include "recordings/sha256.h"

namespace scaffold::cli {

std::map<std::string, net::ServedWorkflow> LoadWorkflowSet(const std::vector<std::string>& named,
                                                           const std::string& dir) {
  std::vector<std::string> files = named;
  if (!dir.empty()) {
    std::error_code ec;
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".json") found.push_back(entry.path().string());
    }
    if (ec) PrintError("--workflows " + dir + ": " + ec.message());
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  std::map<std::string, net::ServedWorkflow> out;
  for (const auto& path : files) {
    auto text = ReadFileCapped(path, engine::kMaxWorkflowBytes, "workflow file");
    if (!text.ok()) {
      PrintError(text.status().message() + "; skipped");
      continue;
    }
    auto loaded = engine::LoadWorkflow(*text);
    if (!loaded.workflow) {
      for (const auto& d : loaded.diagnostics)
        std::fprintf(stderr, "%s: %s\n", path.c_str(), d.ToString().c_str());
      std::fprintf(stderr, "%s: skipped (%zu problems)\n", path.c_str(), loaded.diagnostics.size());
      continue;
    }
    const std::string& name = loaded.workflow->name;
    if (out.count(name)) {
      std::fprintf(stderr, "%s: skipped: workflow \"%s\" is already served from %s\n", path.c_str(),
                   name.c_str(), out[name].path.c_str());
      continue;
    }
    out[name] = {name, path, recordings::Sha256Hex(*text), loaded.workflow};
  }
  return out;
}

std::map<std::string, net::Endpoint> ResolveWorkflowEndpoints(
    std::map<std::string, net::ServedWorkflow>* workflows, bool playback) {
  std::map<std::string, net::Endpoint> endpoints;
  if (playback) return endpoints;
  for (auto it = workflows->begin(); it != workflows->end();) {
    auto resolved = net::ResolveEndpoints(*it->second.workflow, "", net::ProcessEnvironment());
    if (!resolved.ok()) {
      std::fprintf(stderr, "%s: skipped: %s\n", it->second.path.c_str(),
                   resolved.status().message().c_str());
      it = workflows->erase(it);
      continue;
    }
    for (auto& [name, e] : *resolved) endpoints.emplace(name, e);
    ++it;
  }
  return endpoints;
}

}  // namespace scaffold::cli
