// Mustache templates for prompts, system prompts, ask prompts and tool arguments, rendered with
// kainjow Mustache.
//
// Differences from plain Mustache, all deliberate for prompts (DESIGN §3):
//  - values are not HTML-escaped by default ({{x}} and {{{x}}} both insert raw text);
//  - objects and arrays interpolate as compact JSON, numbers as JSON numbers, null as "";
//  - sections treat false, null, 0, "" and [] as falsy, as JSON Logic does.
// Names resolve as the Mustache spec says: the first part of a dotted name against the context
// stack, the rest against what it found; array elements can be named by index (items.0).
// With `html_escape` the renderer follows the spec exactly (escaping included), which is how it
// is held to the spec's test suite.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/json.h"
#include "engine/status.h"

namespace scaffold::engine {

struct TemplateOptions {
  bool html_escape = false;
  // Partial templates by name ({{>name}}); borrowed, must outlive the call. May be null.
  const Json* partials = nullptr;
};

// Renders `source` against `context`. Fails on malformed templates (unclosed tags or sections),
// naming the line.
Result<std::string> RenderTemplate(std::string_view source, const Json& context,
                                   const TemplateOptions& options = {});

// Renders every string inside `value` (objects and arrays walked, other values kept), for tool
// inputs and request bodies. A failure's path is `path` plus the pointer of the bad string.
Result<Json> RenderTemplateLeaves(const Json& value, const Json& context,
                                  const std::string& path = "");

struct TemplateTag {
  enum class Kind {
    kVariable,
    kUnescaped,
    kSection,
    kInverted,
    kClose,
    kPartial,
    kComment,
    kDelimiter
  };
  Kind kind;
  std::string name;   // trimmed
  size_t begin;       // byte offset of the opening delimiter
  size_t end;         // byte offset just past the closing delimiter
  size_t name_begin;  // byte offset of the first character of `name`
  int line;           // 1-based
  // Names of the sections enclosing this tag, outermost first.
  std::vector<std::string> sections;
};

// Tokenizes a template, following delimiter changes. Fails with the line of the first unclosed
// tag, stray or mismatched section close, or section left open.
Result<std::vector<TemplateTag>> ScanTemplate(std::string_view source);

}  // namespace scaffold::engine
