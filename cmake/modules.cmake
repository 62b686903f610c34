# ishannot_add_module(NAME sources... [PUBLIC_DEPS deps...] [PRIVATE_DEPS deps...])
# One module = one shared library `ishannot_NAME` (alias ishannot::NAME):
#   - public headers from include/ (include/ishannot/NAME/), the generated version header,
#     module-private headers from src/ (PRIVATE: never seen by the module's users);
#   - linked with --no-undefined, so every symbol it uses must come from a declared dependency;
#   - our warnings (errors with ISHANNOT_WERROR), position-independent, installed and exported.
function(ishannot_add_module name)
  cmake_parse_arguments(ARG "" "" "PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  set(target ishannot_${name})
  add_library(${target} SHARED ${ARG_UNPARSED_ARGUMENTS})
  add_library(ishannot::${name} ALIAS ${target})
  target_include_directories(${target}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
           $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/generated>
           $<INSTALL_INTERFACE:include>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${target} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  target_compile_options(${target} PRIVATE ${ISHANNOT_WARNINGS})
  target_link_options(${target} PRIVATE -Wl,--no-undefined)
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name} VERSION ${PROJECT_VERSION}
                                             SOVERSION ${PROJECT_VERSION_MAJOR})
endfunction()
