# `ishannot fetch bdgp` (issue 26): the torch-free download module ishannot_fetch (libcurl,
# Debian's libcurl4-openssl-dev; sources in cmake/sources.cmake), linked into the CLI library, and
# its loopback tests (tests/fetch/).
find_package(CURL REQUIRED)
ishannot_add_module(fetch ${ISHANNOT_FETCH_SOURCES} PUBLIC_DEPS ishannot_core
                    PRIVATE_DEPS CURL::libcurl)
target_link_libraries(ishannot_cli PRIVATE ishannot_fetch)

if(ISHANNOT_BUILD_TESTS)
  file(GLOB ISHANNOT_FETCH_TESTS CONFIGURE_DEPENDS tests/fetch/*.cpp)
  add_executable(ishannot_fetch_tests ${ISHANNOT_FETCH_TESTS})
  target_link_libraries(ishannot_fetch_tests PRIVATE ishannot_fetch GTest::gtest_main)
  target_include_directories(ishannot_fetch_tests PRIVATE tests src)
  target_compile_options(ishannot_fetch_tests PRIVATE ${ISHANNOT_WARNINGS} ${ISHANNOT_TEST_OPTIONS}
                                                      -UNDEBUG)
  gtest_discover_tests(ishannot_fetch_tests DISCOVERY_TIMEOUT 60
                       PROPERTIES ENVIRONMENT "ISHANNOT_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
  add_dependencies(ishannot_fetch_tests ishannot)
endif()
