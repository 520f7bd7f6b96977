# The third-party packages routemq's libraries use, found by the build (find_package ... REQUIRED)
# and again by the installed package's routemqConfig.cmake (find_dependency), so a consumer never
# declares them: one list for both. Each comes from a Debian bookworm package (scripts/install-deps.sh).
macro(routemq_find_dependencies find)
  cmake_language(CALL ${find} Threads ${ARGN})
  cmake_language(CALL ${find} Boost 1.74 ${ARGN})
  cmake_language(CALL ${find} OpenSSL ${ARGN})
  cmake_language(CALL ${find} PahoMqttCpp ${ARGN})
  cmake_language(CALL ${find} yaml-cpp ${ARGN})
  cmake_language(CALL ${find} nlohmann_json 3.11 ${ARGN})
  cmake_language(CALL ${find} spdlog ${ARGN})
  cmake_language(CALL ${find} fmt ${ARGN})
  cmake_language(CALL ${find} CLI11 ${ARGN})
  cmake_language(CALL ${find} prometheus-cpp ${ARGN})
  cmake_language(CALL ${find} PkgConfig ${ARGN})
  # hiredis 0.14 ships no CMake package: its pkg-config file makes the imported target.
  pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
endmacro()
