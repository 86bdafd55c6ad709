// Compiling a JSON Schema (draft-07) into nodes: keyword checks, local `$ref` resolution, RE2
// patterns, and the refusal of reference cycles that never reach into the value.

#include <cmath>
#include <cstdint>
#include <map>

#include "engine/regex.h"
#include "engine/schema_node.h"

namespace scaffold::engine::schema {
namespace {

// "#/definitions/a%25b/~01" -> ["definitions", "a%b", "~1"]; nullopt when it is not a local
// JSON pointer.
std::optional<std::vector<std::string>> RefTokens(const std::string& ref) {
  if (ref.empty() || ref[0] != '#') return std::nullopt;
  std::string decoded;
  for (size_t i = 1; i < ref.size(); ++i) {
    if (ref[i] == '%' && i + 2 < ref.size() &&
        isxdigit(static_cast<unsigned char>(ref[i + 1])) &&
        isxdigit(static_cast<unsigned char>(ref[i + 2]))) {
      decoded += static_cast<char>(std::stoi(ref.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      decoded += ref[i];
    }
  }
  std::vector<std::string> tokens;
  if (decoded.empty()) return tokens;
  if (decoded[0] != '/') return std::nullopt;  // "#foo": an anchor, which needs $id
  size_t start = 1;
  for (;;) {
    size_t slash = decoded.find('/', start);
    std::string raw = decoded.substr(start, slash == std::string::npos ? slash : slash - start);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        token += raw[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        token += raw[i];
      }
    }
    tokens.push_back(std::move(token));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return tokens;
}

std::string PointerOf(const std::vector<std::string>& tokens) {
  std::string p;
  for (const auto& t : tokens) p = AppendPointer(p, t);
  return p;
}

// The RE2 form of an ECMA-262 pattern, or why it cannot be one.
Status CompilePattern(const Json& value, const std::string& path, Pattern* out) {
  if (!value.is_string()) return InvalidArgument("a pattern must be a string", path);
  auto re = CompileRegex(value.get<std::string>());
  if (!re.ok()) return InvalidArgument(re.status().message(), path);
  out->source = value.get<std::string>();
  out->re = std::move(re).value();
  return Status::Ok();
}

class Compiler {
 public:
  explicit Compiler(Compiled* out) : out_(out) {}

  Status Run() {
    int root = 0;
    SCAFFOLD_RETURN_IF_ERROR(Compile(out_->source, "", 0, &root));
    // References may point at values no keyword walked into; those are compiled on demand,
    // and may bring references of their own.
    while (!pending_.empty()) {
      auto [node, ref, path] = pending_.back();
      pending_.pop_back();
      int target = 0;
      SCAFFOLD_RETURN_IF_ERROR(Resolve(ref, path, &target));
      out_->nodes[node].ref = target;
    }
    return CheckCycles();
  }

 private:
  struct PendingRef {
    int node;
    std::string ref;
    std::string path;  // of the $ref keyword
  };

  Status Resolve(const std::string& ref, const std::string& path, int* target) {
    auto tokens = RefTokens(ref);
    if (!tokens) {
      return InvalidArgument(
          "only local references (\"#/...\") are supported, got \"" + ref.substr(0, 200) + "\"",
          path);
    }
    std::string pointer = PointerOf(*tokens);
    if (auto it = by_path_.find(pointer); it != by_path_.end()) {
      *target = it->second;
      return Status::Ok();
    }
    const Json* at = &out_->source;
    for (const auto& t : *tokens) {
      if (at->is_object()) {
        auto it = at->find(t);
        at = it == at->end() ? nullptr : &*it;
      } else if (at->is_array() && !t.empty() && t.size() < 10 &&
                 t.find_first_not_of("0123456789") == std::string::npos &&
                 std::stoul(t) < at->size()) {
        at = &(*at)[std::stoul(t)];
      } else {
        at = nullptr;
      }
      if (!at) return InvalidArgument("\"" + ref.substr(0, 200) + "\" points at nothing", path);
    }
    return Compile(*at, pointer, 0, target);
  }

  Status Compile(const Json& s, const std::string& path, int depth, int* index) {
    if (depth > kMaxJsonDepth) return InvalidArgument("the schema nests too deeply", path);
    if (auto it = by_path_.find(path); it != by_path_.end()) {
      *index = it->second;
      return Status::Ok();
    }
    if (!s.is_object() && !s.is_boolean()) {
      return InvalidArgument(std::string("a schema must be an object or a boolean, got ") +
                                 JsonTypeName(s),
                             path);
    }
    *index = static_cast<int>(out_->nodes.size());
    out_->nodes.emplace_back();
    by_path_[path] = *index;
    Node node;
    if (s.is_boolean()) {
      node.constant = s.get<bool>();
    } else {
      SCAFFOLD_RETURN_IF_ERROR(Keywords(s, path, depth, *index, &node));
    }
    out_->nodes[*index] = std::move(node);
    return Status::Ok();
  }

  Status Sub(const Json& s, const std::string& path, const char* key, int depth, int* index) {
    return Compile(s, AppendPointer(path, key), depth + 1, index);
  }

  static Status Count(const Json& s, const std::string& path, const char* key,
                      std::optional<uint64_t>* out) {
    auto it = s.find(key);
    if (it == s.end()) return Status::Ok();
    double d = it->is_number() ? it->get<double>() : -1;
    if (!it->is_number() || d < 0 || std::floor(d) != d)
      return InvalidArgument("must be a non-negative integer", AppendPointer(path, key));
    // A count beyond any value's size is no limit at all (and past 2^64 would not convert).
    *out = d >= 1.8e19 ? UINT64_MAX : static_cast<uint64_t>(d);
    return Status::Ok();
  }

  static Status Bound(const Json& s, const std::string& path, const char* key,
                      std::optional<double>* out) {
    auto it = s.find(key);
    if (it == s.end()) return Status::Ok();
    if (!it->is_number()) return InvalidArgument("must be a number", AppendPointer(path, key));
    *out = it->get<double>();
    return Status::Ok();
  }

  static Status StringList(const Json& v, const std::string& path,
                           std::vector<std::string>* out) {
    if (!v.is_array()) return InvalidArgument("must be an array of strings", path);
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string())
        return InvalidArgument("must be a string", AppendPointer(path, i));
      out->push_back(v[i].get<std::string>());
    }
    return Status::Ok();
  }

  Status SchemaList(const Json& s, const std::string& path, const char* key, int depth,
                    std::vector<int>* out) {
    auto it = s.find(key);
    if (it == s.end()) return Status::Ok();
    std::string at = AppendPointer(path, key);
    if (!it->is_array() || it->empty())
      return InvalidArgument("must be a non-empty array of schemas", at);
    for (size_t i = 0; i < it->size(); ++i) {
      int index = 0;
      SCAFFOLD_RETURN_IF_ERROR(Compile((*it)[i], AppendPointer(at, i), depth + 2, &index));
      out->push_back(index);
    }
    return Status::Ok();
  }

  Status SchemaMap(const Json& s, const std::string& path, const char* key, int depth,
                   std::vector<std::pair<std::string, int>>* out) {
    auto it = s.find(key);
    if (it == s.end()) return Status::Ok();
    std::string at = AppendPointer(path, key);
    if (!it->is_object()) return InvalidArgument("must be an object of schemas", at);
    for (const auto& [name, sub] : it->items()) {
      int index = 0;
      SCAFFOLD_RETURN_IF_ERROR(Compile(sub, AppendPointer(at, name), depth + 2, &index));
      if (out) out->push_back({name, index});
    }
    return Status::Ok();
  }

  Status Single(const Json& s, const std::string& path, const char* key, int depth, int* out) {
    auto it = s.find(key);
    if (it == s.end()) return Status::Ok();
    return Sub(*it, path, key, depth, out);
  }

  Status Keywords(const Json& s, const std::string& path, int depth, int self, Node* n) {
    if (auto it = s.find("$ref"); it != s.end()) {
      if (!it->is_string())
        return InvalidArgument("must be a string", AppendPointer(path, "$ref"));
      // Checked now, resolved once every walked subschema has its node.
      if (!RefTokens(it->get<std::string>())) {
        return InvalidArgument("only local references (\"#/...\") are supported, got \"" +
                                   it->get<std::string>().substr(0, 200) + "\"",
                               AppendPointer(path, "$ref"));
      }
      pending_.push_back({self, it->get<std::string>(), AppendPointer(path, "$ref")});
    }
    // Walked whether or not a sibling $ref makes this schema only a reference: they may be
    // the targets of other references.
    SCAFFOLD_RETURN_IF_ERROR(SchemaMap(s, path, "definitions", depth, nullptr));
    SCAFFOLD_RETURN_IF_ERROR(SchemaMap(s, path, "$defs", depth, nullptr));

    if (auto it = s.find("type"); it != s.end()) {
      std::string at = AppendPointer(path, "type");
      Json list = it->is_array() ? *it : Json::array({*it});
      if (list.empty()) return InvalidArgument("must name at least one type", at);
      for (const auto& t : list) {
        static const std::pair<const char*, unsigned> kTypes[] = {
            {"null", kNull},     {"boolean", kBoolean}, {"object", kObject}, {"array", kArray},
            {"number", kNumber}, {"string", kString},   {"integer", kInteger}};
        unsigned bit = 0;
        for (const auto& [name, b] : kTypes) {
          if (t.is_string() && t == name) bit = b;
        }
        if (!bit) {
          return InvalidArgument("unknown type " + DumpJson(t).substr(0, 100) +
                                     " (null, boolean, object, array, number, string, integer)",
                                 at);
        }
        n->types |= bit;
      }
    }
    if (auto it = s.find("enum"); it != s.end()) {
      if (!it->is_array()) return InvalidArgument("must be an array", AppendPointer(path, "enum"));
      n->enum_values = &*it;
    }
    if (auto it = s.find("const"); it != s.end()) n->const_value = &*it;

    SCAFFOLD_RETURN_IF_ERROR(Bound(s, path, "minimum", &n->minimum));
    SCAFFOLD_RETURN_IF_ERROR(Bound(s, path, "maximum", &n->maximum));
    SCAFFOLD_RETURN_IF_ERROR(Bound(s, path, "exclusiveMinimum", &n->exclusive_minimum));
    SCAFFOLD_RETURN_IF_ERROR(Bound(s, path, "exclusiveMaximum", &n->exclusive_maximum));
    if (auto it = s.find("multipleOf"); it != s.end()) {
      if (!it->is_number() || it->get<double>() <= 0)
        return InvalidArgument("must be a number above 0", AppendPointer(path, "multipleOf"));
      n->multiple_of = &*it;
    }
    SCAFFOLD_RETURN_IF_ERROR(Count(s, path, "minLength", &n->min_length));
    SCAFFOLD_RETURN_IF_ERROR(Count(s, path, "maxLength", &n->max_length));
    if (auto it = s.find("pattern"); it != s.end()) {
      n->pattern.emplace();
      SCAFFOLD_RETURN_IF_ERROR(CompilePattern(*it, AppendPointer(path, "pattern"), &*n->pattern));
    }
    if (auto it = s.find("format"); it != s.end() && it->is_string()) {
      if (*it == "date") n->format = Format::kDate;
      if (*it == "time") n->format = Format::kTime;
      if (*it == "date-time") n->format = Format::kDateTime;
    }

    SCAFFOLD_RETURN_IF_ERROR(Count(s, path, "minItems", &n->min_items));
    SCAFFOLD_RETURN_IF_ERROR(Count(s, path, "maxItems", &n->max_items));
    if (auto it = s.find("uniqueItems"); it != s.end()) {
      if (!it->is_boolean())
        return InvalidArgument("must be true or false", AppendPointer(path, "uniqueItems"));
      n->unique_items = it->get<bool>();
    }
    if (auto it = s.find("items"); it != s.end()) {
      if (it->is_array()) {
        n->has_item_list = true;
        std::string at = AppendPointer(path, "items");
        for (size_t i = 0; i < it->size(); ++i) {
          int index = 0;
          SCAFFOLD_RETURN_IF_ERROR(Compile((*it)[i], AppendPointer(at, i), depth + 2, &index));
          n->item_list.push_back(index);
        }
      } else {
        SCAFFOLD_RETURN_IF_ERROR(Sub(*it, path, "items", depth, &n->items));
      }
    }
    SCAFFOLD_RETURN_IF_ERROR(Single(s, path, "additionalItems", depth, &n->additional_items));
    SCAFFOLD_RETURN_IF_ERROR(Single(s, path, "contains", depth, &n->contains));

    SCAFFOLD_RETURN_IF_ERROR(Count(s, path, "minProperties", &n->min_properties));
    SCAFFOLD_RETURN_IF_ERROR(Count(s, path, "maxProperties", &n->max_properties));
    if (auto it = s.find("required"); it != s.end())
      SCAFFOLD_RETURN_IF_ERROR(StringList(*it, AppendPointer(path, "required"), &n->required));
    SCAFFOLD_RETURN_IF_ERROR(SchemaMap(s, path, "properties", depth, &n->properties));
    if (auto it = s.find("patternProperties"); it != s.end()) {
      std::string at = AppendPointer(path, "patternProperties");
      if (!it->is_object()) return InvalidArgument("must be an object of schemas", at);
      for (const auto& [source, sub] : it->items()) {
        std::string sub_path = AppendPointer(at, source);
        Pattern p;
        SCAFFOLD_RETURN_IF_ERROR(CompilePattern(Json(source), sub_path, &p));
        int index = 0;
        SCAFFOLD_RETURN_IF_ERROR(Compile(sub, sub_path, depth + 2, &index));
        n->pattern_properties.emplace_back(std::move(p), index);
      }
    }
    SCAFFOLD_RETURN_IF_ERROR(
        Single(s, path, "additionalProperties", depth, &n->additional_properties));
    SCAFFOLD_RETURN_IF_ERROR(Single(s, path, "propertyNames", depth, &n->property_names));
    if (auto it = s.find("dependencies"); it != s.end()) {
      std::string at = AppendPointer(path, "dependencies");
      if (!it->is_object()) return InvalidArgument("must be an object", at);
      for (const auto& [name, dep] : it->items()) {
        std::string dep_path = AppendPointer(at, name);
        if (dep.is_array()) {
          std::vector<std::string> names;
          SCAFFOLD_RETURN_IF_ERROR(StringList(dep, dep_path, &names));
          n->dependent_required.emplace_back(name, std::move(names));
        } else {
          int index = 0;
          SCAFFOLD_RETURN_IF_ERROR(Compile(dep, dep_path, depth + 2, &index));
          n->dependent_schemas.emplace_back(name, index);
        }
      }
    }

    SCAFFOLD_RETURN_IF_ERROR(SchemaList(s, path, "allOf", depth, &n->all_of));
    SCAFFOLD_RETURN_IF_ERROR(SchemaList(s, path, "anyOf", depth, &n->any_of));
    SCAFFOLD_RETURN_IF_ERROR(SchemaList(s, path, "oneOf", depth, &n->one_of));
    SCAFFOLD_RETURN_IF_ERROR(Single(s, path, "not", depth, &n->not_));
    SCAFFOLD_RETURN_IF_ERROR(Single(s, path, "if", depth, &n->if_));
    SCAFFOLD_RETURN_IF_ERROR(Single(s, path, "then", depth, &n->then_));
    SCAFFOLD_RETURN_IF_ERROR(Single(s, path, "else", depth, &n->else_));
    return Status::Ok();
  }

  // Subschemas applied to the same value as their parent: following only these edges, a
  // validation never moves into the value, so a cycle among them would recurse forever.
  std::vector<int> SameValueEdges(const Node& n) const {
    std::vector<int> out;
    if (n.ref != kNone) return {n.ref};  // draft-07: siblings of $ref are ignored
    out.insert(out.end(), n.all_of.begin(), n.all_of.end());
    out.insert(out.end(), n.any_of.begin(), n.any_of.end());
    out.insert(out.end(), n.one_of.begin(), n.one_of.end());
    for (int e : {n.not_, n.if_, n.then_, n.else_}) {
      if (e != kNone) out.push_back(e);
    }
    for (const auto& [name, e] : n.dependent_schemas) out.push_back(e);
    return out;
  }

  Status CheckCycles() {
    const auto& nodes = out_->nodes;
    std::vector<std::string> where(nodes.size());
    for (const auto& [path, index] : by_path_) where[index] = path;
    enum Color { kWhite, kGrey, kBlack };
    std::vector<Color> color(nodes.size(), kWhite);
    // Iterative depth-first search; the grey path is the stack.
    for (size_t start = 0; start < nodes.size(); ++start) {
      if (color[start] != kWhite) continue;
      std::vector<std::pair<int, size_t>> stack = {{static_cast<int>(start), 0}};
      color[start] = kGrey;
      while (!stack.empty()) {
        auto& [node, next] = stack.back();
        auto edges = SameValueEdges(nodes[node]);
        if (next >= edges.size()) {
          color[node] = kBlack;
          stack.pop_back();
          continue;
        }
        int to = edges[next++];
        if (color[to] == kGrey) {
          std::string cycle;
          bool in = false;
          for (const auto& [n, unused] : stack) {
            in |= n == to;
            if (in) cycle += "#" + where[n] + " -> ";
          }
          cycle += "#" + where[to];
          return InvalidArgument(
              "$ref cycle that never reaches into the value (" + cycle +
                  "): validating would recurse forever",
              where[stack.back().first] + (nodes[stack.back().first].ref != kNone ? "/$ref" : ""));
        }
        if (color[to] == kWhite) {
          color[to] = kGrey;
          stack.push_back({to, 0});
        }
      }
    }
    return Status::Ok();
  }

  Compiled* out_;
  std::map<std::string, int> by_path_;
  std::vector<PendingRef> pending_;
};

}  // namespace

Status CompileInto(const Json& schema, Compiled* out) {
  out->source = schema;
  out->nodes.clear();
  return Compiler(out).Run();
}

}  // namespace scaffold::engine::schema
