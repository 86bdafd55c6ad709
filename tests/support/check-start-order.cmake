# cmake -DBINARY=path/to/scaffold -P check-start-order.cmake
#
# Checks that the executable was linked with cli/startup_order.ld: an output section
# .text.start_order of a plausible size, placed before .text, holding the functions every
# `validate` runs. Fails when the link drops the script or the list no longer names the code
# start-up runs (then regenerate it with bench/startup_order.py).
execute_process(COMMAND readelf -SW ${BINARY} OUTPUT_VARIABLE sections RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "readelf -SW ${BINARY} failed")
endif()
if(NOT sections MATCHES "\\.text\\.start_order +PROGBITS +([0-9a-f]+) +[0-9a-f]+ +([0-9a-f]+)")
  message(FATAL_ERROR "${BINARY} has no .text.start_order section: cli/startup_order.ld was not linked")
endif()
math(EXPR begin "0x${CMAKE_MATCH_1}")
math(EXPR size "0x${CMAKE_MATCH_2}")
math(EXPR end "${begin} + ${size}")
if(size LESS 102400)
  message(FATAL_ERROR ".text.start_order holds ${size} bytes: the list matches almost nothing")
endif()
if(NOT sections MATCHES " \\.text +PROGBITS +([0-9a-f]+)")
  message(FATAL_ERROR "${BINARY} has no .text section")
endif()
math(EXPR text "0x${CMAKE_MATCH_1}")
if(text LESS end)
  message(FATAL_ERROR ".text.start_order is not placed before .text")
endif()

execute_process(COMMAND nm --defined-only ${BINARY} OUTPUT_VARIABLE symbols RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm ${BINARY} failed")
endif()
# Code only `validate` runs: the command, the file's reading, and the workflow's loading and checks.
foreach(name
    _ZN8scaffold3cli11RunValidateERKNS0_15ValidateOptionsE
    _ZN8scaffold6engine12LoadWorkflowESt17basic_string_viewIcSt11char_traitsIcEE
    _ZN8scaffold3cli14ReadFileCappedERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEmS8_)
  if(NOT symbols MATCHES "([0-9a-f]+) [tT] ${name}\n")
    message(FATAL_ERROR "${name} is not in ${BINARY}")
  endif()
  math(EXPR at "0x${CMAKE_MATCH_1}")
  if(at LESS begin OR NOT at LESS end)
    message(FATAL_ERROR "${name} is outside .text.start_order: regenerate cli/startup_order.ld")
  endif()
endforeach()
message(STATUS ".text.start_order: ${size} bytes before .text, with the validate path in it")
