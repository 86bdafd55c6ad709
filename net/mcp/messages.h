// What an MCP server sends, read as hostile input: JSON-RPC 2.0 messages (one per line on the
// stdio transport) and the results of the methods the client calls. Every reader checks shape
// and types and names the JSON path of the first problem; none throws. Used by McpClient
// (client.h) and fuzzed as they are (tests/fuzz/mcp.cc).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/json.h"
#include "engine/status.h"

namespace scaffold::net::mcp {

struct Message {
  enum class Kind { kRequest, kNotification, kResponse };
  Kind kind = Kind::kNotification;
  Json id;                // requests (a string or an integer) and responses (an integer)
  std::string method;     // requests and notifications
  Json params;            // requests and notifications; null when absent
  std::optional<Json> result;  // responses: an object
  std::optional<Json> error;   // responses: the error object, as sent
};

// One line as a JSON-RPC 2.0 message of one of the three kinds. An error means the stream can
// no longer be trusted.
Result<Message> ParseMessage(std::string_view line);

// "the MCP server answered tools/call with an error -32602: ..." (the message cut short).
Status ErrorOfResponse(const std::string& method, const Json& error);

struct McpTool {
  std::string name;
  std::string title;  // may be empty
  std::string description;
  Json input_schema = Json::object();
};

struct ToolsPage {
  std::vector<McpTool> tools;
  std::optional<std::string> next_cursor;
};

// A tools/list result: every tool has a name and an object for its input schema.
Result<ToolsPage> ParseToolsPage(const Json& result);

struct McpCallResult {
  Json content = Json::array();    // the content blocks, each an object with a "type"
  std::optional<Json> structured;  // structuredContent
  bool is_error = false;
};

// A tools/call result.
Result<McpCallResult> ParseCallResult(const Json& result);

}  // namespace scaffold::net::mcp
