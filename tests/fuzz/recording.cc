// Fuzz target: the recording file readers (scaffold replay FILE, sessions import).

#include <sstream>

#include "recordings/recording_file.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(scaffold::fuzz::AsText(data, size)));
  auto recording = scaffold::recordings::ReadRecording(in);
  if (recording.ok()) {
    for (const auto& e : recording->events) (void)e->wire.size();
  }
  // The reader replay uses: lines checked up front, events parsed one at a time.
  std::istringstream again(std::string(scaffold::fuzz::AsText(data, size)));
  auto text = scaffold::recordings::ReadRecordingText(again);
  if (text.ok()) {
    for (size_t i = 0; i < text->event_count(); ++i) (void)text->Event(i);
    // Its exchanges, looked up in the text they were checked in.
    auto* book = text->exchanges();
    auto recent = book->ExchangesForAgent("", std::nullopt, 4);
    if (recent.ok()) {
      for (const auto& x : *recent) (void)book->FindExchange(x.key, x.occurrence, x.session_id);
    }
  }
  return 0;
}
