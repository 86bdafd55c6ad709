// Tools an MCP server lists (DESIGN §7, tools of type "mcp"), as the agents that use the server
// see them.
//
// An agent that names an MCP tool entry ("fs") in its "tools" gets each tool the server lists
// and the entry allows, under the name "<entry>__<tool>" (characters other than letters, digits,
// '_' and '-' become '_'; a name longer than 64 characters is cut and ends in a hash of the
// whole, so that every provider accepts it). A tool is left out, with the reason, when the entry
// does not allow it, when its input schema does not compile, or when its name is taken.
//
// Every agent run lists the servers it uses before its first model call and records what it got
// as a `tool:listed` event; a replay answers the listing from that event and never starts a
// server.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "engine/json.h"
#include "engine/status.h"
#include "engine/workflow.h"

namespace scaffold::engine {

inline constexpr size_t kMaxModelToolName = 64;

struct ListedTool {
  std::string name;  // the server's name for it
  std::string as;    // the name the model sees (empty until PrepareListing)
  std::string description;
  Json input_schema = Json::object();
};

struct ToolListing {
  std::vector<ListedTool> tools;
  Json skipped = Json::array();  // [{name, reason}]: tools the agent does not get
  std::string error;             // not empty when the server could not be listed at all
};

// "fs" + "read_file" -> "fs__read_file", made fit for every provider's tool names.
std::string ModelToolName(const std::string& entry, const std::string& tool);

// Keeps the tools of `raw` that `decl` allows and whose schemas compile, named for the model;
// names already in `taken` (the agent's other tools) are refused. Adds the kept names to
// `taken`. Running it on its own output changes nothing, so a replay of a recorded listing
// prepares the same tools.
ToolListing PrepareListing(const ToolDecl& decl, ToolListing raw, std::set<std::string>* taken);

// The payload fields of a `tool:listed` event ({tools, skipped?, error?}) and back. Reading
// checks every field (a recording is hostile) and names the JSON path of the first problem.
Json ListingToJson(const ToolListing& listing);
Result<ToolListing> ListingFromJson(const Json& payload);

}  // namespace scaffold::engine
