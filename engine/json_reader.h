// JsonReader: typed access to JSON that came from outside the process (request bodies,
// WebSocket messages, provider stream frames, tool answers, recording lines, tokens).
//
// Every getter checks presence and type instead of throwing. The first problem is kept, with
// the JSON path of the offending value ("/answers/0/id: expected a string, got null"), and every
// later getter returns an empty value, so a caller reads all the fields it needs and checks
// ok() once:
//
//   JsonReader in(body);
//   std::optional<std::string> id = in.OptString("id");
//   const Json& value = in.Value("value");
//   std::optional<bool> approved = in.OptBool("approved");
//   if (!in.ok()) return in.status();   // kInvalidArgument, path() set
//
// A reader borrows the value it reads; the value must outlive it. Readers made by Child() and
// Item() report into their parent's status: the parent must outlive them.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "engine/json.h"
#include "engine/status.h"

namespace scaffold {

class JsonReader {
 public:
  // Reads `value`, found at `path` (a JSON pointer; "" for the document's root). Reading a
  // field of a value that is not an object is itself an error ("expected an object").
  explicit JsonReader(const Json& value, std::string path = "");
  // A reader borrows its value: reading a temporary would read freed memory.
  explicit JsonReader(Json&& value, std::string path = "") = delete;
  JsonReader(const JsonReader&) = delete;
  JsonReader& operator=(const JsonReader&) = delete;

  bool ok() const { return status_->ok(); }
  // The first problem (kInvalidArgument with the JSON path), or Ok.
  const Status& status() const { return *status_; }

  const Json& json() const { return value_; }
  const std::string& path() const { return path_; }
  // The path of field `key` / element `index` of this value.
  std::string PathOf(std::string_view key) const;
  std::string PathOf(size_t index) const;

  // True when the field is present and not null. Never an error.
  bool Has(std::string_view key) const;

  // Required fields: a missing field or a wrong type is an error. Strings must be non-empty
  // unless `allow_empty`.
  std::string String(std::string_view key, bool allow_empty = false);
  bool Bool(std::string_view key);
  int64_t Int(std::string_view key, int64_t min = std::numeric_limits<int64_t>::min(),
              int64_t max = std::numeric_limits<int64_t>::max());
  double Number(std::string_view key);

  // Optional fields: absent or null is nullopt; present with a wrong type is an error.
  std::optional<std::string> OptString(std::string_view key);
  std::optional<bool> OptBool(std::string_view key);
  std::optional<int64_t> OptInt(std::string_view key,
                                int64_t min = std::numeric_limits<int64_t>::min(),
                                int64_t max = std::numeric_limits<int64_t>::max());
  std::optional<double> OptNumber(std::string_view key);

  // Any value; null when absent. Never an error.
  const Json& Value(std::string_view key) const;

  // An object or array field: nullptr when absent or null, and an error when `required`.
  // Present with another type is an error (and nullptr).
  const Json* OptObject(std::string_view key, bool required = false);
  const Json* OptArray(std::string_view key, bool required = false);

  // A reader over field `key` (which must be an object unless absent and not `required`) or
  // element `index` of this array. Their problems are this reader's problems.
  JsonReader Child(std::string_view key, bool required = false);
  // A reader over field `key`, an array (empty when absent and not `required`); read its
  // elements with Item() and its length with json().size().
  JsonReader List(std::string_view key, bool required = false);
  JsonReader Item(size_t index);

  // Records a problem with field `key` (or with this value when `key` is empty) unless one is
  // recorded already.
  void Fail(std::string_view key, std::string message);
  void FailAt(std::string path, std::string message);

  // "expected a string, got null".
  static std::string Expected(const char* what, const Json& got);

 private:
  JsonReader(const Json& value, std::string path, Status* status);
  // The field, or nullptr when this is not an object (an error) or lacks it.
  const Json* Field(std::string_view key);

  const Json& value_;
  std::string path_;
  Status own_;
  Status* status_;
};

}  // namespace scaffold
