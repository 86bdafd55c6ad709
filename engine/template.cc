#include "engine/template.h"

#include <deque>
#include <unordered_map>

// clang-format off
#include "engine/no_iostream_init.h"  // before kainjow/mustache.hpp, which includes <iostream>
#include <kainjow/mustache.hpp>
// clang-format on

namespace scaffold::engine {
namespace {

namespace mstch = kainjow::mustache;

// kainjow asks its context for a name both to interpolate it and to open a section, and renders
// objects and lists as nothing when interpolated. To make {{obj}} print JSON while {{#obj}}
// still pushes the object, interpolation tags are renamed with this prefix before parsing, so the
// context knows which use a lookup is for.
constexpr char kInterpolationMark = '\x1f';

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view TrimView(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

int LineAt(std::string_view source, size_t offset) {
  int line = 1;
  for (size_t i = 0; i < offset && i < source.size(); ++i) line += source[i] == '\n';
  return line;
}

bool ParseDelimiters(std::string_view contents, std::string* open, std::string* close) {
  // contents is "=<open> <close>=" (already trimmed).
  if (contents.size() < 5 || contents.front() != '=' || contents.back() != '=') return false;
  std::string_view inner = TrimView(contents.substr(1, contents.size() - 2));
  size_t space = inner.find_first_of(" \t");
  if (space == std::string_view::npos) return false;
  std::string_view a = inner.substr(0, space);
  std::string_view b = TrimView(inner.substr(space));
  auto valid = [](std::string_view d) {
    if (d.empty()) return false;
    for (char c : d) {
      if (c == '=' || IsSpace(c)) return false;
    }
    return true;
  };
  if (!valid(a) || !valid(b)) return false;
  *open = a;
  *close = b;
  return true;
}

// Serializes a value for interpolation into a prompt.
std::string InterpolatedText(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string:
      return value.get<std::string>();
    case Json::value_t::null:
      return "";
    default:
      return DumpJson(value);
  }
}

bool SectionTruthy(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return false;
    case Json::value_t::boolean:
      return value.get<bool>();
    case Json::value_t::string:
      return !value.get_ref<const std::string&>().empty();
    case Json::value_t::array:
      return !value.empty();
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return value.get<double>() != 0;
    default:
      return true;
  }
}

// Prefix of a partial name carrying the indentation of a standalone partial tag:
// "\x1e<indent>\x1e<name>".
constexpr char kIndentMark = '\x1e';

struct Edit {
  size_t begin;
  size_t end;
  std::string replacement;
};

// If `tag` stands alone on its line (only spaces and tabs around it), returns the range of the
// whole line including its line break, and the indentation before the tag.
bool StandaloneLine(std::string_view source, const TemplateTag& tag, size_t* line_begin,
                    size_t* line_end, std::string* indent) {
  size_t ls = source.rfind('\n', tag.begin == 0 ? 0 : tag.begin - 1);
  ls = (ls == std::string_view::npos || tag.begin == 0) ? 0 : ls + 1;
  if (tag.begin > 0 && source[tag.begin - 1] == '\n') ls = tag.begin;
  for (size_t i = ls; i < tag.begin; ++i) {
    if (source[i] != ' ' && source[i] != '\t') return false;
  }
  size_t le = tag.end;
  while (le < source.size() && (source[le] == ' ' || source[le] == '\t')) ++le;
  if (le < source.size()) {
    if (source[le] == '\n') {
      ++le;
    } else if (source.compare(le, 2, "\r\n") == 0) {
      le += 2;
    } else {
      return false;
    }
  }
  *line_begin = ls;
  *line_end = le;
  *indent = std::string(source.substr(ls, tag.begin - ls));
  return true;
}

// Prepares a template for kainjow: marks interpolation tags with kInterpolationMark, and applies
// the spec's standalone-line rule to comments, delimiter changes and partials (kainjow applies it
// to sections only), recording a standalone partial's indentation in its name.
Result<std::string> PrepareTemplate(std::string_view source) {
  auto tags = ScanTemplate(source);
  if (!tags.ok()) return tags.status();
  std::vector<Edit> edits;
  for (const auto& tag : *tags) {
    using Kind = TemplateTag::Kind;
    if (tag.kind == Kind::kVariable || tag.kind == Kind::kUnescaped) {
      if (!tag.name.empty())
        edits.push_back({tag.name_begin, tag.name_begin, std::string(1, kInterpolationMark)});
      continue;
    }
    if (tag.kind != Kind::kComment && tag.kind != Kind::kDelimiter && tag.kind != Kind::kPartial)
      continue;
    size_t ls, le;
    std::string indent;
    if (!StandaloneLine(source, tag, &ls, &le, &indent)) continue;
    std::string text(source.substr(tag.begin, tag.end - tag.begin));
    if (tag.kind == Kind::kComment) {
      text.clear();
    } else if (tag.kind == Kind::kPartial) {
      text.insert(tag.name_begin - tag.begin, std::string(1, kIndentMark) + indent + kIndentMark);
    }
    edits.push_back({ls, le, std::move(text)});
  }
  std::string out;
  out.reserve(source.size() + edits.size());
  size_t copied = 0;
  for (const auto& e : edits) {
    out.append(source.substr(copied, e.begin - copied));
    out.append(e.replacement);
    copied = e.end;
  }
  out.append(source.substr(copied));
  return out;
}

// Indents every line of a partial that stood alone on an indented line.
std::string IndentLines(const std::string& text, const std::string& indent) {
  if (indent.empty()) return text;
  std::string out = indent;
  for (size_t i = 0; i < text.size(); ++i) {
    out += text[i];
    if (text[i] == '\n' && i + 1 < text.size()) out += indent;
  }
  return out;
}

// A kainjow context that resolves names directly against a Json value, creating kainjow data
// only for the values a template actually touches.
class JsonContext : public mstch::basic_context<std::string> {
 public:
  JsonContext(const Json* root, const Json* partials) : partials_(partials) {
    stack_.push_back(root);
  }

  void push(const mstch::data* data) override {
    auto it = origin_.find(data);
    stack_.push_back(it == origin_.end() ? &null_ : it->second);
  }
  void pop() override { stack_.pop_back(); }

  const mstch::data* get(const std::string& raw_name) const override {
    bool interpolate = !raw_name.empty() && raw_name[0] == kInterpolationMark;
    std::string_view name = interpolate ? std::string_view(raw_name).substr(1) : raw_name;
    const Json* value = Resolve(name);
    if (value == nullptr) return nullptr;
    if (interpolate) return Keep(mstch::data(InterpolatedText(*value)), value);
    if (value->is_null()) return nullptr;
    if (!SectionTruthy(*value)) return Keep(mstch::data(false), value);
    if (value->is_array()) {
      mstch::data list(mstch::data::type::list);
      for (size_t i = 0; i < value->size(); ++i) list.push_back(mstch::data(true));
      const mstch::data* kept = Keep(std::move(list), value);
      const auto& items = kept->list_value();
      for (size_t i = 0; i < items.size(); ++i) origin_[&items[i]] = &(*value)[i];
      return kept;
    }
    if (value->is_object()) return Keep(mstch::data(mstch::data::type::object), value);
    if (value->is_boolean()) return Keep(mstch::data(true), value);
    return Keep(mstch::data(InterpolatedText(*value)), value);
  }

  const mstch::data* get_partial(const std::string& raw_name) const override {
    if (partials_ == nullptr || !partials_->is_object()) return nullptr;
    std::string name = raw_name, indent;
    if (!name.empty() && name[0] == kIndentMark) {
      size_t close = name.find(kIndentMark, 1);
      indent = name.substr(1, close - 1);
      name = name.substr(close + 1);
    }
    auto it = partials_->find(name);
    if (it == partials_->end() || !it->is_string()) return nullptr;
    auto marked = PrepareTemplate(IndentLines(it->get<std::string>(), indent));
    if (!marked.ok()) {
      error_ = marked.status();
      return nullptr;
    }
    return Keep(mstch::data(*marked), &null_);
  }

  const Status& error() const { return error_; }

 private:
  const Json* Resolve(std::string_view name) const {
    if (name == ".") return stack_.back();
    size_t dot = name.find('.');
    std::string first(name.substr(0, dot));
    const Json* found = nullptr;
    for (auto it = stack_.rbegin(); it != stack_.rend() && found == nullptr; ++it) {
      found = Child(**it, first);
    }
    while (found != nullptr && dot != std::string_view::npos) {
      size_t next = name.find('.', dot + 1);
      std::string part(name.substr(
          dot + 1, next == std::string_view::npos ? std::string_view::npos : next - dot - 1));
      found = Child(*found, part);
      dot = next;
    }
    return found;
  }

  static const Json* Child(const Json& value, const std::string& key) {
    if (value.is_object()) {
      auto it = value.find(key);
      return it == value.end() ? nullptr : &*it;
    }
    if (value.is_array() && !key.empty() &&
        key.find_first_not_of("0123456789") == std::string::npos && key.size() < 10) {
      size_t index = std::stoul(key);
      return index < value.size() ? &value[index] : nullptr;
    }
    return nullptr;
  }

  const mstch::data* Keep(mstch::data data, const Json* value) const {
    arena_.emplace_back(std::move(data));
    const mstch::data* kept = &arena_.back();
    origin_[kept] = value;
    return kept;
  }

  const Json* partials_;
  const Json null_;
  std::vector<const Json*> stack_;
  mutable std::deque<mstch::data> arena_;
  mutable std::unordered_map<const mstch::data*, const Json*> origin_;
  mutable Status error_;
};

}  // namespace

Result<std::vector<TemplateTag>> ScanTemplate(std::string_view source) {
  std::vector<TemplateTag> tags;
  std::vector<std::pair<std::string, int>> open_sections;  // name, line
  std::string open = "{{", close = "}}";
  size_t pos = 0;
  while (true) {
    size_t start = source.find(open, pos);
    if (start == std::string_view::npos) break;
    size_t contents_begin = start + open.size();
    bool braces = open == "{{" && close == "}}";
    bool triple = braces && contents_begin < source.size() && source[contents_begin] == '{';
    if (triple) ++contents_begin;
    std::string_view closing = triple ? std::string_view("}}}") : std::string_view(close);
    size_t stop = source.find(closing, contents_begin);
    int line = LineAt(source, start);
    if (stop == std::string_view::npos) {
      return InvalidArgument("unclosed tag \"" + std::string(open) + "\" on line " +
                             std::to_string(line));
    }
    std::string_view raw = source.substr(contents_begin, stop - contents_begin);
    std::string_view contents = TrimView(raw);
    size_t contents_offset = contents_begin + (contents.empty() ? 0 : contents.data() - raw.data());

    TemplateTag tag{
        TemplateTag::Kind::kVariable, "", start, stop + closing.size(), contents_offset, line, {}};
    for (const auto& s : open_sections) tag.sections.push_back(s.first);
    if (triple) {
      tag.kind = TemplateTag::Kind::kUnescaped;
      tag.name = contents;
    } else if (!contents.empty() && contents.front() == '=') {
      tag.kind = TemplateTag::Kind::kDelimiter;
      if (!ParseDelimiters(contents, &open, &close)) {
        return InvalidArgument("invalid delimiter change on line " + std::to_string(line));
      }
    } else {
      char sigil = contents.empty() ? '\0' : contents.front();
      switch (sigil) {
        case '#':
          tag.kind = TemplateTag::Kind::kSection;
          break;
        case '^':
          tag.kind = TemplateTag::Kind::kInverted;
          break;
        case '/':
          tag.kind = TemplateTag::Kind::kClose;
          break;
        case '>':
          tag.kind = TemplateTag::Kind::kPartial;
          break;
        case '&':
          tag.kind = TemplateTag::Kind::kUnescaped;
          break;
        case '!':
          tag.kind = TemplateTag::Kind::kComment;
          break;
        default:
          tag.kind = TemplateTag::Kind::kVariable;
          break;
      }
      if (tag.kind == TemplateTag::Kind::kVariable) {
        tag.name = contents;
      } else if (tag.kind != TemplateTag::Kind::kComment) {
        std::string_view rest = contents.substr(1);
        std::string_view name = TrimView(rest);
        tag.name = name;
        tag.name_begin = contents_offset + 1 + (name.empty() ? 0 : name.data() - rest.data());
      }
    }
    if (tag.kind == TemplateTag::Kind::kSection || tag.kind == TemplateTag::Kind::kInverted) {
      open_sections.emplace_back(tag.name, line);
    } else if (tag.kind == TemplateTag::Kind::kClose) {
      if (open_sections.empty()) {
        return InvalidArgument("{{/" + tag.name + "}} on line " + std::to_string(line) +
                               " closes a section that was never opened");
      }
      if (open_sections.back().first != tag.name) {
        return InvalidArgument("{{/" + tag.name + "}} on line " + std::to_string(line) +
                               " closes section \"" + open_sections.back().first +
                               "\" opened on line " + std::to_string(open_sections.back().second));
      }
      open_sections.pop_back();
    }
    tags.push_back(std::move(tag));
    pos = stop + closing.size();
  }
  if (!open_sections.empty()) {
    return InvalidArgument("section \"" + open_sections.back().first + "\" opened on line " +
                           std::to_string(open_sections.back().second) + " is never closed");
  }
  return tags;
}

Result<std::string> RenderTemplate(std::string_view source, const Json& context,
                                   const TemplateOptions& options) {
  auto prepared = PrepareTemplate(source);
  if (!prepared.ok()) return prepared.status();
  mstch::mustache tmpl(*prepared);
  if (!tmpl.is_valid()) return InvalidArgument("invalid template: " + tmpl.error_message());
  if (!options.html_escape) tmpl.set_custom_escape([](const std::string& s) { return s; });
  JsonContext ctx(&context, options.partials);
  std::string out = tmpl.render(ctx);
  if (!ctx.error().ok()) return ctx.error();
  if (!tmpl.is_valid()) return InvalidArgument("template error: " + tmpl.error_message());
  return out;
}

Result<Json> RenderTemplateLeaves(const Json& value, const Json& context, const std::string& path) {
  if (value.is_string()) {
    auto r = RenderTemplate(value.get<std::string>(), context);
    if (!r.ok()) return Status(r.status().code(), r.status().message(), path);
    return Json(*r);
  }
  if (value.is_object()) {
    Json out = Json::object();
    for (const auto& [k, v] : value.items()) {
      auto r = RenderTemplateLeaves(v, context, AppendPointer(path, k));
      if (!r.ok()) return r.status();
      out[k] = std::move(*r);
    }
    return out;
  }
  if (value.is_array()) {
    Json out = Json::array();
    for (size_t i = 0; i < value.size(); ++i) {
      auto r = RenderTemplateLeaves(value[i], context, AppendPointer(path, i));
      if (!r.ok()) return r.status();
      out.push_back(std::move(*r));
    }
    return out;
  }
  return value;
}

}  // namespace scaffold::engine
