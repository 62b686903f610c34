# `ishannot fetch bdgp` (issue 26): the torch-free download module ishannot_fetch (libcurl,
# Debian's libcurl4-openssl-dev; sources in cmake/sources.cmake), linked into the CLI library, and
# its loopback tests (tests/fetch/).
find_package(CURL REQUIRED)
ishannot_add_module(fetch ${ISHANNOT_FETCH_SOURCES} PUBLIC_DEPS ishannot_core
                    PRIVATE_DEPS CURL::libcurl)
target_link_libraries(ishannot_cli PRIVATE ishannot_fetch)

if(ISHANNOT_BUILD_TESTS)
  file(GLOB ISHANNOT_FETCH_TESTS CONFIGURE_DEPENDS tests/fetch/*.cpp)
  ishannot_add_test_binary(ishannot_fetch_tests TIMEOUT 60 SOURCES ${ISHANNOT_FETCH_TESTS}
                           LIBS ishannot_fetch)
endif()
