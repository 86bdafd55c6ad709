// The math functions the binary forwards to libm opened on first use (engine/libm_shim.cc, with
// the static archives) give libm's results, whether called from scaffold's code or from SQLite's
// SQL functions. Without the static archives they are libm's own and the test still holds.
#include <fenv.h>
#include <math.h>
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "engine/lazy_library.h"

using scaffold::engine::LazyLibrary;

TEST_CASE("the math functions give libm's results, from scaffold's own calls and from SQLite",
          "[lazy]") {
  LazyLibrary libm({"libm.so.6"});
  volatile double x = 0.75, y = 2.5, big = 1.5;  // not folded at compile time
  auto one = [&](const char* name, double (*f)(double), double arg) {
    INFO(name);
    auto real = libm.Function<double (*)(double)>(name);
    REQUIRE(real);
    CHECK(f(arg) == real(arg));
    CHECK_FALSE(std::isnan(f(arg)));
  };
  auto two = [&](const char* name, double (*f)(double, double)) {
    INFO(name);
    auto real = libm.Function<double (*)(double, double)>(name);
    REQUIRE(real);
    CHECK(f(x, y) == real(x, y));
    CHECK_FALSE(std::isnan(f(x, y)));
  };
  one("acos", ::acos, x);
  one("acosh", ::acosh, big);
  one("asin", ::asin, x);
  one("asinh", ::asinh, x);
  one("atan", ::atan, x);
  one("atanh", ::atanh, x);
  one("cos", ::cos, x);
  one("cosh", ::cosh, x);
  one("exp", ::exp, x);
  one("log", ::log, x);
  one("round", ::round, y);
  one("sin", ::sin, x);
  one("sinh", ::sinh, x);
  one("sqrt", ::sqrt, x);
  one("tan", ::tan, x);
  one("tanh", ::tanh, x);
  one("trunc", ::trunc, y);
  two("atan2", ::atan2);
  two("fmod", ::fmod);
  two("pow", ::pow);
  CHECK(::fegetround() == FE_TONEAREST);
  REQUIRE(::fesetround(FE_UPWARD) == 0);
  CHECK(::fegetround() == FE_UPWARD);
  REQUIRE(::fesetround(FE_TONEAREST) == 0);

  // SQLite's SQL math functions call the same functions.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(":memory:", &db) == SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT pow(2, 10), acosh(1.5), mod(7.5, 2), trunc(-2.5)", -1,
                             &statement, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(statement) == SQLITE_ROW);
  CHECK(sqlite3_column_double(statement, 0) == 1024.0);
  CHECK(sqlite3_column_double(statement, 1) == libm.Function<double (*)(double)>("acosh")(1.5));
  CHECK(sqlite3_column_double(statement, 2) == 1.5);
  CHECK(sqlite3_column_double(statement, 3) == -2.0);
  sqlite3_finalize(statement);
  sqlite3_close(db);
}
