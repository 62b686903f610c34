# Documentation checks run by ctest: README.md's commands (tests/docs/check_readme.py) checked
# against this build's --help, the cheap ones run as pasted from a folder outside the checkout.
if(ISHANNOT_BUILD_TESTS)
  add_test(NAME readme_commands
           COMMAND /usr/bin/python3 ${CMAKE_SOURCE_DIR}/tests/docs/check_readme.py
                   $<TARGET_FILE:ishannot>)
endif()
