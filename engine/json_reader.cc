#include "engine/json_reader.h"

#include <cmath>

namespace scaffold {
namespace {

const Json& NullJson() {
  static const Json kNull;
  return kNull;
}

const Json& EmptyObject() {
  static const Json kEmpty = Json::object();
  return kEmpty;
}

const Json& EmptyArray() {
  static const Json kEmpty = Json::array();
  return kEmpty;
}

}  // namespace

JsonReader::JsonReader(const Json& value, std::string path)
    : value_(value), path_(std::move(path)), status_(&own_) {}

JsonReader::JsonReader(const Json& value, std::string path, Status* status)
    : value_(value), path_(std::move(path)), status_(status) {}

std::string JsonReader::PathOf(std::string_view key) const {
  return AppendPointer(path_, key);
}

std::string JsonReader::PathOf(size_t index) const {
  return AppendPointer(path_, index);
}

std::string JsonReader::Expected(const char* what, const Json& got) {
  std::string out = std::string("expected ") + what + ", got ";
  if (got.is_null()) return out + "null";
  const char* type = JsonTypeName(got);
  return out + (type[0] == 'a' || type[0] == 'o' ? "an " : "a ") + type;
}

void JsonReader::Fail(std::string_view key, std::string message) {
  FailAt(key.empty() ? path_ : PathOf(key), std::move(message));
}

void JsonReader::FailAt(std::string path, std::string message) {
  if (status_->ok()) *status_ = InvalidArgument(std::move(message), std::move(path));
}

bool JsonReader::Has(std::string_view key) const {
  if (!value_.is_object()) return false;
  auto it = value_.find(key);
  return it != value_.end() && !it->is_null();
}

const Json* JsonReader::Field(std::string_view key) {
  if (!value_.is_object()) {
    Fail("", Expected("an object", value_));
    return nullptr;
  }
  auto it = value_.find(key);
  return it == value_.end() ? nullptr : &*it;
}

const Json& JsonReader::Value(std::string_view key) const {
  if (!value_.is_object()) return NullJson();
  auto it = value_.find(key);
  return it == value_.end() ? NullJson() : *it;
}

std::optional<std::string> JsonReader::OptString(std::string_view key) {
  const Json* v = Field(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) {
    Fail(key, Expected("a string", *v));
    return std::nullopt;
  }
  return v->get<std::string>();
}

std::string JsonReader::String(std::string_view key, bool allow_empty) {
  const Json* v = Field(key);
  if (!v || v->is_null()) {
    if (value_.is_object()) Fail(key, "required: a string");
    return {};
  }
  if (!v->is_string()) {
    Fail(key, Expected("a string", *v));
    return {};
  }
  const auto& s = v->get_ref<const std::string&>();
  if (s.empty() && !allow_empty) Fail(key, "must not be empty");
  return s;
}

std::optional<bool> JsonReader::OptBool(std::string_view key) {
  const Json* v = Field(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_boolean()) {
    Fail(key, Expected("true or false", *v));
    return std::nullopt;
  }
  return v->get<bool>();
}

bool JsonReader::Bool(std::string_view key) {
  const Json* v = Field(key);
  if (!v || v->is_null()) {
    if (value_.is_object()) Fail(key, "required: true or false");
    return false;
  }
  return OptBool(key).value_or(false);
}

std::optional<int64_t> JsonReader::OptInt(std::string_view key, int64_t min, int64_t max) {
  const Json* v = Field(key);
  if (!v || v->is_null()) return std::nullopt;
  int64_t n = 0;
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      Fail(key, "must be at most " + std::to_string(max) + ", got " + std::to_string(u));
      return std::nullopt;
    }
    n = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    n = v->get<int64_t>();
  } else if (v->is_number_float()) {
    double d = v->get<double>();
    if (!std::isfinite(d) || std::floor(d) != d || d < -9.2e18 || d > 9.2e18) {
      Fail(key, Expected("an integer", *v) + " (" + DumpJson(*v) + ")");
      return std::nullopt;
    }
    n = static_cast<int64_t>(d);
  } else {
    Fail(key, Expected("an integer", *v));
    return std::nullopt;
  }
  if (n < min) {
    Fail(key, "must be at least " + std::to_string(min) + ", got " + std::to_string(n));
    return std::nullopt;
  }
  if (n > max) {
    Fail(key, "must be at most " + std::to_string(max) + ", got " + std::to_string(n));
    return std::nullopt;
  }
  return n;
}

int64_t JsonReader::Int(std::string_view key, int64_t min, int64_t max) {
  const Json* v = Field(key);
  if (!v || v->is_null()) {
    if (value_.is_object()) Fail(key, "required: an integer");
    return 0;
  }
  return OptInt(key, min, max).value_or(0);
}

std::optional<double> JsonReader::OptNumber(std::string_view key) {
  const Json* v = Field(key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_number()) {
    Fail(key, Expected("a number", *v));
    return std::nullopt;
  }
  return v->get<double>();
}

double JsonReader::Number(std::string_view key) {
  const Json* v = Field(key);
  if (!v || v->is_null()) {
    if (value_.is_object()) Fail(key, "required: a number");
    return 0;
  }
  return OptNumber(key).value_or(0);
}

const Json* JsonReader::OptObject(std::string_view key, bool required) {
  const Json* v = Field(key);
  if (!v || v->is_null()) {
    if (required && value_.is_object()) Fail(key, "required: an object");
    return nullptr;
  }
  if (!v->is_object()) {
    Fail(key, Expected("an object", *v));
    return nullptr;
  }
  return v;
}

const Json* JsonReader::OptArray(std::string_view key, bool required) {
  const Json* v = Field(key);
  if (!v || v->is_null()) {
    if (required && value_.is_object()) Fail(key, "required: an array");
    return nullptr;
  }
  if (!v->is_array()) {
    Fail(key, Expected("an array", *v));
    return nullptr;
  }
  return v;
}

JsonReader JsonReader::Child(std::string_view key, bool required) {
  const Json* v = OptObject(key, required);
  return JsonReader(v ? *v : EmptyObject(), PathOf(key), status_);
}

JsonReader JsonReader::List(std::string_view key, bool required) {
  const Json* v = OptArray(key, required);
  return JsonReader(v ? *v : EmptyArray(), PathOf(key), status_);
}

JsonReader JsonReader::Item(size_t index) {
  if (!value_.is_array()) {
    Fail("", Expected("an array", value_));
    return JsonReader(EmptyArray(), PathOf(index), status_);
  }
  if (index >= value_.size()) {
    FailAt(PathOf(index), "no such element");
    return JsonReader(NullJson(), PathOf(index), status_);
  }
  return JsonReader(value_[index], PathOf(index), status_);
}

}  // namespace scaffold
