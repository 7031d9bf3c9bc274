# GANTRY_CUDA=EMU: the CUDA sources in kernels/cuda compiled as C++ with the emulator's prelude
# (kernels/cuda/emu/prelude.h) and linked with its runtime, so the CUDA backend runs on the CPU as
# device cuda:0. Included from the top-level CMakeLists.txt.
file(GLOB GANTRY_CUDA_SOURCES CONFIGURE_DEPENDS kernels/cuda/*.cu)
file(GLOB GANTRY_CUDA_EMU_SOURCES CONFIGURE_DEPENDS kernels/cuda/emu/*.cpp)
set_source_files_properties(${GANTRY_CUDA_SOURCES} PROPERTIES LANGUAGE CXX)

# Compile options for CUDA sources run on the emulator (the backend and the emulator's test kernels).
# -g1: line tables, so a fault found by the memory checks names the source line (via addr2line).
set(GANTRY_CUDA_EMU_KERNEL_OPTIONS -include ${CMAKE_CURRENT_SOURCE_DIR}/kernels/cuda/emu/prelude.h
  -fno-math-errno -g1)
if(GANTRY_CUDA_EMU_CHECKS)
  # Outline instrumentation only: every load and store calls __asan_{load,store}N_noabort, which the
  # emulator implements (kernels/cuda/emu/memory_checks.cpp); no sanitizer runtime is linked.
  list(APPEND GANTRY_CUDA_EMU_KERNEL_OPTIONS -fsanitize=kernel-address
    --param=asan-instrumentation-with-call-threshold=0 --param=asan-stack=0 --param=asan-globals=0)
endif()

# The emulator itself: never instrumented (its callbacks would recurse).
add_library(gantry_cuda_emu OBJECT ${GANTRY_CUDA_EMU_SOURCES})
target_include_directories(gantry_cuda_emu PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_include_directories(gantry_cuda_emu SYSTEM PUBLIC $<TARGET_PROPERTY:CUDA::cudart,INTERFACE_INCLUDE_DIRECTORIES>)
target_compile_options(gantry_cuda_emu PRIVATE ${GANTRY_WARNINGS})
target_link_libraries(gantry_cuda_emu PUBLIC ${CMAKE_DL_LIBS})

add_library(gantry_cuda OBJECT ${GANTRY_CUDA_SOURCES})
target_include_directories(gantry_cuda PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(gantry_cuda PUBLIC nlohmann_json::nlohmann_json)
target_include_directories(gantry_cuda SYSTEM PUBLIC $<TARGET_PROPERTY:CUDA::cudart,INTERFACE_INCLUDE_DIRECTORIES>)
target_compile_definitions(gantry_cuda PUBLIC GANTRY_WITH_CUDA=1)
# -march as for the engine: device code contracts a*b+c into FMAs as nvcc does by default, and so does
# the CPU backend it is compared with (the random samplers must give the same bits).
target_compile_options(gantry_cuda PRIVATE ${GANTRY_CUDA_EMU_KERNEL_OPTIONS} $<$<CONFIG:Release>:-O2 -march=x86-64-v3>)
# Linked directly, the object libraries' objects go into the engine archive (linked whole by every
# user), and their usage requirements (GANTRY_WITH_CUDA, CUDA's headers, libdl) reach its users.
target_link_libraries(gantry_engine_archive PUBLIC gantry_cuda gantry_cuda_emu)
