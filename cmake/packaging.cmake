# `cmake --install build --prefix P` and `cpack -G DEB`: routemq as a package others build on.
#
#   P/include/routemq/routemq.hpp, testing.hpp        the one includes
#   P/include/routemq/{core,plugins,middleware}/...    every header, by its path in this repository
#   P/lib/libroutemq_*.a                               the libraries
#   P/lib/cmake/routemq/routemqConfig.cmake ...        find_package(routemq 0.2 CONFIG REQUIRED)
#   P/bin/routemq                                      the tool: `routemq new`, the example service
#
# A consumer links routemq::routemq (core, the Redis plugin, the middleware) and, for its tests,
# routemq::testing; routemqConfig.cmake finds the third-party packages they use (cmake/dependencies.cmake).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(routemq_libraries routemq_routing routemq_config routemq_json routemq_handling routemq_net routemq_mqtt_protocol
    routemq_mqtt_session routemq_mqtt routemq_http routemq_metrics routemq_core routemq_testing routemq_redis routemq_middleware routemq_all)
foreach(library IN LISTS routemq_libraries)
  if(NOT library STREQUAL "routemq_all")
    string(REPLACE "routemq_" "" short_name ${library})
    set_target_properties(${library} PROPERTIES EXPORT_NAME ${short_name})  # routemq::core, routemq::redis ...
  endif()
endforeach()
install(TARGETS ${routemq_libraries} EXPORT routemqTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
if(TARGET routemq)
  install(TARGETS routemq RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()

install(DIRECTORY include/routemq/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/routemq)
foreach(folder core plugins middleware)
  install(DIRECTORY ${folder}/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/routemq/${folder}
          FILES_MATCHING PATTERN "*.hpp")
endforeach()

set(routemq_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/routemq)
install(EXPORT routemqTargets NAMESPACE routemq:: DESTINATION ${routemq_cmake_dir})
configure_package_config_file(cmake/routemqConfig.cmake.in ${PROJECT_BINARY_DIR}/routemqConfig.cmake
                              INSTALL_DESTINATION ${routemq_cmake_dir})
# 0.x: a minor version may change the API, so 0.2 accepts 0.2.y only.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/routemqConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/routemqConfig.cmake ${PROJECT_BINARY_DIR}/routemqConfigVersion.cmake
              cmake/dependencies.cmake
        DESTINATION ${routemq_cmake_dir})

# The .deb: Depends names the shared libraries the tool links (dpkg-shlibdeps finds their packages)
# and the -dev packages a consumer's find_package(routemq) needs for the static libraries.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME routemq-dev)
set(CPACK_PACKAGE_VENDOR "routemq-cpp")
set(CPACK_PACKAGE_CONTACT "routemq-cpp maintainers <maintainers@routemq-cpp.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "MQTT message-routing framework in C++20: libraries, headers, CMake package and the routemq tool")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "g++ (>= 4:12), cmake (>= 3.22), pkg-config, libboost-dev, libssl-dev, libpaho-mqttpp-dev, libyaml-cpp-dev, nlohmann-json3-dev (>= 3.11), libspdlog-dev, libfmt-dev, libcli11-dev, prometheus-cpp-dev")
include(CPack)
