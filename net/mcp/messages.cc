#include "net/mcp/messages.h"

#include "engine/json_reader.h"

namespace scaffold::net::mcp {
namespace {

Status Refused(const std::string& why) { return Status(ErrorCode::kFailedPrecondition, why); }

}  // namespace

Result<Message> ParseMessage(std::string_view line) {
  auto parsed = ParseJson(line);
  if (!parsed.ok())
    return Refused("the MCP server sent a line that is not JSON (" + parsed.status().message() + ")");
  const Json& m = *parsed;
  if (!m.is_object())
    return Refused(std::string("the MCP server sent a JSON ") + m.type_name() +
                   " where a message object belongs");
  auto jsonrpc = m.find("jsonrpc");
  if (jsonrpc == m.end() || *jsonrpc != "2.0")
    return Refused("the MCP server sent a message without \"jsonrpc\": \"2.0\"");
  Message out;
  auto method = m.find("method");
  auto id = m.find("id");
  if (method != m.end()) {
    if (!method->is_string()) return Refused("the MCP server sent a message whose method is not a string");
    out.method = method->get<std::string>();
    if (auto params = m.find("params"); params != m.end()) {
      if (!params->is_object() && !params->is_array() && !params->is_null())
        return Refused("the MCP server sent " + out.method.substr(0, 100) +
                       " with params that are neither an object nor an array");
      out.params = *params;
    }
    if (id == m.end()) {
      out.kind = Message::Kind::kNotification;
      return out;
    }
    if (!id->is_string() && !id->is_number_integer())
      return Refused("the MCP server sent a request whose id is neither a string nor an integer");
    out.kind = Message::Kind::kRequest;
    out.id = *id;
    return out;
  }
  if (id == m.end() || !id->is_number_integer())
    return Refused("the MCP server sent a response without a numeric id");
  auto result = m.find("result");
  auto error = m.find("error");
  if ((result == m.end()) == (error == m.end()))
    return Refused("the MCP server sent a response with neither or both of result and error");
  out.kind = Message::Kind::kResponse;
  out.id = *id;
  if (error != m.end()) {
    out.error = *error;
  } else if (!result->is_object()) {
    return Refused(std::string("the MCP server sent a result that is not an object but ") +
                   result->type_name());
  } else {
    out.result = *result;
  }
  return out;
}

Status ErrorOfResponse(const std::string& method, const Json& error) {
  std::string message = "the MCP server answered " + method + " with an error";
  if (error.is_object()) {
    if (auto code = error.find("code"); code != error.end() && code->is_number_integer())
      message += " " + std::to_string(code->get<int64_t>());
    if (auto m = error.find("message"); m != error.end() && m->is_string())
      message += ": " + m->get<std::string>().substr(0, 1000);
  }
  return Refused(message);
}

Result<ToolsPage> ParseToolsPage(const Json& result) {
  JsonReader in(result, "/result");
  JsonReader list = in.List("tools", true);
  ToolsPage page;
  page.next_cursor = in.OptString("nextCursor");
  for (size_t i = 0; in.ok() && i < list.json().size(); ++i) {
    JsonReader t = list.Item(i);
    McpTool tool;
    tool.name = t.String("name");
    tool.title = t.OptString("title").value_or("");
    tool.description = t.OptString("description").value_or("");
    if (const Json* schema = t.OptObject("inputSchema", true)) tool.input_schema = *schema;
    page.tools.push_back(std::move(tool));
  }
  if (!in.ok()) return Refused("tools/list: " + in.status().ToString());
  return page;
}

Result<McpCallResult> ParseCallResult(const Json& result) {
  JsonReader in(result, "/result");
  McpCallResult out;
  if (const Json* content = in.OptArray("content", true)) out.content = *content;
  if (const Json* structured = in.OptObject("structuredContent")) out.structured = *structured;
  out.is_error = in.OptBool("isError").value_or(false);
  if (!in.ok()) return Refused("tools/call: " + in.status().ToString());
  for (size_t i = 0; i < out.content.size(); ++i) {
    JsonReader block(out.content[i], "/result/content/" + std::to_string(i));
    block.String("type");
    if (!block.ok()) return Refused("tools/call: " + block.status().ToString());
  }
  return out;
}

}  // namespace scaffold::net::mcp
