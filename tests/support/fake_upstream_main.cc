// fake-upstream: serves scripted Anthropic and OpenAI streams on 127.0.0.1 until stdin closes.
// Used to record the example sessions shipped in examples/ (scripts/record-examples) and by
// benchmarks. Prints its base URL on the first line of stdout.
//
//   fake-upstream SCRIPT.json
//
// SCRIPT: {"routes": [{"match": "substring of the request body", "text": ["delta", ...],
//                      "tool": {"name": "respond", "input": {...}}, "delay_ms": 20,
//                      "usage": [input_tokens, output_tokens]}, ...]}
// The first route whose "match" occurs in the request body answers it, in the format of the
// API the request was sent to (/v1/messages or /v1/chat/completions).

#include <iostream>
#include <string>

#include "tests/support/conformance.h"
#include "tests/support/fake_upstream.h"

using scaffold::Json;
using scaffold::testing::FakeUpstream;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: fake-upstream SCRIPT.json\n";
    return 2;
  }
  Json script = Json::parse(scaffold::testing::ReadFile(argv[1]));
  FakeUpstream up;
  up.SetDefault([script](const FakeUpstream::Request& req) {
    bool openai = req.path.find("chat/completions") != std::string::npos;
    for (const auto& route : script["routes"]) {
      if (req.body.find(route.value("match", "")) == std::string::npos) continue;
      int in = route.contains("usage") ? route["usage"][0].get<int>() : 100;
      int out = route.contains("usage") ? route["usage"][1].get<int>() : 50;
      FakeUpstream::Response r;
      if (route.contains("tool")) {
        const Json& tool = route["tool"];
        r = openai ? FakeUpstream::OpenAiText({tool["input"].dump()}, in, out)
                   : FakeUpstream::AnthropicToolUse("toolu_" + tool.value("name", "t"),
                                                    tool.value("name", "respond"), tool["input"],
                                                    in, out);

      } else {
        // A string streams two words per delta, like a model would.
        std::vector<std::string> deltas;
        if (route["text"].is_string()) {
          std::string text = route["text"], piece;
          int words = 0;
          for (char c : text) {
            piece += c;
            if (c == ' ' && ++words == 2) {
              deltas.push_back(piece);
              piece.clear();
              words = 0;
            }
          }
          if (!piece.empty()) deltas.push_back(piece);
        } else {
          deltas = route.value("text", std::vector<std::string>{});
        }

        r = openai ? FakeUpstream::OpenAiText(deltas, in, out)
                   : FakeUpstream::AnthropicText(deltas, in, out);
      }
      for (auto& w : r.writes) w.delay_ms = route.value("delay_ms", 0);
      return r;
    }
    return FakeUpstream::Error(
        400, {{"error", {{"message", "no route of the script matches this request"}}}});
  });
  std::cout << up.url() << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  return 0;
}
