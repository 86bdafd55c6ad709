#include "engine/tool_listing.h"

#include <algorithm>
#include <cstdio>

#include "engine/json_reader.h"
#include "engine/schema.h"

namespace scaffold::engine {
namespace {

bool ModelNameChar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

std::string Hash8(const std::string& text) {
  uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : text) h = (h ^ c) * 16777619u;
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", h);
  return buf;
}

void Skip(ToolListing* out, const std::string& name, const std::string& reason) {
  out->skipped.push_back({{"name", name}, {"reason", reason}});
}

}  // namespace

std::string ModelToolName(const std::string& entry, const std::string& tool) {
  std::string whole = entry + "__" + tool;
  std::string name;
  name.reserve(whole.size());
  for (unsigned char c : whole) name.push_back(ModelNameChar(c) ? static_cast<char>(c) : '_');
  if (name.size() > kMaxModelToolName)
    name = name.substr(0, kMaxModelToolName - 9) + "_" + Hash8(whole);
  return name;
}

ToolListing PrepareListing(const ToolDecl& decl, ToolListing raw, std::set<std::string>* taken) {
  ToolListing out;
  out.error = std::move(raw.error);
  out.skipped = raw.skipped.is_array() ? std::move(raw.skipped) : Json::array();
  for (auto& tool : raw.tools) {
    if (!decl.allow.empty() &&
        std::find(decl.allow.begin(), decl.allow.end(), tool.name) == decl.allow.end())
      continue;  // not offered, not worth a word: the workflow chose
    if (!tool.input_schema.is_object()) {
      Skip(&out, tool.name, "its input schema is not an object");
      continue;
    }
    if (auto compiled = JsonSchema::Compile(tool.input_schema); !compiled.ok()) {
      Skip(&out, tool.name, "its input schema is invalid: " + compiled.status().message());
      continue;
    }
    tool.as = ModelToolName(decl.name, tool.name);
    if (!taken->insert(tool.as).second) {
      Skip(&out, tool.name, "the name \"" + tool.as + "\" is already taken");
      continue;
    }
    out.tools.push_back(std::move(tool));
  }
  return out;
}

Json ListingToJson(const ToolListing& listing) {
  Json tools = Json::array();
  for (const auto& t : listing.tools) {
    tools.push_back({{"name", t.name},
                     {"as", t.as},
                     {"description", t.description},
                     {"inputSchema", t.input_schema}});
  }
  Json out = {{"tools", std::move(tools)}};
  if (!listing.skipped.empty()) out["skipped"] = listing.skipped;
  if (!listing.error.empty()) out["error"] = listing.error;
  return out;
}

Result<ToolListing> ListingFromJson(const Json& payload) {
  JsonReader in(payload, "/payload");
  ToolListing out;
  JsonReader tools = in.List("tools", true);
  for (size_t i = 0; in.ok() && i < tools.json().size(); ++i) {
    JsonReader t = tools.Item(i);
    ListedTool tool;
    tool.name = t.String("name");
    tool.description = t.OptString("description").value_or("");
    if (const Json* schema = t.OptObject("inputSchema", true)) tool.input_schema = *schema;
    out.tools.push_back(std::move(tool));
  }
  JsonReader skipped = in.List("skipped");
  for (size_t i = 0; in.ok() && i < skipped.json().size(); ++i) {
    JsonReader s = skipped.Item(i);
    out.skipped.push_back({{"name", s.String("name", true)}, {"reason", s.String("reason", true)}});
  }
  out.error = in.OptString("error").value_or("");
  if (!in.ok()) return Status(ErrorCode::kDataLoss, "tool:listed: " + in.status().ToString());
  return out;
}

}  // namespace scaffold::engine
