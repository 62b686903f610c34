# `cmake --install build --prefix P` installs the torch-free core (one shared library per module,
# the public headers) and an export set, so that another CMake project can
#   find_package(ishannot CONFIG REQUIRED)  # with CMAKE_PREFIX_PATH=P
#   target_link_libraries(app PRIVATE ishannot::core)   # or ishannot::learn, ishannot::data, ...
# without libtorch (tests/install/ builds such a consumer). The CNN part stays in the build tree.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set_target_properties(ishannot_core PROPERTIES EXPORT_NAME core)
install(TARGETS ${ISHANNOT_EXPORTED_TARGETS} EXPORT ishannotTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# OpenCV's codecs for formats other than PNG and JPEG, loaded by ishannot_image from its own folder.
install(TARGETS ishannot_imgcodecs LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
# Public headers of the torch-free modules (include/ishannot/nets/ needs libtorch: not installed).
install(DIRECTORY include/ishannot DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        PATTERN nets EXCLUDE PATTERN infer EXCLUDE)
install(FILES ${PROJECT_BINARY_DIR}/generated/ishannot/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/ishannot)
install(EXPORT ishannotTargets NAMESPACE ishannot:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ishannot)
configure_package_config_file(cmake/ishannotConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/ishannotConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ishannot)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ishannotConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ishannotConfig.cmake
              ${PROJECT_BINARY_DIR}/ishannotConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ishannot)
