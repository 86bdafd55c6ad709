#include "engine/workflow_json.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace scaffold::engine {
namespace {

using J = OrderedJson;

// Builds the tree from nlohmann's SAX events, tracking the JSON pointer of the parser's position
// to report duplicate keys (which nlohmann would resolve silently in favour of the last one) and
// nesting past kMaxJsonDepth (told once; what is inside is skipped, and the rest of the file is
// still read for duplicate keys and syntax). An open object of many members keeps its keys in a
// sorted map, so a member is appended without ordered_map's scan for an equal key (and a file of
// keys made to collide in a hash cannot make it slow); a small one, as most of a workflow's are,
// is scanned (at most kIndexFrom keys compared, with no allocation).
//
// Pointers to open containers stay valid: a container only grows while it is the innermost open
// one, and the open containers around it are its ancestors, not its elements.
class TreeBuilder {
 public:
  explicit TreeBuilder(std::vector<Diagnostic>* diags) : diags_(diags) {}

  J& root() { return root_; }
  bool too_deep() const { return too_deep_; }
  size_t deep_at() const { return deep_at_; }
  const std::string& syntax_error() const { return syntax_error_; }

  bool null() { return skipping_ || Add(J()); }
  bool boolean(bool v) { return skipping_ || Add(J(v)); }
  bool number_integer(J::number_integer_t v) { return skipping_ || Add(J(v)); }
  bool number_unsigned(J::number_unsigned_t v) { return skipping_ || Add(J(v)); }
  bool number_float(J::number_float_t v, const J::string_t&) { return skipping_ || Add(J(v)); }
  bool string(J::string_t& v) { return skipping_ || Add(J(std::move(v))); }
  bool binary(J::binary_t& v) { return skipping_ || Add(J::binary(std::move(v))); }

  bool start_object(std::size_t) { return Open(J::object(), false); }
  bool start_array(std::size_t) { return Open(J::array(), true); }
  bool end_object() { return Close(); }
  bool end_array() { return Close(); }

  bool key(J::string_t& k) {
    if (skipping_) return true;
    Frame& f = frames_.back();
    auto& members = f.value->get_ref<J::object_t&>();
    std::optional<size_t> seen = Find(f, members, k);
    if (seen) {
      f.index = *seen;
      diags_->push_back(
          {Pointer(), "duplicate key \"" + k + "\": only one may appear in an object"});
    } else {
      f.index = members.size();
      if (f.keys) f.keys->emplace(k, f.index);
      if (members.size() == members.capacity()) Grow(members);
      members.emplace_back(std::move(k), nullptr);
      if (!f.keys && members.size() == kIndexFrom) {
        f.keys = std::make_unique<std::map<std::string, size_t, std::less<>>>();
        for (size_t i = 0; i < members.size(); ++i) f.keys->emplace(Member(members, i).first, i);
      }
    }
    // The last value of a key wins, at the place of the first.
    slot_ = &Member(members, f.index).second;
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) {
    syntax_error_ = e.what();
    return false;
  }

 private:
  // An object's keys are looked up by a scan while it has fewer than kIndexFrom members (the
  // objects of a workflow file are small), then in a sorted map built once it reaches that.
  static constexpr size_t kIndexFrom = 16;

  struct Frame {
    J* value;
    bool array;
    size_t index = 0;  // arrays: the next element's; objects: the member being read
    std::unique_ptr<std::map<std::string, size_t, std::less<>>> keys;  // objects, once large
  };

  // Doubles an object's room, moving its values. ordered_map is a vector of pairs whose key is
  // const, so the pairs cannot be moved, and the vector's own growth copied every value: every
  // phase of a workflow, deeply, at each doubling of "phases". Here only the keys are copied.
  // No pointer into the members is held while the object takes a key: it is the innermost open
  // container, so none of its values is open.
  static void Grow(J::object_t& members) {
    J::object_t grown;
    grown.reserve(std::max<size_t>(1, 2 * members.size()));
    for (auto& [key, value] : members) grown.emplace_back(key, std::move(value));
    members.swap(grown);
  }

  static J::object_t::value_type& Member(J::object_t& members, size_t i) {
    return *(members.begin() + static_cast<std::ptrdiff_t>(i));
  }

  static std::optional<size_t> Find(const Frame& f, J::object_t& members, const std::string& k) {
    if (f.keys) {
      auto at = f.keys->find(k);
      return at == f.keys->end() ? std::nullopt : std::optional<size_t>(at->second);
    }
    for (size_t i = 0; i < members.size(); ++i) {
      if (Member(members, i).first == k) return i;
    }
    return std::nullopt;
  }

  // Puts a value where the parser is: the root, the next element of the innermost array, or the
  // member the last key named.
  J* Place(J&& value) {
    if (frames_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Frame& f = frames_.back();
    if (f.array) {
      auto& items = f.value->get_ref<J::array_t&>();
      items.push_back(std::move(value));
      return &items.back();
    }
    *slot_ = std::move(value);
    return slot_;
  }

  bool Add(J&& value) {
    Place(std::move(value));
    ElementDone();
    return true;
  }

  bool Open(J&& empty, bool array) {
    if (skipping_ || frames_.size() >= static_cast<size_t>(kMaxJsonDepth)) {
      if (!too_deep_) {
        too_deep_ = true;
        deep_at_ = diags_->size();
        diags_->push_back({Pointer(), "nested deeper than " + std::to_string(kMaxJsonDepth) +
                                          " levels: workflow files may not nest deeper"});
      }
      ++skipping_;  // the member a key made stays null: the tree is not used past this
      return true;
    }
    J* value = Place(std::move(empty));
    frames_.push_back({value, array, 0, nullptr});
    return true;
  }

  bool Close() {
    if (skipping_ > 0) {
      if (--skipping_ > 0) return true;  // still inside the container skipped
    } else {
      frames_.pop_back();
    }
    ElementDone();
    return true;
  }

  void ElementDone() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }

  // At most kMaxJsonDepth frames: cheap.
  std::string Pointer() const {
    std::string p;
    for (const auto& f : frames_) {
      p = f.array ? AppendPointer(p, f.index)
                  : AppendPointer(p, Member(f.value->get_ref<J::object_t&>(), f.index).first);
    }
    return p;
  }

  std::vector<Diagnostic>* diags_;
  J root_;
  std::vector<Frame> frames_;
  J* slot_ = nullptr;
  bool too_deep_ = false;
  size_t deep_at_ = 0;   // the index in *diags_ of the diagnostic that says so
  size_t skipping_ = 0;  // containers open inside the one too deep
  std::string syntax_error_;
};

// "[json.exception.parse_error.101] parse error at line 3, column 5: msg" -> line, column, msg.
Diagnostic SyntaxDiagnostic(const std::string& what) {
  Diagnostic d;
  std::string text = what;
  if (auto close = text.find("] "); close != std::string::npos && text[0] == '[')
    text = text.substr(close + 2);
  if (sscanf(text.c_str(), "parse error at line %d, column %d", &d.line, &d.column) == 2) {
    if (auto colon = text.find(": "); colon != std::string::npos) text = text.substr(colon + 2);
  }
  d.message = "invalid JSON: " + text;
  return d;
}

}  // namespace

std::optional<OrderedJson> ParseWorkflowJson(std::string_view text,
                                             std::vector<Diagnostic>* diags) {
  TreeBuilder builder(diags);
  bool ok = false;
  try {
    ok = J::sax_parse(text.begin(), text.end(), &builder);
  } catch (const std::exception& e) {  // allocation failure; nlohmann reports the rest as errors
    diags->clear();
    diags->push_back({"", std::string("the file could not be read: ") + e.what()});
    return std::nullopt;
  }
  if (!ok) {  // only a syntax error (or 1e999) stops the parse
    // It is the one thing told, unless nesting past the limit came before it in the text.
    Diagnostic told = builder.too_deep() ? std::move((*diags)[builder.deep_at()])
                                         : SyntaxDiagnostic(builder.syntax_error());
    *diags = {std::move(told)};
    return std::nullopt;
  }
  if (builder.too_deep()) return std::nullopt;  // parts are gone: the rest would mislead
  return std::move(builder.root());
}

}  // namespace scaffold::engine
