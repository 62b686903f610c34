# ishannot_add_test_binary(NAME TIMEOUT seconds SOURCES files... LIBS deps...)
# One gtest executable, every test binary alike:
#   - headers from tests/ (tests/support/) and src/ (tests may check internals);
#   - HDF5 directly: tests read and edit stores and bundles with it (references independent of
#     ours);
#   - OpenCV's imgcodecs (tests write images with cv::imwrite and read them as references; no
#     library of ours links it);
#   - our warnings, asserts on in release builds (-UNDEBUG, docs/STYLE.md 7), and in sanitizer
#     builds ISHANNOT_TEST_OPTIONS (the test files uninstrumented, CMakeLists.txt);
#   - its tests discovered with ISHANNOT_SOURCE_DIR set, built after the `ishannot` executable
#     the CLI tests run.
function(ishannot_add_test_binary name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest_main ${HDF5_C_LIBRARIES}
                        opencv_imgcodecs)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/src)
  target_include_directories(${name} SYSTEM PRIVATE ${HDF5_C_INCLUDE_DIRS})
  target_compile_options(${name} PRIVATE ${ISHANNOT_WARNINGS} ${ISHANNOT_TEST_OPTIONS} -UNDEBUG)
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT ${ARG_TIMEOUT}
                       PROPERTIES ENVIRONMENT "ISHANNOT_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  add_dependencies(${name} ishannot)
endfunction()
