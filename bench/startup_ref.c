/* startup_ref: the reference start-up figures are measured against. Built twice by
   bench/CMakeLists.txt: statically linked (startup_ref_static, the "static C program" of the
   start-up budget) and linked to libc.so (startup_ref_dynamic). Prints a version line, as
   `scaffold --version` does, and exits. */
#include <stdio.h>

int main(void) {
  return puts("startup_ref 1.0") < 0;
}
