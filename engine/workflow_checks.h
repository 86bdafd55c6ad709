// Whole-workflow checks run by LoadWorkflow after the file has been read into the model:
// references between phases, agents and tools; reachability and a way out of every phase;
// unused agents; update pointers against the initial state; names used by templates and
// expressions; JSON Logic operators; ask defaults.
#pragma once

#include <vector>

#include "engine/workflow.h"

namespace scaffold::engine {

// Appends one Diagnostic per problem found.
void CheckWorkflow(const Workflow& workflow, std::vector<Diagnostic>* diagnostics);

}  // namespace scaffold::engine
