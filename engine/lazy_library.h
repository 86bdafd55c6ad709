// A shared library opened on its first use rather than at start-up. libcurl and libpq, with
// what they bring (GnuTLS, Kerberos, LDAP, SASL, ...: thirty libraries), cost a process about
// 5 ms to load and initialise before main; most commands never make an HTTP request or open
// PostgreSQL. The shims in net/curl_shim.cc and recordings/postgres/pq_shim.cc define the C
// functions scaffold calls and forward them to the library opened here.
//
// Thread-safe. When the library cannot be opened, Symbol() returns null and error() says why;
// the shims then fail the call the way the library reports failures.
#pragma once

#include <dlfcn.h>

#include <initializer_list>
#include <mutex>
#include <string>
#include <vector>

namespace scaffold::engine {

class LazyLibrary {
 public:
  // `sonames`: the names to try, in order ("libcurl.so.4").
  explicit LazyLibrary(std::initializer_list<const char*> sonames) : sonames_(sonames) {}

  // The address of `symbol`, or null.
  void* Symbol(const char* symbol) {
    std::call_once(opened_, [this] {
      for (const char* name : sonames_) {
        handle_ = dlopen(name, RTLD_NOW | RTLD_LOCAL);
        if (handle_) return;
        const char* why = dlerror();
        error_ += std::string(error_.empty() ? "" : "; ") + (why ? why : name);
      }
    });
    return handle_ ? dlsym(handle_, symbol) : nullptr;
  }

  // `symbol` as a pointer to a function of type F (`decltype(&::name)`), or null.
  template <typename F>
  F Function(const char* symbol) {
    return reinterpret_cast<F>(Symbol(symbol));
  }

  // Why the library could not be opened ("" when it was).
  const std::string& error() const { return error_; }

 private:
  std::vector<const char*> sonames_;
  std::once_flag opened_;
  void* handle_ = nullptr;
  std::string error_;
};

}  // namespace scaffold::engine
