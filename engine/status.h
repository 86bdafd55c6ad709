// Status and Result<T>: the value every fallible call in scaffold returns.
//
// Expected failures (a bad workflow, a provider 429, a missing recording, a bad request) are
// values, not exceptions. A Status carries a code the CLI maps to an exit code and the server to
// an HTTP status, a message a user can act on, and, where it applies, the JSON path of the
// offending value.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace scaffold {

enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,     // bad input: workflow, flag, request body (exit 2 / HTTP 400)
  kNotFound,            // unknown session, phase, tool (HTTP 404)
  kAlreadyExists,       // duplicate id (HTTP 409)
  kFailedPrecondition,  // wrong state: session finished, nothing pending (HTTP 409)
  kResourceExhausted,   // a size or count limit was hit (HTTP 413/429)
  kUnavailable,         // a dependency is down or busy; retrying may help (HTTP 503)
  kStorageFull,         // the disk holding the database is full (HTTP 503 storage_full)
  kDeadlineExceeded,    // a timeout elapsed
  kCancelled,           // the operation was cancelled (Ctrl-C, DELETE)
  kAborted,             // the operation ran and failed (a workflow that failed)
  kDataLoss,            // stored data is corrupt or foreign
  kInternal,            // a bug
};

// Stable lower-case name of a code, used in `workflow:error` events and HTTP error bodies.
const char* ErrorCodeName(ErrorCode code);

class Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message, std::string path = {})
      : code_(code), message_(std::move(message)), path_(std::move(path)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // JSON path (RFC 6901 pointer) of the value the error is about; empty when none applies.
  const std::string& path() const { return path_; }

  // "path: message", or just the message when there is no path.
  std::string ToString() const;

  // Returns a copy with `context` prepended to the message ("context: message").
  Status WithContext(const std::string& context) const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::string path_;
};

inline Status InvalidArgument(std::string message, std::string path = {}) {
  return Status(ErrorCode::kInvalidArgument, std::move(message), std::move(path));
}
inline Status NotFound(std::string message) {
  return Status(ErrorCode::kNotFound, std::move(message));
}
inline Status FailedPrecondition(std::string message) {
  return Status(ErrorCode::kFailedPrecondition, std::move(message));
}
inline Status Internal(std::string message) {
  return Status(ErrorCode::kInternal, std::move(message));
}

// Either a value or a non-ok Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Status status) : v_(std::move(status)) { assert(!std::get<Status>(v_).ok()); }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }

  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace scaffold

// Returns early from the enclosing function when `expr` (a Status) is not ok.
#define SCAFFOLD_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::scaffold::Status scaffold_status_ = (expr);        \
    if (!scaffold_status_.ok()) return scaffold_status_; \
  } while (0)
