// The `http` tool (see builtin_tools.h).
#include <curl/curl.h>
#include <strings.h>

#include <memory>

#include "engine/template.h"
#include "net/tools/builtin_tools.h"
#include "net/tools/child_process.h"

namespace scaffold::net {
namespace {

struct Transfer {
  std::string body;
  std::string content_type;
  int64_t cap = 0;
  bool too_big = false;
  const std::atomic<bool>* cancel = nullptr;

  static size_t OnWrite(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    if (t->body.size() + n > static_cast<size_t>(t->cap)) {
      t->too_big = true;
      return 0;  // aborts the transfer
    }
    t->body.append(data, n * size);
    return n * size;
  }
  static int OnProgress(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(self);
    return t->cancel && t->cancel->load() ? 1 : 0;
  }
};

engine::ToolResult Fail(const std::string& message) {
  return {Json("http: " + message), true};
}

}  // namespace

std::string UrlRefusal(const std::string& url, const engine::ToolDecl& decl) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), &curl_url_cleanup);
  if (curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    return "\"" + url + "\" is not a valid URL";
  char* scheme = nullptr;
  char* host = nullptr;
  curl_url_get(parsed.get(), CURLUPART_SCHEME, &scheme, 0);
  curl_url_get(parsed.get(), CURLUPART_HOST, &host, 0);
  std::string scheme_s = scheme ? scheme : "", host_s = host ? host : "";
  curl_free(scheme);
  curl_free(host);
  if (scheme_s != "http" && scheme_s != "https")
    return "only http and https URLs are allowed, got \"" + scheme_s + "\"";
  if (host_s.size() > 2 && host_s.front() == '[') host_s = host_s.substr(1, host_s.size() - 2);
  if (!engine::HostAllowed(host_s, decl.allow_hosts)) {
    std::string allowed;
    for (const auto& h : decl.allow_hosts) allowed += (allowed.empty() ? "" : ", ") + h;
    return "host \"" + host_s + "\" is not in tool \"" + decl.name + "\"'s allow_hosts (" +
           allowed + ")";
  }
  return "";
}

engine::ToolResult RunHttpTool(const engine::ToolDecl& decl, const Json& context,
                               const std::atomic<bool>* cancel) {
  auto url = engine::RenderTemplate(decl.url, context);
  if (!url.ok()) return Fail("url: " + url.status().message());

  if (std::string refusal = UrlRefusal(*url, decl); !refusal.empty()) return Fail(refusal);

  curl_slist* headers = nullptr;
  bool has_content_type = false;
  for (const auto& [name, value] : decl.headers) {
    auto rendered = engine::RenderTemplate(value, context);
    if (!rendered.ok()) {
      curl_slist_free_all(headers);
      return Fail("headers/" + name + ": " + rendered.status().message());
    }
    if (rendered->find_first_of("\r\n") != std::string::npos) {
      curl_slist_free_all(headers);
      return Fail("header " + name + " would contain a line break");
    }
    if (strcasecmp(name.c_str(), "content-type") == 0) has_content_type = true;
    headers = curl_slist_append(headers, (name + ": " + *rendered).c_str());
  }
  std::string body;
  bool has_body = false;
  if (decl.body) {
    auto rendered = engine::RenderTemplateLeaves(*decl.body, context);
    if (!rendered.ok()) {
      curl_slist_free_all(headers);
      return Fail("body" + rendered.status().path() + ": " + rendered.status().message());
    }
    has_body = true;
    if (rendered->is_string()) {
      body = rendered->get<std::string>();
    } else {
      body = DumpJson(*rendered);
      if (!has_content_type) headers = curl_slist_append(headers, "Content-Type: application/json");
    }
  }

  Transfer t;
  t.cap = decl.max_response_bytes;
  t.cancel = cancel;
  char error[CURL_ERROR_SIZE] = {0};
  CURL* h = curl_easy_init();
  curl_easy_setopt(h, CURLOPT_URL, url->c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, decl.method.c_str());
  if (decl.method == "HEAD") curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  if (has_body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(decl.timeout_ms));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Transfer::OnWrite);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &Transfer::OnProgress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "scaffold-http-tool");
  CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  char* content_type = nullptr;
  curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &content_type);
  std::string type = content_type ? content_type : "";
  curl_easy_cleanup(h);
  curl_slist_free_all(headers);

  if (t.too_big) {
    return Fail("the response is larger than this tool's max_response_bytes (" +
                std::to_string(decl.max_response_bytes) + ")");
  }
  if (rc == CURLE_ABORTED_BY_CALLBACK) return Fail("cancelled");
  if (rc == CURLE_OPERATION_TIMEDOUT)
    return Fail("no complete response within " + std::to_string(decl.timeout_ms) + " ms");
  if (rc != CURLE_OK) return Fail(error[0] ? error : curl_easy_strerror(rc));

  Json output = {{"status", status}};
  if (!type.empty()) output["contentType"] = type;
  // A JSON answer reaches the agent as JSON (nesting bounded like all outside JSON); anything
  // else, or JSON that cannot be used, as text.
  std::optional<Json> json_body;
  if (type.find("json") != std::string::npos && IsValidUtf8(t.body)) {
    if (auto parsed = ParseJson(t.body); parsed.ok()) json_body = std::move(parsed).value();
  }
  if (json_body) {
    output["body"] = std::move(*json_body);
  } else {
    output["body"] = ToValidUtf8(std::move(t.body));
  }
  return {std::move(output), status >= 400};
}

}  // namespace scaffold::net
