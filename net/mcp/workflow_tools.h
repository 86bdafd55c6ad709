// Workflows as MCP tools: what `scaffold mcp` (stdio, cli/mcp_server.h) and the /mcp endpoint
// of `scaffold serve` (net/server/mcp_route.h) share: the tool each workflow is, the reading
// of a call's parameters and the results a call answers with.
//
// A workflow's tool is named after it (characters other than letters, digits, '_', '-' and
// '.' become '_', at most 128), with its description. Its input schema is the workflow's when
// that describes an object; otherwise the workflow's input is the argument "input" (required
// when the workflow has an input schema).
#pragma once

#include <optional>
#include <string>

#include "engine/json.h"
#include "engine/status.h"
#include "engine/workflow.h"

namespace scaffold::net::mcp {

struct WorkflowTool {
  std::string workflow;  // the workflow's name
  Json definition;       // {name, description, inputSchema}
  bool wrapped = false;  // the input is arguments.input
};

std::string WorkflowToolName(const std::string& workflow);
WorkflowTool DescribeWorkflowTool(const std::string& name, const engine::Workflow& workflow);
// The session input a call's arguments give.
Json WorkflowInput(const WorkflowTool& tool, const Json& arguments);

struct CallParams {
  std::string name;
  Json arguments = Json::object();
  std::optional<Json> progress_token;
};
// tools/call's params, read as hostile input; the error names the JSON path.
Result<CallParams> ReadCallParams(const Json& params);

// The revision to answer initialize with: the client's when it is one spoken here.
std::string NegotiateVersion(const Json& initialize_params);

// Results of tools/call.
Json CompletedResult(const std::string& session_id, const Json& result);
Json FailedResult(const std::string& session_id, const std::string& code,
                  const std::string& message);
// A session waiting for an answer to `ask` (an input:requested payload); `how` says how to
// give it.
Json WaitingResult(const std::string& session_id, const Json& ask, const std::string& how);
// A tool error with `message` and no session (a refused input).
Json ErrorResult(const std::string& message);

}  // namespace scaffold::net::mcp
