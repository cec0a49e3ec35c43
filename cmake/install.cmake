# Installation of libsluice: the shared and static libraries, the public
# headers, a pkg-config file (sluice.pc) and a CMake package (Sluice::sluice,
# Sluice::sluice_static). Included by the top-level CMakeLists.txt after the
# two library targets exist; tests/install checks the result from outside.
include(CMakePackageConfigHelpers)

set(SL_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/Sluice)

install(TARGETS sluice sluice_static
  EXPORT SluiceTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/sluice/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/sluice
  FILES_MATCHING PATTERN "*.h")

# ---------------------------------------------------------------------------
# What a static link needs. The static library's link interface is read back
# from the target so that a dependency added to the top-level CMakeLists.txt
# reaches sluice.pc and SluiceConfig.cmake without editing this file:
#   PkgConfig::X     -> Requires.private: <module>; config: pkg_check_modules
#   Threads::Threads -> Libs.private: -lpthread;    config: find_dependency
#   ZLIB::ZLIB       -> Requires.private: zlib;      config: find_dependency
#   m, -lfoo         -> Libs.private: -lm, -lfoo
set(SL_PC_REQUIRES "")
set(SL_PC_LIBS "")
set(SL_CONFIG_EXTRA_DEPS "")
get_target_property(sl_deps_private sluice_static LINK_LIBRARIES)
get_target_property(sl_deps_iface sluice_static INTERFACE_LINK_LIBRARIES)
set(sl_deps "")
foreach(item IN LISTS sl_deps_private sl_deps_iface)
  if(item MATCHES "-NOTFOUND$" OR item STREQUAL "")
    continue()
  endif()
  if(item MATCHES "^\\$<LINK_ONLY:(.*)>$")
    set(item "${CMAKE_MATCH_1}")
  endif()
  list(APPEND sl_deps "${item}")
endforeach()
list(REMOVE_DUPLICATES sl_deps)

foreach(dep IN LISTS sl_deps)
  if(dep MATCHES "^PkgConfig::(.+)$")
    set(prefix "${CMAKE_MATCH_1}")
    set(module "${${prefix}_MODULE_NAME}")
    if(module STREQUAL "")
      message(FATAL_ERROR "install.cmake: no pkg-config module name for ${dep}")
    endif()
    list(APPEND SL_PC_REQUIRES "${module}")
    if(NOT prefix STREQUAL "LIBEVENT") # SluiceConfig.cmake.in has that one
      string(APPEND SL_CONFIG_EXTRA_DEPS
        "if(NOT TARGET ${dep})\n"
        "  pkg_check_modules(${prefix} QUIET IMPORTED_TARGET ${module})\n"
        "  if(NOT TARGET ${dep})\n"
        "    set(\${CMAKE_FIND_PACKAGE_NAME}_FOUND FALSE)\n"
        "    set(\${CMAKE_FIND_PACKAGE_NAME}_NOT_FOUND_MESSAGE\n"
        "        \"Sluice needs ${module} (pkg-config module), not found\")\n"
        "    return()\n"
        "  endif()\n"
        "endif()\n")
    endif()
  elseif(dep STREQUAL "Threads::Threads")
    list(APPEND SL_PC_LIBS "-lpthread")
  elseif(dep STREQUAL "ZLIB::ZLIB")
    list(APPEND SL_PC_REQUIRES "zlib")
    string(APPEND SL_CONFIG_EXTRA_DEPS "find_dependency(ZLIB)\n")
  elseif(dep MATCHES "^-l")
    list(APPEND SL_PC_LIBS "${dep}")
  elseif(dep MATCHES "^[A-Za-z0-9_.+-]+$" AND NOT TARGET ${dep})
    list(APPEND SL_PC_LIBS "-l${dep}")
  else()
    message(WARNING "install.cmake: sluice.pc and SluiceConfig.cmake do not "
      "know how to express the static dependency '${dep}'; extend "
      "cmake/install.cmake")
  endif()
endforeach()
list(REMOVE_DUPLICATES SL_PC_REQUIRES)
list(REMOVE_DUPLICATES SL_PC_LIBS)
foreach(required libevent_core)
  if(NOT required IN_LIST SL_PC_REQUIRES)
    message(FATAL_ERROR "install.cmake: sluice_static no longer links "
      "${required}; check the pkg-config and CMake package files")
  endif()
endforeach()
string(REPLACE ";" ", " SL_PC_REQUIRES_PRIVATE "${SL_PC_REQUIRES}")
string(REPLACE ";" " " SL_PC_LIBS_PRIVATE "${SL_PC_LIBS}")

# ---------------------------------------------------------------- sluice.pc
# The prefix is only known at install time (cmake --install --prefix P), so
# the file is written by an install script: configure now with a placeholder
# for the prefix, substitute it when installing.
set(SL_PC_PREFIX "@SL_INSTALL_PREFIX@")
foreach(kind LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${kind}}")
    set(SL_PC_${kind} "${CMAKE_INSTALL_${kind}}")
  else()
    set(SL_PC_${kind} "\${prefix}/${CMAKE_INSTALL_${kind}}")
  endif()
endforeach()
configure_file(${CMAKE_CURRENT_LIST_DIR}/sluice.pc.in
  ${PROJECT_BINARY_DIR}/sluice.pc.tmpl @ONLY)

if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(sl_pc_dir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
else()
  set(sl_pc_dir "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endif()
install(CODE "
  file(READ \"${PROJECT_BINARY_DIR}/sluice.pc.tmpl\" sl_pc)
  string(REPLACE \"@SL_INSTALL_PREFIX@\" \"\${CMAKE_INSTALL_PREFIX}\" sl_pc
         \"\${sl_pc}\")
  set(sl_pc_file \"${sl_pc_dir}/sluice.pc\")
  message(STATUS \"Installing: \$ENV{DESTDIR}\${sl_pc_file}\")
  file(MAKE_DIRECTORY \"\$ENV{DESTDIR}${sl_pc_dir}\")
  file(WRITE \"\$ENV{DESTDIR}\${sl_pc_file}\" \"\${sl_pc}\")
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${sl_pc_file}\")
")

# ------------------------------------------------------------ CMake package
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/SluiceConfig.cmake.in
  ${PROJECT_BINARY_DIR}/SluiceConfig.cmake
  INSTALL_DESTINATION ${SL_CMAKE_DIR})
# 0.x releases break compatibility between minor versions.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/SluiceConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/SluiceConfig.cmake
  ${PROJECT_BINARY_DIR}/SluiceConfigVersion.cmake
  DESTINATION ${SL_CMAKE_DIR})
install(EXPORT SluiceTargets
  NAMESPACE Sluice::
  FILE SluiceTargets.cmake
  DESTINATION ${SL_CMAKE_DIR})
