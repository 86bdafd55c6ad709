// Fuzz target: the recording file reader (scaffold replay FILE, sessions import).

#include <sstream>

#include "recordings/recording_file.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(scaffold::fuzz::AsText(data, size)));
  auto recording = scaffold::recordings::ReadRecording(in);
  if (recording.ok()) {
    for (const auto& e : recording->events) (void)e->wire.size();
  }
  return 0;
}
