# cmake -DBINARY=path/to/scaffold -P check-needed-libraries.cmake
#
# Checks that the executable, linked with the static archives, needs no shared library but libc
# and the dynamic loader: each one more costs every start its loading and relocation
# (bench/README.md, startup). libcurl, libpq, libcrypto and libm are opened on first use
# (engine/lazy_library.h); a new call into one of them needs its forwarding function
# (net/curl_shim.cc, recordings/postgres/pq_shim.cc, engine/crypto_shim.cc, engine/libm_shim.cc),
# or the link brings the library back and this check names it.
execute_process(COMMAND readelf -d ${BINARY} OUTPUT_VARIABLE dynamic RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "readelf -d ${BINARY} failed")
endif()
string(REGEX MATCHALL "\\(NEEDED\\)[^\n]*\\[[^]]+\\]" entries "${dynamic}")
set(extra "")
foreach(entry IN LISTS entries)
  string(REGEX REPLACE ".*\\[([^]]+)\\]" "\\1" library "${entry}")
  if(NOT library MATCHES "^(libc\\.so\\.6|ld-linux[-a-z0-9_.]*\\.so\\.[0-9]+)$")
    list(APPEND extra ${library})
  endif()
endforeach()
if(extra)
  message(FATAL_ERROR "${BINARY} needs ${extra} at start: a function of a library opened on "
                      "first use is called without its forwarding function (see this file)")
endif()
message(STATUS "${BINARY}: needs libc alone")
