// Random (version 4) UUIDs for session and event ids.
#pragma once

#include <string>

namespace scaffold::engine {

// "8c0e5c1e-2f4a-4b7e-9d3a-6f1c2b3a4d5e". Thread-safe.
std::string NewUuid();

// True for the canonical lower- or upper-case 8-4-4-4-12 hex form.
bool IsUuid(const std::string& text);

}  // namespace scaffold::engine
