// Timestamps for people: local time, "2026-11-21 10:04:05" and "10:04:05.123".
#pragma once

#include <cstdint>
#include <string>

namespace scaffold::cli {

std::string FormatDateTime(int64_t unix_ms);
std::string FormatTimeOfDay(int64_t unix_ms);

}  // namespace scaffold::cli
