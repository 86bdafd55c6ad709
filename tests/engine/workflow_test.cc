#include "engine/workflow.h"

#include <catch2/catch.hpp>
#include <cstdio>

#include "engine/workflow_json.h"

using scaffold::Json;
using J = scaffold::OrderedJson;
using namespace scaffold::engine;

namespace {

// A valid workflow exercising every phase kind; tests break it one way at a time.
J ValidWorkflow() {
  return J::parse(R"json({
    "scaffold": 1,
    "name": "triage",
    "input": {"type": "string"},
    "state": {"ticket": "", "category": null, "draft": "", "approved": false, "rounds": 0,
              "notes": [], "items": ["a", "b"]},
    "start": {"/ticket": {"var": "input"}},
    "defaults": {"provider": "anthropic", "model": "claude-sonnet-4-5"},
    "agents": {
      "classifier": {
        "prompt": "Ticket: {{state.ticket}}",
        "output": {"type": "object", "properties": {"category": {"enum": ["billing", "bug"]}},
                   "required": ["category"]},
        "update": {"/category": {"var": "output.category"}}
      },
      "writer": {"prompt": "Reply to {{state.category}}: {{state.ticket}}",
                 "update": {"/draft": {"var": "output"}}},
      "noter": {"prompt": "Note on {{item}} ({{index}})"}
    },
    "phases": {
      "classify": {"run": "classifier", "next": "draft"},
      "draft": {"run": "writer", "next": "review"},
      "review": {"ask": {"prompt": "Send?\n{{state.draft}}", "type": "approval"},
                 "update": {"/approved": {"var": "output.approved"}},
                 "next": {"if": [{"var": "state.approved"}, "notes", "draft"]}},
      "notes": {"each": {"items": {"var": "state.items"}, "run": "noter"},
                "update": {"/notes": {"var": "output"}}, "next": "bump"},
      "bump": {"set": {"/rounds": {"+": [{"var": "state.rounds"}, 1]}}, "next": "done"},
      "done": {"terminal": true, "result": {"var": "state.draft"}}
    }
  })json");
}

std::vector<Diagnostic> Load(const J& wf) {
  return LoadWorkflow(wf.dump(2)).diagnostics;
}

// The messages of all diagnostics, one per line, for failure output.
std::string Describe(const std::vector<Diagnostic>& diags) {
  std::string out;
  for (const auto& d : diags) out += d.ToString() + "\n";
  return out;
}

const Diagnostic* Find(const std::vector<Diagnostic>& diags, const std::string& path) {
  for (const auto& d : diags) {
    if (d.path == path) return &d;
  }
  return nullptr;
}

// Asserts exactly one diagnostic, at `path`, whose message contains `fragment`.
void ExpectOnly(const std::vector<Diagnostic>& diags, const std::string& path,
                const std::string& fragment) {
  INFO(Describe(diags));
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].path == path);
  CHECK_THAT(diags[0].message, Catch::Contains(fragment));
}

}  // namespace

TEST_CASE("a valid workflow loads with every phase kind", "[workflow]") {
  auto loaded = LoadWorkflow(ValidWorkflow().dump());
  INFO(Describe(loaded.diagnostics));
  REQUIRE(loaded.diagnostics.empty());
  const Workflow& wf = *loaded.workflow;
  CHECK(wf.entry == "classify");
  CHECK(wf.phases.size() == 6);
  CHECK(wf.FindAgent("writer")->model == "claude-sonnet-4-5");
  CHECK(wf.FindPhase("review")->ask.type == AskType::kApproval);
}

TEST_CASE("validation: JSON syntax errors give line and column", "[workflow]") {
  auto diags =
      LoadWorkflow("{\n  \"scaffold\": 1,\n  \"name\": \"x\"\n  \"phases\": {}\n}").diagnostics;
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].line == 4);
  CHECK(diags[0].column > 0);
  CHECK_THAT(diags[0].ToString(), Catch::StartsWith("line 4, column "));
  CHECK_THAT(diags[0].message, Catch::Contains("invalid JSON: syntax error"));
}

TEST_CASE("validation: non-UTF-8 text is a syntax error with its location", "[workflow]") {
  auto diags = LoadWorkflow("{\"scaffold\": 1, \"name\": \"bad \xff byte\"}").diagnostics;
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].line == 1);
  CHECK_THAT(diags[0].message, Catch::Contains("UTF-8"));
}

TEST_CASE("validation: nesting past the limit is dropped, and keys after it are placed right",
          "[workflow]") {
  // A dropped region holding duplicate keys, then a duplicate key back at the top: the first is
  // not looked into, the second is reported where it is.
  std::string deep = std::string(scaffold::kMaxJsonDepth + 2000, '[') + "{\"k\": 1, \"k\": 2}" +
                     std::string(scaffold::kMaxJsonDepth + 2000, ']');
  auto diags = LoadWorkflow("{\"scaffold\": 1, \"name\": \"x\", \"state\": {\"n\": " + deep +
                            ", \"m\": 1, \"m\": 2}, \"phases\": {\"done\": {\"terminal\": true}}}")
                   .diagnostics;
  REQUIRE(diags.size() == 2);
  CHECK_THAT(diags[0].message, Catch::Contains("nested deeper than 128 levels"));
  CHECK(diags[0].path.size() == std::string("/state/n").size() + 2 * (scaffold::kMaxJsonDepth - 2));
  CHECK(diags[1].path == "/state/m");
  CHECK_THAT(diags[1].message, Catch::Contains("duplicate key \"m\""));
}

TEST_CASE("validation: files over the size cap are refused", "[workflow]") {
  std::string big(kMaxWorkflowBytes + 1, ' ');
  auto diags = LoadWorkflow(big).diagnostics;
  REQUIRE(diags.size() == 1);
  CHECK_THAT(diags[0].message, Catch::Contains("limited to 4194304 bytes"));
}

TEST_CASE("validation: unknown keys suggest the closest known key", "[workflow]") {
  J wf = ValidWorkflow();
  wf["agents"]["writer"]["promt"] = J(wf["agents"]["writer"]["prompt"]);
  wf["agents"]["writer"].erase("prompt");
  auto diags = Load(wf);
  INFO(Describe(diags));
  REQUIRE(Find(diags, "/agents/writer/promt"));
  CHECK(Find(diags, "/agents/writer/promt")->message ==
        "unknown key \"promt\" (did you mean \"prompt\"?)");
  REQUIRE(Find(diags, "/agents/writer/prompt"));
  CHECK(Find(diags, "/agents/writer/prompt")->message == "required");
}

TEST_CASE("validation: duplicate keys are reported at their path", "[workflow]") {
  std::string text = ValidWorkflow().dump(2);
  text.replace(text.find("\"bump\": {"), 0, "\"done\": {\"terminal\": true},\n");
  ExpectOnly(LoadWorkflow(text).diagnostics, "/phases/done", "duplicate key \"done\"");
}

TEST_CASE("validation: wrong types name the expected type", "[workflow]") {
  J wf = ValidWorkflow();
  wf["phases"]["draft"]["next"] = 7;
  ExpectOnly(Load(wf), "/phases/draft/next", "expected a phase name or an expression, got number");
  wf = ValidWorkflow();
  wf["agents"]["writer"]["max_turns"] = "3";
  ExpectOnly(Load(wf), "/agents/writer/max_turns", "expected an integer, got string");
}

TEST_CASE("validation: an unknown format version is refused", "[workflow]") {
  J wf = ValidWorkflow();
  wf["scaffold"] = 2;
  ExpectOnly(Load(wf), "/scaffold", "unsupported format version 2 (this build reads version 1)");
}

TEST_CASE("validation: unknown phase references suggest a name", "[workflow]") {
  J wf = ValidWorkflow();
  wf["phases"]["review"]["next"] =
      J::parse(R"({"if": [{"var": "state.approved"}, "notes", "drafts"]})");
  ExpectOnly(Load(wf), "/phases/review/next", "unknown phase \"drafts\" (did you mean \"draft\"?)");
  wf = ValidWorkflow();
  wf["entry"] = "clasify";
  ExpectOnly(Load(wf), "/entry", "unknown phase \"clasify\" (did you mean \"classify\"?)");
}

TEST_CASE("validation: unknown agents and tools are named", "[workflow]") {
  J wf = ValidWorkflow();
  wf["phases"]["draft"]["run"] = "writter";
  auto diags = Load(wf);
  REQUIRE(Find(diags, "/phases/draft/run"));
  CHECK(Find(diags, "/phases/draft/run")->message ==
        "unknown agent \"writter\" (did you mean \"writer\"?)");
  wf = ValidWorkflow();
  wf["phases"]["bump"] = J::parse(R"({"tool": {"name": "search"}, "next": "done"})");
  ExpectOnly(Load(wf), "/phases/bump/tool/name", "unknown tool \"search\"");
}

TEST_CASE("validation: unreachable phases are reported", "[workflow]") {
  J wf = ValidWorkflow();
  wf["phases"]["orphan"] = J::parse(R"({"set": {}, "next": "done"})");
  ExpectOnly(Load(wf), "/phases/orphan", "unreachable");
}

TEST_CASE("validation: phases with no way to a terminal phase are reported", "[workflow]") {
  J wf = ValidWorkflow();
  wf["phases"]["bump"]["next"] = "spin";
  wf["phases"]["spin"] = J::parse(R"({"set": {}, "next": "bump"})");
  auto diags = Load(wf);
  INFO(Describe(diags));
  REQUIRE(diags.size() >= 2);
  REQUIRE(Find(diags, "/phases/spin"));
  CHECK_THAT(Find(diags, "/phases/spin")->message, Catch::Contains("no way out"));
  CHECK(Find(diags, "/phases/bump"));
}

TEST_CASE("validation: the phase graph follows named and computed next phases", "[workflow]") {
  // Both results of an `if` are edges; the phase neither names is unreachable.
  J wf = J::parse(R"({"scaffold": 1, "name": "graph", "entry": "a", "phases": {
      "a": {"set": {}, "next": {"if": [{"var": "input"}, "b", "done"]}},
      "b": {"set": {}, "next": "done"},
      "c": {"set": {}, "next": "done"},
      "done": {"terminal": true}}})");
  ExpectOnly(Load(wf), "/phases/c", "unreachable");
  // A next computed from the state may lead anywhere, and finishes as long as a terminal exists.
  wf["phases"]["a"]["next"] = J::parse(R"({"var": "input"})");
  CHECK(Load(wf).empty());
  // A long chain is walked in one pass each way: 3,000 phases, a loop at its end with no way out.
  J chain = J::parse(R"({"scaffold": 1, "name": "chain", "entry": "p0", "phases": {}})");
  auto name = [](int i) {
    char text[16];
    std::snprintf(text, sizeof text, "p%d", i);
    return std::string(text);
  };
  for (int i = 0; i < 3000; ++i) {
    chain["phases"][name(i)] = {{"set", J::object()}, {"next", name(i + 1)}};
  }
  chain["phases"]["p3000"] = {{"set", J::object()}, {"next", "p2999"}};
  chain["phases"]["p1"]["next"] = J::parse(R"({"if": [{"var": "input"}, "p2", "done"]})");
  chain["phases"]["done"] = {{"terminal", true}};
  auto diags = Load(chain);
  INFO(Describe(diags));
  REQUIRE(diags.size() == 2999);  // p2 to p3000 cannot reach "done"
  CHECK(Find(diags, "/phases/p2"));
  CHECK(Find(diags, "/phases/p3000"));
  CHECK_FALSE(Find(diags, "/phases/p1"));
  CHECK_THAT(Find(diags, "/phases/p1500")->message, Catch::Contains("no way out"));
}

TEST_CASE("validation: a workflow without a terminal phase is refused", "[workflow]") {
  J wf = J::parse(R"({"scaffold": 1, "name": "loop", "phases": {"a": {"set": {}, "next": "a"}}})");
  auto diags = Load(wf);
  REQUIRE(Find(diags, "/phases"));
  CHECK_THAT(Find(diags, "/phases")->message, Catch::Contains("no terminal phase"));
}

TEST_CASE("validation: unused agents are reported", "[workflow]") {
  J wf = ValidWorkflow();
  wf["agents"]["critic"] = J::parse(R"({"prompt": "Critique"})");
  ExpectOnly(Load(wf), "/agents/critic", "never used");
}

TEST_CASE("validation: update pointers must exist in the initial state", "[workflow]") {
  J wf = ValidWorkflow();
  wf["agents"]["writer"]["update"] = J::parse(R"({"/drafts": {"var": "output"}})");
  ExpectOnly(Load(wf), "/agents/writer/update/~1drafts",
             "\"/drafts\" is not in the initial state (did you mean \"draft\"?)");
  wf = ValidWorkflow();
  wf["phases"]["bump"]["set"] = J::parse(R"({"/notes/-": "x", "/ticket/x": 1})");
  ExpectOnly(Load(wf), "/phases/bump/set/~1ticket~1x", "is a string in the initial state");
  wf = ValidWorkflow();
  wf["phases"]["bump"]["set"] = J::parse(R"({"rounds": 1})");
  ExpectOnly(Load(wf), "/phases/bump/set/rounds", "start with \"/\"");
}

TEST_CASE("validation: template variables must name a known key", "[workflow]") {
  J wf = ValidWorkflow();
  wf["agents"]["writer"]["prompt"] = "Reply to {{state.categroy}}";
  ExpectOnly(Load(wf), "/agents/writer/prompt",
             "\"state.categroy\" names no key of the initial state (did you mean \"category\"?)");
  wf = ValidWorkflow();
  wf["agents"]["writer"]["prompt"] = "{{ticket}}";
  ExpectOnly(Load(wf), "/agents/writer/prompt", "names nothing");
  wf = ValidWorkflow();
  wf["agents"]["writer"]["prompt"] = "{{item}}";
  ExpectOnly(Load(wf), "/agents/writer/prompt", "only inside an \"each\" phase's agent");
  wf = ValidWorkflow();
  wf["agents"]["writer"]["prompt"] = "{{#state.notes}}{{text}}{{/state.notes}}";
  CHECK(Load(wf).empty());
}

TEST_CASE("validation: expression variables must name a known key", "[workflow]") {
  J wf = ValidWorkflow();
  wf["agents"]["classifier"]["update"] = J::parse(R"({"/category": {"var": "output.categry"}})");
  ExpectOnly(Load(wf), "/agents/classifier/update/~1category/var",
             "names no field of the output (did you mean \"category\"?)");
  wf = ValidWorkflow();
  wf["agents"]["writer"]["update"] = J::parse(R"({"/draft": {"var": "output.text"}})");
  ExpectOnly(Load(wf), "/agents/writer/update/~1draft/var", "its output is text");
}

TEST_CASE("validation: invalid schemas are reported at their path", "[workflow]") {
  J wf = ValidWorkflow();
  wf["agents"]["classifier"]["output"] = J::parse(R"({"type": "objct"})");
  auto diags = Load(wf);
  REQUIRE(Find(diags, "/agents/classifier/output/type"));
  CHECK_THAT(Find(diags, "/agents/classifier/output/type")->message,
             Catch::Contains("invalid schema") && Catch::Contains("unknown type \"objct\""));
}

TEST_CASE("validation: unknown JSON Logic operators are reported", "[workflow]") {
  J wf = ValidWorkflow();
  wf["phases"]["review"]["next"] =
      J::parse(R"({"iff": [{"var": "state.approved"}, "notes", "draft"]})");
  auto diags = Load(wf);
  REQUIRE(Find(diags, "/phases/review/next/iff"));
  CHECK(Find(diags, "/phases/review/next/iff")->message ==
        "unknown operator \"iff\" (did you mean \"if\"?)");
}

TEST_CASE("validation: phases need exactly one kind and a next", "[workflow]") {
  J wf = ValidWorkflow();
  wf["phases"]["bump"] = J::parse(R"({"set": {}, "run": "writer", "next": "done"})");
  ExpectOnly(Load(wf), "/phases/bump", "exactly one kind");
  wf = ValidWorkflow();
  wf["phases"]["bump"].erase("next");
  auto diags = Load(wf);
  REQUIRE(Find(diags, "/phases/bump/next"));
  CHECK_THAT(Find(diags, "/phases/bump/next")->message, Catch::Contains("required"));
}

TEST_CASE("validation: ask settings are checked", "[workflow]") {
  J wf = ValidWorkflow();
  wf["phases"]["review"]["ask"] = J::parse(R"({"prompt": "Pick", "type": "choice"})");
  wf["phases"]["review"]["update"] = Json::object();
  ExpectOnly(Load(wf), "/phases/review/ask/options", "non-empty list of options");
  wf["phases"]["review"]["ask"] =
      J::parse(R"({"prompt": "Pick", "type": "choice", "options": ["a"], "default": "b"})");
  ExpectOnly(Load(wf), "/phases/review/ask/default", "one of the options");
}

TEST_CASE("validation: every problem is listed, not just the first", "[workflow]") {
  J wf = ValidWorkflow();
  wf["phases"]["draft"]["run"] = "nobody";
  wf["phases"]["bump"]["next"] = "nowhere";
  wf["agents"]["writer"]["temperature"] = 5;
  auto diags = Load(wf);
  INFO(Describe(diags));
  CHECK(Find(diags, "/phases/draft/run"));
  CHECK(Find(diags, "/phases/bump/next"));
  CHECK(Find(diags, "/agents/writer/temperature"));
}

TEST_CASE("validation: mcp tools are checked by path", "[workflow][mcp]") {
  auto with_tool = [](const char* tool) {
    J wf = ValidWorkflow();
    wf["tools"] = J{{"fs", J::parse(tool)}};
    wf["agents"]["writer"]["tools"] = J::array({"fs"});
    return wf;
  };
  auto ok =
      LoadWorkflow(with_tool(R"({"type": "mcp", "command": ["mcp-fs", "{{session.workspace}}"],
                    "env": {"TOKEN": "{{env.FS_TOKEN}}"}, "allow": ["read_file"],
                    "timeout_ms": 5000, "max_output_bytes": 4096})")
                       .dump());
  INFO(Describe(ok.diagnostics));
  REQUIRE(ok.workflow);
  const ToolDecl& fs = ok.workflow->tools.at("fs");
  CHECK(fs.argv == std::vector<std::string>{"mcp-fs", "{{session.workspace}}"});
  CHECK(fs.env.at("TOKEN") == "{{env.FS_TOKEN}}");
  CHECK(fs.allow == std::vector<std::string>{"read_file"});
  CHECK(fs.max_output_bytes == 4096);

  ExpectOnly(Load(with_tool(R"({"type": "mcp"})")), "/tools/fs/command", "required");
  ExpectOnly(Load(with_tool(R"({"type": "mcp", "command": []})")), "/tools/fs/command",
             "non-empty array");
  ExpectOnly(Load(with_tool(R"({"type": "mcp", "command": ["x", 3]})")), "/tools/fs/command/1",
             "a string");
  ExpectOnly(Load(with_tool(R"({"type": "mcp", "command": ["x"], "env": {"A": 1}})")),
             "/tools/fs/env/A", "a string");
  ExpectOnly(Load(with_tool(R"({"type": "mcp", "command": ["x"], "env": {"A=B": "1"}})")),
             "/tools/fs/env/A=B", "'='");
  ExpectOnly(Load(with_tool(R"({"type": "mcp", "command": ["x"], "allow": "read_file"})")),
             "/tools/fs/allow", "array");
  ExpectOnly(Load(with_tool(R"({"type": "mcp", "command": ["x"], "allow": [""]})")),
             "/tools/fs/allow/0", "a tool name");
  ExpectOnly(Load(with_tool(R"({"type": "mcp", "command": ["{{#x}}"]})")), "/tools/fs/command/0",
             "");
  // The server describes its tools.
  ExpectOnly(Load(with_tool(R"({"type": "mcp", "command": ["x"], "input_schema": {}})")),
             "/tools/fs/input_schema", "unknown key");
  // A server at a URL: allow-listed hosts, headers; no program settings.
  auto http = LoadWorkflow(
      with_tool(R"({"type": "mcp", "url": "http://127.0.0.1:8931/mcp", "allow_hosts": ["127.0.0.1"],
                    "headers": {"Authorization": "Bearer {{env.DOCS_TOKEN}}"}})")
          .dump());
  INFO(Describe(http.diagnostics));
  REQUIRE(http.workflow);
  CHECK(http.workflow->tools.at("fs").headers.at("Authorization") == "Bearer {{env.DOCS_TOKEN}}");
  ExpectOnly(Load(with_tool(R"({"type": "mcp", "url": "http://127.0.0.1:8931/mcp"})")),
             "/tools/fs/allow_hosts", "required");
  ExpectOnly(Load(with_tool(R"({"type": "mcp", "url": "http://docs.example.com/mcp",
                                "allow_hosts": ["127.0.0.1"]})")),
             "/tools/fs/url", "not in this tool's allow_hosts");
  ExpectOnly(Load(with_tool(R"({"type": "mcp", "url": "ftp://x/mcp", "allow_hosts": ["x"]})")),
             "/tools/fs/url", "http:// or https://");
  ExpectOnly(Load(with_tool(R"({"type": "mcp", "url": "http://x/mcp", "allow_hosts": ["x"],
                                "command": ["x"]})")),
             "/tools/fs", "not both");
  ExpectOnly(Load(with_tool(R"({"type": "mcp", "url": "http://x/mcp", "allow_hosts": ["x"],
                                "env": {"A": "1"}})")),
             "/tools/fs/env", "\"command\"");
  ExpectOnly(Load(with_tool(R"({"type": "mcp", "command": ["x"], "allow_hosts": ["x"]})")),
             "/tools/fs/allow_hosts", "\"url\"");
  ExpectOnly(Load(with_tool(R"({"type": "mcp", "url": "http://x/mcp", "allow_hosts": ["x"],
                                "headers": {"Bad\nName": "v"}})")),
             "/tools/fs/headers/Bad\nName", "not a header name");

  // A tool phase cannot call a server's tools.
  J phase = with_tool(R"({"type": "mcp", "command": ["x"]})");
  phase["phases"]["bump"] = J::parse(R"({"tool": {"name": "fs"}, "next": "done"})");
  ExpectOnly(Load(phase), "/phases/bump/tool/name", "MCP server");
}

TEST_CASE("validation: keys keep the file's order in objects of any size", "[workflow]") {
  // Phase names in falling order, so file order and sorted order differ at every step.
  constexpr int kPhases = 5000;
  auto name = [](int i) {
    char text[16];  // not "p" + std::to_string(): GCC 12 warns at -O3 (a false positive)
    std::snprintf(text, sizeof text, "p%d", 100000 - i);
    return std::string(text);
  };
  std::string text = R"({"scaffold": 1, "name": "chain", "phases": {)";
  for (int i = 0; i < kPhases; ++i) {
    text.append("\"").append(name(i)).append("\": {\"set\": {}, \"next\": \"");
    text.append(name(i + 1)).append("\"}, ");
  }
  text.append("\"").append(name(kPhases)).append("\": {\"terminal\": true}}}");
  auto loaded = LoadWorkflow(text);
  INFO(Describe(loaded.diagnostics));
  REQUIRE(loaded.workflow);
  const Workflow& wf = *loaded.workflow;
  REQUIRE(wf.phases.size() == kPhases + 1);
  CHECK(wf.entry == name(0));  // the first phase in the file
  for (int i = 0; i <= kPhases; ++i) {
    REQUIRE(wf.phases[static_cast<size_t>(i)].name == name(i));
    REQUIRE(wf.FindPhase(name(i)) == &wf.phases[static_cast<size_t>(i)]);
  }
  CHECK(wf.FindPhase("p0") == nullptr);
}

TEST_CASE(
    "workflow JSON: a duplicate key is told where it is; the last value stays in the first place",
    "[workflow]") {
  std::vector<Diagnostic> diags;
  auto tree = ParseWorkflowJson(R"({"b": 1, "a": [0, {"k": 1, "k": 2}], "b": 3})", &diags);
  REQUIRE(tree);
  REQUIRE(diags.size() == 2);
  CHECK(diags[0].path == "/a/1/k");
  CHECK(diags[1].path == "/b");
  CHECK(tree->dump() == R"({"b":3,"a":[0,{"k":2}]})");

  // Many keys, one of them twice.
  std::string text = "{";
  for (int i = 0; i < 20000; ++i)
    text += "\"k" + std::to_string(i) + "\": " + std::to_string(i) + ",";
  text += "\"k7\": \"again\"}";
  diags.clear();
  tree = ParseWorkflowJson(text, &diags);
  REQUIRE(tree);
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].path == "/k7");
  REQUIRE(tree->size() == 20000);
  const auto& members = tree->get_ref<const J::object_t&>();
  CHECK(members.front().first == "k0");
  CHECK(std::next(members.begin(), 7)->first == "k7");
  CHECK(std::next(members.begin(), 7)->second == "again");
  CHECK(members.back().first == "k19999");

  // Around the size where an object's keys start being looked up in an index instead of scanned:
  // a repeat of the first key and of the last is found on either side, inside a nested object
  // (the pointer names the member being read in each enclosing object).
  for (int n : {14, 15, 16, 17, 40}) {
    CAPTURE(n);
    std::string inner = "{";
    for (int i = 0; i < n; ++i)
      inner += "\"m" + std::to_string(i) + "\": " + std::to_string(i) + ",";
    inner += "\"m0\": \"first\", \"m" + std::to_string(n - 1) + "\": \"last\", \"new\": true}";
    diags.clear();
    tree = ParseWorkflowJson(R"({"x": 1, "o": )" + inner + "}", &diags);
    REQUIRE(tree);
    REQUIRE(diags.size() == 2);
    CHECK(diags[0].path == "/o/m0");
    CHECK(diags[1].path == "/o/m" + std::to_string(n - 1));
    const auto& o = tree->at("o").get_ref<const J::object_t&>();
    REQUIRE(o.size() == static_cast<size_t>(n) + 1);
    CHECK(o.begin()->second == "first");
    CHECK(std::next(o.begin(), n - 1)->second == "last");
    CHECK(o.back().first == "new");
  }
}

TEST_CASE("workflow JSON: a syntax error is the one thing told, with its line and column",
          "[workflow]") {
  std::vector<Diagnostic> diags;
  CHECK_FALSE(ParseWorkflowJson("{\"a\": 1, \"a\": 2,\n  \"b\": }", &diags));
  REQUIRE(diags.size() == 1);
  CHECK(diags[0].line == 2);
  CHECK(diags[0].column == 8);
  CHECK_THAT(diags[0].message, Catch::StartsWith("invalid JSON: syntax error"));
  diags.clear();
  CHECK_FALSE(ParseWorkflowJson("{\"a\": 1e999}", &diags));
  REQUIRE(diags.size() == 1);
  CHECK_THAT(diags[0].message, Catch::Contains("number overflow"));
}
