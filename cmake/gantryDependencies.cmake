# What the engine links against, found the same way by gantry's own build (CMakeLists.txt) and by
# projects that use an installed gantry (gantryConfig.cmake). Defines the imported target
# gantry::openblas. When something is missing, GANTRY_MISSING_DEPENDENCY holds a message naming the
# Debian package to install and nothing else is defined; the caller decides how to fail.
set(GANTRY_MISSING_DEPENDENCY "")
find_package(Threads QUIET)
find_path(GANTRY_CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas-pthread openblas x86_64-linux-gnu/openblas-pthread)
find_library(GANTRY_OPENBLAS_LIBRARY NAMES openblas PATH_SUFFIXES openblas-pthread)
find_package(nlohmann_json 3 CONFIG QUIET)
find_package(ZLIB QUIET)  # CRC-32 checksums of checkpoint tensors

if(NOT Threads_FOUND)
  set(GANTRY_MISSING_DEPENDENCY "no POSIX threads library found")
elseif(NOT GANTRY_CBLAS_INCLUDE_DIR OR NOT GANTRY_OPENBLAS_LIBRARY)
  set(GANTRY_MISSING_DEPENDENCY "OpenBLAS (CBLAS) not found: install Debian's libopenblas-dev")
elseif(NOT nlohmann_json_FOUND)
  set(GANTRY_MISSING_DEPENDENCY "nlohmann_json not found: install Debian's nlohmann-json3-dev")
elseif(NOT ZLIB_FOUND)
  set(GANTRY_MISSING_DEPENDENCY "zlib not found: install Debian's zlib1g-dev")
elseif(NOT TARGET gantry::openblas)
  add_library(gantry::openblas INTERFACE IMPORTED)
  set_target_properties(gantry::openblas PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${GANTRY_CBLAS_INCLUDE_DIR}"
                                                    INTERFACE_LINK_LIBRARIES "${GANTRY_OPENBLAS_LIBRARY}")
endif()
