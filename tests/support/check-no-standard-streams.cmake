# cmake -DBINARY=path/to/scaffold -P check-no-standard-streams.cmake
#
# Checks that the executable neither uses the standard stream objects nor initializes them at
# start-up (engine/no_iostream_init.h): no std::cin, std::cout, std::cerr or std::clog (narrow or
# wide), and no std::ios_base::Init, defined or imported. A file that includes <iostream> without
# that header brings the initializer back; code that writes to std::cout would find it
# unconstructed.
execute_process(COMMAND nm ${BINARY} OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm ${BINARY} failed")
endif()
foreach(name _ZSt3cin _ZSt4cout _ZSt4cerr _ZSt4clog _ZSt4wcin _ZSt5wcout _ZSt5wcerr _ZSt5wclog
             _ZNSt8ios_base4InitC1Ev _ZSt21ios_base_library_initv)
  if(symbols MATCHES " ${name}(@[^\n]*)?\n")
    message(FATAL_ERROR "${BINARY} links ${name}: a file includes <iostream> without "
                        "engine/no_iostream_init.h, or writes to a standard stream object")
  endif()
endforeach()
message(STATUS "${BINARY}: no standard stream object")
