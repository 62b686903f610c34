# The Python module `ishannot` (python/, docs/PYTHON.md), built with pybind11 (Debian pybind11-dev).
# Two extensions over the same C++ libraries, so that `import ishannot` does not load libtorch:
#   _core  (ishannot_core: datasets, folds, stores, models, annotate on features, evaluate, train)
#   _nets  (ishannot_nets: extraction and heat maps from images), imported on first use.
# The package is assembled in ${CMAKE_BINARY_DIR}/python: `export PYTHONPATH=$PWD/build/python`.
# Its tests (tests/python/, pytest) and the worked example (examples/) run under ctest.
# The system interpreter (setup.sh gives it numpy, pandas, pytest), not one found on PATH first.
if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
  set(Python3_EXECUTABLE /usr/bin/python3)
endif()
find_package(Python3 QUIET COMPONENTS Interpreter Development.Module)
set(PYBIND11_FINDPYTHON ON)
if(Python3_FOUND)
  find_package(pybind11 CONFIG QUIET)
endif()
set(ISHANNOT_PYTHON_DEFAULT OFF)
if(pybind11_FOUND AND NOT ISHANNOT_SANITIZE)
  set(ISHANNOT_PYTHON_DEFAULT ON)
endif()
option(ISHANNOT_PYTHON "Build the Python module (python/; needs pybind11-dev, python3-dev)"
       ${ISHANNOT_PYTHON_DEFAULT})
# The CNN extension _nets (python/src/nets_*.cpp; tests/python/test_nets.py, the worked example).
option(ISHANNOT_PYTHON_CNN "Also build the Python module's CNN extension _nets (libtorch)" ON)

if(ISHANNOT_PYTHON)
  find_package(Python3 REQUIRED COMPONENTS Interpreter Development.Module)
  find_package(pybind11 CONFIG REQUIRED)
  set(ISHANNOT_PY_DIR ${CMAKE_BINARY_DIR}/python/ishannot)

  # The extensions link the project's shared module libraries (CMakeLists.txt): one copy of the
  # library in a process that also runs the CLI's code.
  file(GLOB ISHANNOT_PY_CORE_SOURCES CONFIGURE_DEPENDS python/src/core_*.cpp python/src/common_*.cpp)
  pybind11_add_module(ishannot_py_core MODULE NO_EXTRAS ${ISHANNOT_PY_CORE_SOURCES})
  set_target_properties(ishannot_py_core PROPERTIES OUTPUT_NAME _core LIBRARY_OUTPUT_DIRECTORY
                                                    ${ISHANNOT_PY_DIR})
  target_include_directories(ishannot_py_core PRIVATE python/src src)
  target_link_libraries(ishannot_py_core PRIVATE ishannot_core)
  target_compile_options(ishannot_py_core PRIVATE ${ISHANNOT_WARNINGS})

  file(GLOB ISHANNOT_PY_NETS_SOURCES CONFIGURE_DEPENDS python/src/nets_*.cpp)
  if(ISHANNOT_WITH_TORCH AND ISHANNOT_PYTHON_CNN AND ISHANNOT_PY_NETS_SOURCES)
    file(GLOB ISHANNOT_PY_COMMON_SOURCES CONFIGURE_DEPENDS python/src/common_*.cpp)
    pybind11_add_module(ishannot_py_nets MODULE NO_EXTRAS ${ISHANNOT_PY_NETS_SOURCES}
                        ${ISHANNOT_PY_COMMON_SOURCES})
    set_target_properties(ishannot_py_nets PROPERTIES OUTPUT_NAME _nets LIBRARY_OUTPUT_DIRECTORY
                                                      ${ISHANNOT_PY_DIR})
    target_include_directories(ishannot_py_nets PRIVATE python/src src)
    target_link_libraries(ishannot_py_nets PRIVATE ishannot_nets)
    target_compile_options(ishannot_py_nets PRIVATE ${ISHANNOT_WARNINGS})
  endif()

  # The pure-Python layer, copied next to the extensions on every build.
  file(GLOB ISHANNOT_PY_FILES CONFIGURE_DEPENDS python/ishannot/*.py)
  add_custom_target(ishannot_python ALL
    COMMAND ${CMAKE_COMMAND} -E make_directory ${ISHANNOT_PY_DIR}
    COMMAND ${CMAKE_COMMAND} -E copy_if_different ${ISHANNOT_PY_FILES} ${ISHANNOT_PY_DIR}
    DEPENDS ${ISHANNOT_PY_FILES} COMMENT "Python package in ${ISHANNOT_PY_DIR}")
  add_dependencies(ishannot_python ishannot_py_core ishannot)
  if(TARGET ishannot_py_nets)
    add_dependencies(ishannot_python ishannot_py_nets)
  endif()
endif()

if(ISHANNOT_BUILD_TESTS)
  if(ISHANNOT_PYTHON)
    set(ISHANNOT_PY_ENV "PYTHONPATH=${CMAKE_BINARY_DIR}/python" "ISHANNOT_SOURCE_DIR=${CMAKE_SOURCE_DIR}"
                        "ISHANNOT_BINARY=$<TARGET_FILE:ishannot>" "MPLBACKEND=Agg")
    add_test(NAME python_api
             COMMAND ${Python3_EXECUTABLE} -m pytest -q -p no:cacheprovider ${CMAKE_SOURCE_DIR}/tests/python)
    set_tests_properties(python_api PROPERTIES ENVIRONMENT "${ISHANNOT_PY_ENV}")
    if(TARGET ishannot_py_nets)  # the worked example needs the CNN
      add_test(NAME python_example
               COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/examples/annotate_example.py
                       --out ${CMAKE_BINARY_DIR}/python-example)
      set_tests_properties(python_example PROPERTIES ENVIRONMENT "${ISHANNOT_PY_ENV}")
    endif()
  else()
    add_test(NAME python_api COMMAND ${CMAKE_COMMAND} -E echo
             "skipped: the Python module was not built (ISHANNOT_PYTHON=OFF: pybind11-dev missing or a sanitizer build)")
    set_tests_properties(python_api PROPERTIES SKIP_REGULAR_EXPRESSION "skipped:")
  endif()
endif()
