// Terminal conventions (DESIGN §8): colour only on a TTY and never with NO_COLOR or
// --no-color; progress only on a TTY.
#pragma once

#include <string>
#include <string_view>

namespace scaffold::cli {

struct TerminalStyle {
  bool color = false;  // ANSI colours on stdout
  bool tty = false;    // stdout is a terminal (spinner, live redraws)
  int width = 80;
};

// Looks at `fd` (stdout unless told), $NO_COLOR, $TERM and the --no-color flag.
TerminalStyle DetectTerminal(bool no_color_flag, int fd = 1);

enum class Tint { kBold, kDim, kRed, kGreen, kYellow, kBlue, kMagenta, kCyan };

// `text` wrapped in the colour's escape codes when `style.color`.
std::string Paint(const TerminalStyle& style, Tint tint, std::string_view text);

// `text` cut to at most `max` display columns (UTF-8 aware), with "…" when cut, newlines shown
// as "⏎".
std::string Shorten(std::string_view text, size_t max);

// "1.2s", "340ms", "2m05s".
std::string FormatDuration(int64_t ms);

// "1,234".
std::string FormatCount(int64_t n);

}  // namespace scaffold::cli
