// WorkflowReader: typed reading of a workflow file's JSON for the loader (workflow_loader.cc)
// and its sections in files of their own (workflow_tools_loader.cc): every problem becomes a
// Diagnostic at its JSON pointer, and reading goes on so that all of them are listed.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/json.h"
#include "engine/workflow.h"

namespace scaffold::engine {

class WorkflowReader {
 public:
  explicit WorkflowReader(std::vector<Diagnostic>* diags) : diags_(diags) {}
  std::vector<Diagnostic>* diagnostics() const { return diags_; }

  void Error(const std::string& path, std::string message);
  void TypeError(const std::string& path, const char* expected, const OrderedJson& got);

  // Reports keys of `obj` not in `allowed`, with a suggestion.
  void CheckKeys(const OrderedJson& obj, const std::string& path, const std::vector<std::string>& allowed);
  bool IsObject(const OrderedJson& v, const std::string& path);

  std::optional<std::string> String(const OrderedJson& obj, const std::string& key, const std::string& path,
                                    bool required = false);

  // An integer in [min, max]; decimals and out-of-range values are errors.
  std::optional<int64_t> Integer(const OrderedJson& obj, const std::string& key, const std::string& path,
                                 int64_t min, int64_t max);

  std::optional<JsonSchema> Schema(const OrderedJson& value, const std::string& path);

  std::vector<Update> Updates(const OrderedJson& value, const std::string& path);

  std::vector<std::string> Names(const OrderedJson& value, const std::string& path, const char* what);

  void CheckName(const std::string& name, const std::string& path, const char* what);

  // A template string: its syntax is checked here, its names when it is rendered.
  void Template(const std::string& text, const std::string& path);

 private:
  std::vector<Diagnostic>* diags_;
};

// The workflow's "tools" map (workflow_tools_loader.cc).
void LoadToolDecls(WorkflowReader& in, const OrderedJson& value, Workflow* wf);

}  // namespace scaffold::engine
