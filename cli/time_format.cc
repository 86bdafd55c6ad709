#include "cli/time_format.h"

#include <ctime>

namespace scaffold::cli {

std::string FormatDateTime(int64_t unix_ms) {
  if (unix_ms <= 0) return "-";
  time_t t = static_cast<time_t>(unix_ms / 1000);
  tm local{};
  localtime_r(&t, &local);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &local);
  return buf;
}

std::string FormatTimeOfDay(int64_t unix_ms) {
  time_t t = static_cast<time_t>(unix_ms / 1000);
  tm local{};
  localtime_r(&t, &local);
  char buf[32];
  strftime(buf, sizeof buf, "%H:%M:%S", &local);
  char out[40];
  std::snprintf(out, sizeof out, "%s.%03lld", buf, static_cast<long long>(unix_ms % 1000));
  return out;
}

}  // namespace scaffold::cli
