# cmake -DSOURCE_DIR=... -DBINARY_DIR=... -DGENERATOR=... -DEXPECT=regex [-DCONFIGURE_ARGS=a|b] -P build_and_run.cmake
# Configures and builds the project in SOURCE_DIR from scratch in BINARY_DIR, runs its program
# `consumer` and fails unless every step succeeds and the program's output matches EXPECT.
foreach(var SOURCE_DIR BINARY_DIR GENERATOR EXPECT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "build_and_run.cmake: -D${var}=... is required")
  endif()
endforeach()

function(run_step what)
  message(STATUS "${what}: ${ARGN}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
  message("${output}")
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${what} failed (${status})")
  endif()
  set(last_output "${output}" PARENT_SCOPE)
endfunction()

string(REPLACE "|" ";" CONFIGURE_ARGS "${CONFIGURE_ARGS}")
cmake_host_system_information(RESULT cores QUERY NUMBER_OF_LOGICAL_CORES)
file(REMOVE_RECURSE ${BINARY_DIR})
run_step(configure ${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${BINARY_DIR} -G ${GENERATOR} ${CONFIGURE_ARGS})
run_step(build ${CMAKE_COMMAND} --build ${BINARY_DIR} --target consumer --parallel ${cores})
run_step(run ${BINARY_DIR}/consumer)
if(NOT last_output MATCHES "${EXPECT}")
  message(FATAL_ERROR "the program's output does not match: ${EXPECT}")
endif()
