# `cmake --install build --prefix DIR` installs the gantry binary, the engine's archives and headers
# (include/gantry/<folder>/...) and a CMake package, so that other projects can use
#   find_package(gantry 0.1 REQUIRED)  +  target_link_libraries(app PRIVATE gantry::engine)
# (docs/building.md). The CLI sources (train/cli) are the binary's own and not installed.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(GANTRY_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/gantry)
set(gantry_archives gantry_engine gantry_engine_archive)
if(GANTRY_WITH_CUDA)
  list(APPEND gantry_archives gantry_cuda)
endif()
install(TARGETS ${gantry_archives} EXPORT gantryTargets ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
if(TARGET gantry)
  install(TARGETS gantry RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

set(gantry_header_folders engine kernels/cpu models train eval)
if(GANTRY_WITH_CUDA)
  list(APPEND gantry_header_folders kernels/cuda)
endif()
foreach(folder IN LISTS gantry_header_folders)
  cmake_path(GET folder PARENT_PATH parent)
  install(DIRECTORY ${folder} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/gantry/${parent}
          FILES_MATCHING PATTERN "*.h" PATTERN "*.cuh" PATTERN "cli" EXCLUDE)
endforeach()

install(EXPORT gantryTargets NAMESPACE gantry:: DESTINATION ${GANTRY_INSTALL_CMAKEDIR})
configure_package_config_file(cmake/gantryConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/gantryConfig.cmake
                              INSTALL_DESTINATION ${GANTRY_INSTALL_CMAKEDIR})
# 0.x: a minor version may break the API, so only the same major.minor is compatible.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/gantryConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/gantryConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/gantryConfigVersion.cmake
              cmake/gantryDependencies.cmake DESTINATION ${GANTRY_INSTALL_CMAKEDIR})
