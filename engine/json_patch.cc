#include "engine/json_patch.h"

#include <algorithm>
#include <map>

namespace scaffold::engine {
namespace {

// Splits "/a/b~1c" into the parent pointer "/a" and the unescaped last token "b/c".
bool SplitLast(const std::string& pointer, std::string* parent, std::string* token) {
  size_t slash = pointer.rfind('/');
  if (slash == std::string::npos) return false;
  *parent = pointer.substr(0, slash);
  std::string raw = pointer.substr(slash + 1);
  token->clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
      *token += raw[++i] == '0' ? '~' : '/';
    } else if (raw[i] == '~') {
      return false;
    } else {
      *token += raw[i];
    }
  }
  return true;
}

Json Op(const char* op, const std::string& path, const Json* value) {
  Json o = Json::object();
  o["op"] = op;
  o["path"] = path;
  if (value) o["value"] = *value;
  return o;
}

// True when `after` is `before` with elements added at its end.
bool Extends(const Json& before, const Json& after) {
  if (!before.is_array() || !after.is_array() || after.size() <= before.size()) return false;
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i] != after[i]) return false;
  }
  return true;
}

// Replaces `*target` (at `path`) with `value`, recording what changed: an array that only grew
// is recorded as its new elements ("add" at each new index), anything else as a "replace".
void Replace(Json* target, const std::string& path, const Json& value, StatePatch* out,
             std::vector<Json>* undo) {
  if (Extends(*target, value)) {
    for (size_t i = target->size(); i < value.size(); ++i) {
      std::string at = path + "/" + std::to_string(i);
      out->patches.push_back(Op("add", at, &value[i]));
      undo->push_back(Op("remove", at, nullptr));
      target->push_back(value[i]);
    }
    return;
  }
  out->patches.push_back(Op("replace", path, &value));
  undo->push_back(Op("replace", path, target));
  *target = value;
}

}  // namespace

Result<StatePatch> ApplyAssignments(Json* state, const std::vector<Assignment>& assignments) {
  StatePatch out;
  std::vector<Json> undo;  // inverse ops, applied in reverse on failure
  auto fail = [&](const std::string& pointer, const std::string& message) -> Result<StatePatch> {
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) state->patch_inplace(Json::array({*it}));
    return InvalidArgument(message, pointer);
  };
  for (const auto& a : assignments) {
    std::string parent_pointer, token;
    if (!SplitLast(a.pointer, &parent_pointer, &token)) {
      return fail(a.pointer, "invalid JSON pointer \"" + a.pointer + "\"");
    }
    Json* parent = nullptr;
    try {
      parent = &state->at(Json::json_pointer(parent_pointer));
    } catch (const std::exception&) {
      return fail(a.pointer, "cannot set \"" + a.pointer + "\": \"" + parent_pointer +
                                 "\" does not exist in the state");
    }
    if (parent->is_object()) {
      auto it = parent->find(token);
      if (it != parent->end()) {
        Replace(&*it, a.pointer, a.value, &out, &undo);
      } else {
        out.patches.push_back(Op("add", a.pointer, &a.value));
        undo.push_back(Op("remove", a.pointer, nullptr));
        (*parent)[token] = a.value;
      }
    } else if (parent->is_array()) {
      size_t index;
      if (token == "-") {
        index = parent->size();
      } else if (!token.empty() && token.find_first_not_of("0123456789") == std::string::npos &&
                 token.size() < 18) {
        index = std::stoull(token);
      } else {
        return fail(a.pointer,
                    "cannot set \"" + a.pointer + "\": \"" + token + "\" is not an array index");
      }
      std::string path = parent_pointer + "/" + std::to_string(index);
      if (index < parent->size()) {
        Replace(&(*parent)[index], path, a.value, &out, &undo);
      } else if (index == parent->size()) {
        out.patches.push_back(Op("add", path, &a.value));
        undo.push_back(Op("remove", path, nullptr));
        parent->push_back(a.value);
      } else {
        return fail(a.pointer, "cannot set \"" + a.pointer + "\": index " + token +
                                   " is past the end of an array of " +
                                   std::to_string(parent->size()));
      }
    } else {
      return fail(a.pointer, "cannot set \"" + a.pointer + "\": \"" + parent_pointer + "\" is a " +
                                 JsonTypeName(*parent) + ", not an object or array");
    }
  }
  for (auto it = undo.rbegin(); it != undo.rend(); ++it) out.inverse.push_back(std::move(*it));
  return out;
}

void CompactRecordedIntent(Json* patches, Json* inverse) {
  if (!patches->is_array() || !inverse->is_array()) return;
  // Recordings come from outside: one pass over each list, whatever their sizes.
  auto replace_path = [](const Json& op) -> const std::string* {
    if (!op.is_object() || op.value("op", "") != "replace" || !op.contains("value")) return nullptr;
    auto path = op.find("path");
    return path != op.end() && path->is_string() ? &path->get_ref<const std::string&>() : nullptr;
  };
  std::map<std::string, std::pair<size_t, int>> undo_at;  // path -> (index, how many)
  for (size_t i = 0; i < inverse->size(); ++i) {
    if (const std::string* path = replace_path((*inverse)[i])) {
      auto& entry = undo_at[*path];
      entry.first = i;
      ++entry.second;
    }
  }
  Json new_patches = Json::array();
  std::map<size_t, Json> removes_for;  // inverse index -> the removes that stand for it
  for (const auto& op : *patches) {
    const std::string* path = replace_path(op);
    auto undo = path ? undo_at.find(*path) : undo_at.end();
    if (undo == undo_at.end() || undo->second.second != 1 || removes_for.count(undo->second.first) ||
        !Extends((*inverse)[undo->second.first]["value"], op["value"])) {
      new_patches.push_back(op);
      continue;
    }
    const Json& before = (*inverse)[undo->second.first]["value"];
    const Json& after = op["value"];
    Json removes = Json::array();
    for (size_t i = before.size(); i < after.size(); ++i) {
      std::string at = *path + "/" + std::to_string(i);
      new_patches.push_back(Op("add", at, &after[i]));
      removes.push_back(Op("remove", at, nullptr));
    }
    std::reverse(removes.begin(), removes.end());
    removes_for[undo->second.first] = std::move(removes);
  }
  if (removes_for.empty()) return;
  Json new_inverse = Json::array();
  for (size_t i = 0; i < inverse->size(); ++i) {
    auto removes = removes_for.find(i);
    if (removes == removes_for.end()) {
      new_inverse.push_back(std::move((*inverse)[i]));
    } else {
      for (auto& r : removes->second) new_inverse.push_back(std::move(r));
    }
  }
  *patches = std::move(new_patches);
  *inverse = std::move(new_inverse);
}

Status ApplyPatch(Json* state, const Json& patch) {
  try {
    state->patch_inplace(patch);
  } catch (const std::exception& e) {
    return Status(ErrorCode::kDataLoss,
                  std::string("cannot apply a recorded state patch: ") + e.what());
  }
  return Status::Ok();
}

}  // namespace scaffold::engine
