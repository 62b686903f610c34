# Sharing what ishannot learns (issue 25, docs/SHARING.md): the ontology module (OBO parsing, BDGP
# term -> FBbt id resolution, term_id columns, propagation) and the ONNX writer (the annotator as
# one graph, the bioimage.io package). Both torch-free: part of ishannot_core; their tests join
# ishannot_core_tests. The network side of export (src/nets/onnx_export.cpp) is in ishannot_nets
# through its own glob.
file(GLOB ISHANNOT_SHARING_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/ontology/*.cpp
     ${CMAKE_SOURCE_DIR}/src/onnx/*.cpp)
target_sources(ishannot_core PRIVATE ${ISHANNOT_SHARING_SOURCES})
if(ISHANNOT_BUILD_TESTS)
  file(GLOB ISHANNOT_SHARING_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/ontology/*.cpp
       ${CMAKE_SOURCE_DIR}/tests/onnx/*.cpp)
  target_sources(ishannot_core_tests PRIVATE ${ISHANNOT_SHARING_TESTS})
endif()
