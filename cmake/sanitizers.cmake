# GANTRY_SANITIZE=ON compiles and links everything (engine, tests, binaries) with AddressSanitizer
# and UndefinedBehaviorSanitizer; any report stops the program (scripts/sanitize.sh, docs/building.md).
option(GANTRY_SANITIZE "Build with -fsanitize=address,undefined (CPU backend only)" OFF)
set(GANTRY_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
# The first line of every ASan/LSan/UBSan report.
set(GANTRY_SANITIZER_REPORT_REGEX "ERROR: (Address|Leak)Sanitizer|runtime error: |UndefinedBehaviorSanitizer")
if(GANTRY_SANITIZE)
  add_compile_options(${GANTRY_SANITIZER_FLAGS})
  add_link_options(${GANTRY_SANITIZER_FLAGS})
endif()

# Makes every test of the calling directory fail when its output holds a sanitizer report. The exit
# status alone is not enough: ctest ignores it for tests judged by PASS_REGULAR_EXPRESSION, and a test
# expecting a failing command (tests/cli/expect_failure.sh) would take a sanitizer abort for one.
function(gantry_fail_tests_on_sanitizer_reports)
  if(NOT GANTRY_SANITIZE)
    return()
  endif()
  get_property(tests DIRECTORY PROPERTY TESTS)
  foreach(test IN LISTS tests)
    get_test_property(${test} FAIL_REGULAR_EXPRESSION regexes)
    if(NOT regexes)
      set(regexes "")
    endif()
    list(APPEND regexes "${GANTRY_SANITIZER_REPORT_REGEX}")
    set_tests_properties(${test} PROPERTIES FAIL_REGULAR_EXPRESSION "${regexes}")
  endforeach()
endfunction()
