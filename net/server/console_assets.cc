#include "net/server/console_assets.h"

namespace scaffold::net {

extern const ConsoleAsset kEmbeddedConsole[];
extern const size_t kEmbeddedConsoleCount;

const ConsoleAsset* FindConsoleAsset(std::string_view path) {
  if (path == "/") path = "/console/index.html";
  for (size_t i = 0; i < kEmbeddedConsoleCount; ++i) {
    if (kEmbeddedConsole[i].path == path) return &kEmbeddedConsole[i];
  }
  return nullptr;
}

}  // namespace scaffold::net
