#pragma once

// Include this before a third-party header that includes <iostream> without needing the standard
// streams: kainjow/mustache includes it and uses none of them; CLI11 names std::cout and
// std::cerr only as default arguments, which scaffold always passes (cli/commands.cc).
//
// libstdc++'s <iostream> runs std::ios_base::Init before main in every program that includes it
// (up to GCC 12 from a static object in each such file, from GCC 13 by linking the library's
// own): it builds the classic locale and the eight standard stream objects. That is 17 page
// faults and about 0.25 ms of every `scaffold` start on the machines bench/README.md describes,
// over a tenth of `scaffold --version`. With libstdc++, this header declares the four narrow
// streams as <iostream> does and marks <iostream> as already included, so its initializer is
// left out.
//
// The price is that std::cin, std::cout, std::cerr and std::clog would be unconstructed if used:
// scaffold uses none of them (stdio and cli/fd_ostream.h instead), and the ctest "build: no
// standard stream object is linked" fails when the binary references one.

#include <istream>
#include <ostream>

#if defined(__GLIBCXX__) && !defined(_GLIBCXX_IOSTREAM)
#define _GLIBCXX_IOSTREAM 1
namespace std {
extern istream cin;
extern ostream cout;
extern ostream cerr;
extern ostream clog;
}  // namespace std
#endif
