// The libcurl functions scaffold calls, forwarded to libcurl opened on first use
// (engine/lazy_library.h): a command that makes no HTTP request never loads it. Without
// libcurl, calls fail as libcurl reports failures (CURLE_FAILED_INIT, null handles).
// curl.h's type-checking macros would rewrite the definitions below.
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include <cstdarg>
#include <string>

#include "engine/lazy_library.h"

namespace {

scaffold::engine::LazyLibrary& Curl() {
  static scaffold::engine::LazyLibrary library({"libcurl.so.4", "libcurl-gnutls.so.4"});
  return library;
}

#define SCAFFOLD_CURL(name) static const auto real = Curl().Function<decltype(&::name)>(#name)

}  // namespace

extern "C" {

CURLcode curl_global_init(long flags) {
  SCAFFOLD_CURL(curl_global_init);
  return real ? real(flags) : CURLE_FAILED_INIT;
}

CURL* curl_easy_init(void) {
  SCAFFOLD_CURL(curl_easy_init);
  return real ? real() : nullptr;
}

void curl_easy_cleanup(CURL* handle) {
  SCAFFOLD_CURL(curl_easy_cleanup);
  if (real) real(handle);
}

// curl.h names an enum as the last parameter before the "...", which clang flags for va_start;
// libcurl's own definitions do the same, and on the ABIs scaffold builds for (SysV x86-64,
// AArch64) va_start does not depend on that parameter's type.
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wvarargs"
#endif

// Variadic: the option's number says the type of its argument (curl.h's CURLOPTTYPE_ ranges).
CURLcode curl_easy_setopt(CURL* handle, CURLoption option, ...) {
  SCAFFOLD_CURL(curl_easy_setopt);
  if (!real) return CURLE_FAILED_INIT;
  va_list args;
  va_start(args, option);
  CURLcode result;
  if (option < CURLOPTTYPE_OBJECTPOINT) {
    result = real(handle, option, va_arg(args, long));
  } else if (option < CURLOPTTYPE_OFF_T) {
    result = real(handle, option, va_arg(args, void*));  // objects and function pointers
  } else if (option < CURLOPTTYPE_BLOB) {
    result = real(handle, option, va_arg(args, curl_off_t));
  } else {
    result = real(handle, option, va_arg(args, void*));
  }
  va_end(args);
  return result;
}

// Variadic: every CURLINFO takes a pointer to where the answer goes.
CURLcode curl_easy_getinfo(CURL* handle, CURLINFO info, ...) {
  SCAFFOLD_CURL(curl_easy_getinfo);
  if (!real) return CURLE_FAILED_INIT;
  va_list args;
  va_start(args, info);
  CURLcode result = real(handle, info, va_arg(args, void*));
  va_end(args);
  return result;
}

#if defined(__clang__)
#pragma clang diagnostic pop
#endif

CURLcode curl_easy_perform(CURL* handle) {
  SCAFFOLD_CURL(curl_easy_perform);
  return real ? real(handle) : CURLE_FAILED_INIT;
}

const char* curl_easy_strerror(CURLcode code) {
  SCAFFOLD_CURL(curl_easy_strerror);
  if (real) return real(code);
  static const std::string message = "libcurl cannot be loaded: " + Curl().error();
  return message.c_str();
}

struct curl_slist* curl_slist_append(struct curl_slist* list, const char* text) {
  SCAFFOLD_CURL(curl_slist_append);
  return real ? real(list, text) : nullptr;
}

void curl_slist_free_all(struct curl_slist* list) {
  SCAFFOLD_CURL(curl_slist_free_all);
  if (real) real(list);
}

void curl_free(void* p) {
  SCAFFOLD_CURL(curl_free);
  if (real) real(p);
}

CURLM* curl_multi_init(void) {
  SCAFFOLD_CURL(curl_multi_init);
  return real ? real() : nullptr;
}

CURLMcode curl_multi_cleanup(CURLM* multi) {
  SCAFFOLD_CURL(curl_multi_cleanup);
  return real ? real(multi) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_add_handle(CURLM* multi, CURL* handle) {
  SCAFFOLD_CURL(curl_multi_add_handle);
  return real ? real(multi, handle) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_remove_handle(CURLM* multi, CURL* handle) {
  SCAFFOLD_CURL(curl_multi_remove_handle);
  return real ? real(multi, handle) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_perform(CURLM* multi, int* running) {
  SCAFFOLD_CURL(curl_multi_perform);
  return real ? real(multi, running) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_poll(CURLM* multi, struct curl_waitfd* extra, unsigned int count,
                          int timeout_ms, int* ready) {
  SCAFFOLD_CURL(curl_multi_poll);
  return real ? real(multi, extra, count, timeout_ms, ready) : CURLM_INTERNAL_ERROR;
}

CURLMcode curl_multi_wakeup(CURLM* multi) {
  SCAFFOLD_CURL(curl_multi_wakeup);
  return real ? real(multi) : CURLM_INTERNAL_ERROR;
}

CURLMsg* curl_multi_info_read(CURLM* multi, int* left) {
  SCAFFOLD_CURL(curl_multi_info_read);
  return real ? real(multi, left) : nullptr;
}

CURLU* curl_url(void) {
  SCAFFOLD_CURL(curl_url);
  return real ? real() : nullptr;
}

void curl_url_cleanup(CURLU* url) {
  SCAFFOLD_CURL(curl_url_cleanup);
  if (real) real(url);
}

CURLUcode curl_url_set(CURLU* url, CURLUPart part, const char* content, unsigned int flags) {
  SCAFFOLD_CURL(curl_url_set);
  return real ? real(url, part, content, flags) : CURLUE_OUT_OF_MEMORY;
}

CURLUcode curl_url_get(CURLU* url, CURLUPart part, char** content, unsigned int flags) {
  SCAFFOLD_CURL(curl_url_get);
  return real ? real(url, part, content, flags) : CURLUE_OUT_OF_MEMORY;
}

}  // extern "C"
