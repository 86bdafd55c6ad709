#include "cli/terminal.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>

namespace scaffold::cli {

TerminalStyle DetectTerminal(bool no_color_flag, int fd) {
  TerminalStyle style;
  style.tty = isatty(fd) == 1;
  const char* term = std::getenv("TERM");
  const char* no_color = std::getenv("NO_COLOR");
  style.color = style.tty && !no_color_flag && !(no_color && *no_color) &&
                !(term && std::string(term) == "dumb");
  winsize ws{};
  if (style.tty && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) style.width = ws.ws_col;
  return style;
}

std::string Paint(const TerminalStyle& style, Tint tint, std::string_view text) {
  if (!style.color) return std::string(text);
  const char* code = "";
  switch (tint) {
    case Tint::kBold:
      code = "1";
      break;
    case Tint::kDim:
      code = "2";
      break;
    case Tint::kRed:
      code = "31";
      break;
    case Tint::kGreen:
      code = "32";
      break;
    case Tint::kYellow:
      code = "33";
      break;
    case Tint::kBlue:
      code = "34";
      break;
    case Tint::kMagenta:
      code = "35";
      break;
    case Tint::kCyan:
      code = "36";
      break;
  }
  return std::string("\x1b[") + code + "m" + std::string(text) + "\x1b[0m";
}

std::string Shorten(std::string_view text, size_t max) {
  // One column per code point is close enough for logs and prompts.
  auto next_len = [&](size_t i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    return std::min(len, text.size() - i);
  };
  size_t total = 0;
  for (size_t i = 0; i < text.size(); i += next_len(i)) ++total;
  size_t keep = total <= max ? total : (max > 0 ? max - 1 : 0);
  std::string out;
  size_t columns = 0;
  for (size_t i = 0; i < text.size() && columns < keep; ++columns) {
    size_t len = next_len(i);
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "⏎";
    } else if (c < 0x20) {
      out += ' ';
    } else {
      out.append(text.substr(i, len));
    }
    i += len;
  }
  if (keep < total) out += "…";
  return out;
}

std::string FormatDuration(int64_t ms) {
  if (ms < 1000) return std::to_string(ms) + "ms";
  if (ms < 60000) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(ms / 60000),
                static_cast<long long>((ms / 1000) % 60));
  return buf;
}

std::string FormatCount(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

}  // namespace scaffold::cli
