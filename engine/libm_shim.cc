// The libm functions the binary calls, forwarded to libm opened on first use
// (engine/lazy_library.h). libm is the only library besides libc that the statically linked
// binary would load at start, for SQLite's SQL math functions (acos to trunc; scaffold's own
// queries call none), RE2's prefilter (log), JSON Logic's `%` (fmod), JSON Schema's
// `multipleOf` (round) and libstdc++'s floating-point std::to_chars (fegetround, fesetround).
// Loading it cost every start 0.1-0.3 ms and 5 page faults (bench/README.md, startup, seventh
// pass); `--version` and `validate` call none of these.
//
// Built only with SCAFFOLD_STATIC_LIBS (engine/CMakeLists.txt), where the link drops libm.so
// when nothing needs it (cli/CMakeLists.txt, --as-needed) and a ctest checks that the binary
// needs nothing but libc. These definitions are not exported: libraries opened later (libcurl,
// libpq) bind to libm's own. libm belongs to libc's package; if it cannot be opened anyway, the
// functions return NaN with errno ENOSYS, fegetround the default mode and fesetround failure.
#include <errno.h>
#include <fenv.h>
#include <math.h>

#include "engine/lazy_library.h"

namespace {

scaffold::engine::LazyLibrary& Libm() {
  static scaffold::engine::LazyLibrary library({"libm.so.6"});
  return library;
}

double Unavailable() {
  errno = ENOSYS;
  return NAN;
}

}  // namespace

// One definition per function: its real address looked up once, then a call through it.
#define SCAFFOLD_LIBM_1(name)                                            \
  double name(double x) noexcept {                                       \
    static const auto real = Libm().Function<double (*)(double)>(#name); \
    return real ? real(x) : Unavailable();                               \
  }
#define SCAFFOLD_LIBM_2(name)                                                    \
  double name(double x, double y) noexcept {                                     \
    static const auto real = Libm().Function<double (*)(double, double)>(#name); \
    return real ? real(x, y) : Unavailable();                                    \
  }

extern "C" {

SCAFFOLD_LIBM_1(acos)
SCAFFOLD_LIBM_1(acosh)
SCAFFOLD_LIBM_1(asin)
SCAFFOLD_LIBM_1(asinh)
SCAFFOLD_LIBM_1(atan)
SCAFFOLD_LIBM_2(atan2)
SCAFFOLD_LIBM_1(atanh)
SCAFFOLD_LIBM_1(cos)
SCAFFOLD_LIBM_1(cosh)
SCAFFOLD_LIBM_1(exp)
SCAFFOLD_LIBM_2(fmod)
SCAFFOLD_LIBM_1(log)
SCAFFOLD_LIBM_2(pow)
SCAFFOLD_LIBM_1(round)
SCAFFOLD_LIBM_1(sin)
SCAFFOLD_LIBM_1(sinh)
SCAFFOLD_LIBM_1(sqrt)
SCAFFOLD_LIBM_1(tan)
SCAFFOLD_LIBM_1(tanh)
SCAFFOLD_LIBM_1(trunc)

int fegetround() noexcept {
  static const auto real = Libm().Function<int (*)()>("fegetround");
  return real ? real() : FE_TONEAREST;
}

int fesetround(int mode) noexcept {
  static const auto real = Libm().Function<int (*)(int)>("fesetround");
  return real ? real(mode) : 1;
}

}  // extern "C"
