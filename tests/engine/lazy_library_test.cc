#include "engine/lazy_library.h"

#include <catch2/catch.hpp>

using scaffold::engine::LazyLibrary;

TEST_CASE("a library opened on first use finds its symbols, and a missing one says why",
          "[lazy]") {
  LazyLibrary libm({"libscaffold-no-such-library.so.1", "libm.so.6"});
  auto cosine = reinterpret_cast<double (*)(double)>(libm.Symbol("cos"));
  REQUIRE(cosine);
  CHECK(cosine(0.0) == 1.0);
  CHECK(libm.Symbol("no_such_symbol_in_libm") == nullptr);
  CHECK(libm.error().find("libscaffold-no-such-library") != std::string::npos);

  LazyLibrary missing({"libscaffold-no-such-library.so.1"});
  CHECK(missing.Symbol("anything") == nullptr);
  CHECK(missing.error().find("libscaffold-no-such-library.so.1") != std::string::npos);
}
