#include "engine/workflow_reader.h"

#include <algorithm>
#include <cmath>

#include "engine/suggest.h"
#include "engine/template.h"

namespace scaffold::engine {

using J = OrderedJson;

void WorkflowReader::Error(const std::string& path, std::string message) {
  diags_->push_back({path, std::move(message)});
}

void WorkflowReader::TypeError(const std::string& path, const char* expected, const J& got) {
  Error(path, std::string("expected ") + expected + ", got " + JsonTypeName(got));
}

void WorkflowReader::CheckKeys(const J& obj, const std::string& path, const std::vector<std::string>& allowed) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    Error(AppendPointer(path, key), "unknown key \"" + key + "\"" + DidYouMean(key, allowed));
  }
}

bool WorkflowReader::IsObject(const J& v, const std::string& path) {
  if (v.is_object()) return true;
  TypeError(path, "an object", v);
  return false;
}

std::optional<std::string> WorkflowReader::String(const J& obj, const std::string& key, const std::string& path,
                                  bool required) {
  auto it = obj.find(key);
  std::string p = AppendPointer(path, key);
  if (it == obj.end()) {
    if (required) Error(p, "required");
    return std::nullopt;
  }
  if (!it->is_string()) {
    TypeError(p, "a string", *it);
    return std::nullopt;
  }
  return it->get<std::string>();
}

std::optional<int64_t> WorkflowReader::Integer(const J& obj, const std::string& key, const std::string& path,
                               int64_t min, int64_t max) {
  auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  std::string p = AppendPointer(path, key);
  if (!it->is_number()) {
    TypeError(p, "an integer", *it);
    return std::nullopt;
  }
  double d = it->get<double>();
  if (std::floor(d) != d) {
    Error(p, "expected an integer, got " + it->dump());
    return std::nullopt;
  }
  if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
    Error(p, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                 it->dump());
    return std::nullopt;
  }
  return static_cast<int64_t>(d);
}

std::optional<JsonSchema> WorkflowReader::Schema(const J& value, const std::string& path) {
  auto compiled = JsonSchema::Compile(ToJson(value));
  if (!compiled.ok()) {
    Error(path + compiled.status().path(), "invalid schema: " + compiled.status().message());
    return std::nullopt;
  }
  return std::move(compiled).value();
}

std::vector<Update> WorkflowReader::Updates(const J& value, const std::string& path) {
  std::vector<Update> out;
  if (!IsObject(value, path)) return out;
  for (const auto& [pointer, expr] : value.items()) {
    std::string p = AppendPointer(path, pointer);
    if (pointer.empty() || pointer[0] != '/') {
      Error(p, "update keys are JSON pointers into the state and start with \"/\", got \"" +
                   pointer + "\" (did you mean \"/" + pointer + "\"?)");
      continue;
    }
    out.push_back({pointer, ToJson(expr)});
  }
  return out;
}

std::vector<std::string> WorkflowReader::Names(const J& value, const std::string& path, const char* what) {
  std::vector<std::string> out;
  if (!value.is_array()) {
    TypeError(path, (std::string("an array of ") + what + " names").c_str(), value);
    return out;
  }
  for (size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_string()) {
      TypeError(AppendPointer(path, i), "a name", value[i]);
      continue;
    }
    out.push_back(value[i].get<std::string>());
  }
  return out;
}

void WorkflowReader::CheckName(const std::string& name, const std::string& path, const char* what) {
  if (name.empty()) {
    Error(path, std::string(what) + " names cannot be empty");
    return;
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == ' ' || c == '#' || c == '=' || c == 0x7f) {
      Error(path, std::string(what) + " name \"" + name +
                      "\" may not contain spaces, control characters, '#' or '='");
      return;
    }
  }
}

void WorkflowReader::Template(const std::string& text, const std::string& path) {
  auto tags = ScanTemplate(text);
  if (!tags.ok()) Error(path, tags.status().message());
}
}  // namespace scaffold::engine
