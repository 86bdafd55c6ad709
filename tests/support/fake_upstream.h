// A fake LLM upstream for tests: a real HTTP/1.1 server on 127.0.0.1 (port chosen by the
// kernel) that answers Anthropic Messages and OpenAI Chat Completions requests with scripted or
// verbatim fixture streams, and records every request it receives.
//
// Responses are taken from a FIFO queue (Push), or made by the default handler when the queue
// is empty. Bodies are sent with chunked encoding, one chunk per scripted write, so a dropped
// connection is visible to the client as a truncated response.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/json.h"

namespace scaffold::testing {

class FakeUpstream {
 public:
  struct Write {
    std::string data;
    int delay_ms = 0;  // wait this long before writing
  };
  struct Response {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::vector<Write> writes;
    bool drop = false;             // close the connection after the writes, before the end
    int stall_ms = 0;              // after the writes, wait this long before ending
    bool one_byte_writes = false;  // send every byte as its own write
  };
  struct Request {
    std::string method;
    std::string path;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    Json json() const { return Json::parse(body); }
  };

  FakeUpstream();
  ~FakeUpstream();

  // "http://127.0.0.1:PORT"
  std::string url() const;

  void Push(Response response);
  void SetDefault(std::function<Response(const Request&)> handler);

  std::vector<Request> requests() const;
  // Responses the client abandoned (closed the connection) before they ended.
  int abandoned() const;
  // Connections currently open.
  int open_connections() const;

  // ---- Building responses ----
  // An SSE body from (event, data) pairs: "event: E\ndata: D\n\n"; an empty event name gives a
  // data-only frame.
  static Response Sse(const std::vector<std::pair<std::string, std::string>>& frames);
  // A verbatim fixture file from ../shared/conformance/providers, one write per SSE frame.
  static Response Fixture(const std::string& name);
  static Response Error(int status, const Json& body,
                        std::vector<std::pair<std::string, std::string>> headers = {});

  static Response AnthropicText(const std::vector<std::string>& deltas, int input_tokens = 12,
                                int output_tokens = 7);
    static Response AnthropicToolUse(const std::string& id, const std::string& name, const Json& input,
                                   int input_tokens = 20, int output_tokens = 9);

  static Response AnthropicThinking(const std::string& thinking, const std::string& text);
  static Response OpenAiText(const std::vector<std::string>& deltas, int prompt_tokens = 12,
                             int completion_tokens = 7);
  static Response OpenAiToolCall(const std::string& id, const std::string& name,
                                 const Json& arguments, bool whole = false);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace scaffold::testing
