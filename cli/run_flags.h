// Flags shared by the commands that run a session in the terminal (run, resume, fork).
#pragma once

#include <string>
#include <vector>

namespace scaffold::cli {

struct SessionFlags {
  std::string db;
  std::string provider;
  std::string model;
  std::vector<std::string> answers;
  std::vector<std::string> prices;  // --price MODEL=IN,OUT[,CACHE_READ[,CACHE_WRITE]]
  std::string mode = "live";        // --mode live|playback|auto
  std::vector<std::string> redact;  // --redact REGEX (run only: stored with the session)
  std::vector<std::string> tools;   // --tool NAME=PROGRAM: serves a client tool locally
  bool allow_commands = false;      // --allow-commands: command tools may run

  bool json = false;
  bool quiet = false;
  bool no_color = false;
};

}  // namespace scaffold::cli
