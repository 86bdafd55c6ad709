#include "net/mcp/workflow_tools.h"

#include <cctype>

#include "engine/json_reader.h"
#include "net/mcp/client.h"

namespace scaffold::net::mcp {
namespace {

std::string SessionLine(const std::string& id) {
  return "Session " + id + " (`scaffold events " + id + "` shows its events).";
}

Json Text(const std::string& text) {
  return Json::array({{{"type", "text"}, {"text", text}}});
}

}  // namespace

std::string WorkflowToolName(const std::string& workflow) {
  std::string name;
  for (unsigned char c : workflow.substr(0, 128)) {
    bool ok = std::isalnum(c) || c == '_' || c == '-' || c == '.';
    name.push_back(ok ? static_cast<char>(c) : '_');
  }
  return name.empty() ? "_" : name;
}

WorkflowTool DescribeWorkflowTool(const std::string& name, const engine::Workflow& workflow) {
  WorkflowTool tool;
  tool.workflow = name;
  const auto& schema = workflow.input_schema;
  Json input = schema ? schema->source() : Json::object();
  if (schema && input.is_object() && input.value("type", Json()) == "object") {
    tool.definition["inputSchema"] = input;
  } else {
    tool.wrapped = true;
    Json wrapped = {{"type", "object"}, {"properties", {{"input", input}}}};
    if (schema) wrapped["required"] = Json::array({"input"});
    tool.definition["inputSchema"] = std::move(wrapped);
  }
  tool.definition["name"] = WorkflowToolName(name);
  tool.definition["description"] = workflow.description.empty()
                                       ? "Runs the scaffold workflow \"" + name + "\"."
                                       : workflow.description;
  return tool;
}

Json WorkflowInput(const WorkflowTool& tool, const Json& arguments) {
  if (!tool.wrapped) return arguments;
  return arguments.is_object() ? arguments.value("input", Json()) : Json();
}

Result<CallParams> ReadCallParams(const Json& params) {
  JsonReader in(params, "/params");
  CallParams out;
  out.name = in.String("name");
  if (const Json* arguments = in.OptObject("arguments")) out.arguments = *arguments;
  if (in.Has("_meta")) {
    JsonReader meta = in.Child("_meta");
    if (meta.Has("progressToken")) {
      const Json& t = meta.Value("progressToken");
      if (t.is_string() || t.is_number_integer()) {
        out.progress_token = t;
      } else {
        meta.Fail("progressToken", "expected a string or an integer");
      }
    }
  }
  if (!in.ok()) return InvalidArgument(in.status().ToString());
  return out;
}

std::string NegotiateVersion(const Json& params) {
  std::string asked;
  if (params.is_object()) {
    auto it = params.find("protocolVersion");
    if (it != params.end() && it->is_string()) asked = it->get<std::string>();
  }
  if (asked == kProtocolVersion || asked == kPreviousProtocolVersion) return asked;
  return kProtocolVersion;
}

Json CompletedResult(const std::string& id, const Json& result) {
  std::string text = result.is_string() ? result.get<std::string>() : DumpJson(result);
  return {{"content", Text(text + "\n\n" + SessionLine(id))},
          {"structuredContent", {{"sessionId", id}, {"status", "completed"}, {"result", result}}}};
}

Json FailedResult(const std::string& id, const std::string& code, const std::string& message) {
  return {{"content", Text("The workflow failed (" + code + "): " + message + "\n" + SessionLine(id))},
          {"structuredContent",
           {{"sessionId", id}, {"status", "failed"}, {"error", {{"code", code}, {"message", message}}}}},
          {"isError", true}};
}

Json WaitingResult(const std::string& id, const Json& ask, const std::string& how) {
  std::string prompt = ask.value("prompt", "");
  std::string type = ask.value("type", "");
  Json out_ask = {{"id", ask.value("id", "")}, {"prompt", prompt}, {"type", type}};
  for (const char* key : {"options", "schema"})
    if (ask.contains(key)) out_ask[key] = ask[key];
  return {{"content", Text("The workflow is waiting for an answer to \"" + prompt + "\" (" + type +
                           "). " + how + "\n" + SessionLine(id))},
          {"structuredContent", {{"sessionId", id}, {"status", "waiting"}, {"ask", out_ask}}}};
}

Json ErrorResult(const std::string& message) {
  return {{"content", Text(message)}, {"isError", true}};
}

}  // namespace scaffold::net::mcp
