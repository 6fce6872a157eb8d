# vigil_embed_files(OUT_CC SYMBOL FILE [SYMBOL FILE ...])
#
# Generates OUT_CC at build time, defining each FILE's bytes as
# vigil::embedded::SYMBOL (const char[], NUL-terminated) and SYMBOLSize
# (std::size_t, without the NUL): web assets kept as real files in the tree
# and built into the binary. Declare them where used:
#   namespace vigil::embedded { extern const char SYMBOL[]; extern const std::size_t SYMBOLSize; }
set(VIGIL_EMBED_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/embed_files.cmake)
function(vigil_embed_files out_cc)
  set(args ${ARGN})
  list(LENGTH args n)
  math(EXPR odd "${n} % 2")
  if(n EQUAL 0 OR odd)
    message(FATAL_ERROR "vigil_embed_files: SYMBOL FILE pairs expected")
  endif()
  set(pairs "")
  set(files "")
  math(EXPR last "${n} - 1")
  foreach(i RANGE 0 ${last} 2)
    math(EXPR j "${i} + 1")
    list(GET args ${i} symbol)
    list(GET args ${j} file)
    get_filename_component(file "${file}" ABSOLUTE)
    list(APPEND files "${file}")
    if(pairs STREQUAL "")
      set(pairs "${symbol}=${file}")
    else()
      set(pairs "${pairs}|${symbol}=${file}")
    endif()
  endforeach()
  add_custom_command(
    OUTPUT ${out_cc}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out_cc} -DPAIRS=${pairs} -P ${VIGIL_EMBED_SCRIPT}
    DEPENDS ${files} ${VIGIL_EMBED_SCRIPT}
    COMMENT "Embedding ${files}"
    VERBATIM)
endfunction()
