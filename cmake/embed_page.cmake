# The status page as one C++ string: src/http/page/index.html with every
# <!--@include NAME--> replaced by the file NAME beside it (styles and
# scripts kept in files of their own, served inline so that the page needs
# nothing but itself). Run with -DPAGE_DIR=... -DOUT=...; OUT is rewritten
# only when the page changed.
file(READ "${PAGE_DIR}/index.html" html)
string(REGEX MATCHALL "<!--@include [A-Za-z0-9_.-]+-->" includes "${html}")
foreach(inc IN LISTS includes)
  string(REGEX REPLACE "<!--@include ([A-Za-z0-9_.-]+)-->" "\\1" name "${inc}")
  if(NOT EXISTS "${PAGE_DIR}/${name}")
    message(FATAL_ERROR "${PAGE_DIR}/index.html includes ${name}, which does not exist")
  endif()
  file(READ "${PAGE_DIR}/${name}" body)
  string(REPLACE "${inc}" "${body}" html "${html}")
endforeach()
set(delim "avmonpage")
string(FIND "${html}" ")${delim}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "the status page contains the raw string's end ')${delim}\"'")
endif()
set(cpp "// Generated from src/http/page/ by cmake/embed_page.cmake: edit those files.\n")
string(APPEND cpp "#include \"http/server.hpp\"\n\nnamespace avmon {\n\n")
string(APPEND cpp "const std::string& status_page_html() {\n  static const std::string page = R\"${delim}(")
string(APPEND cpp "${html})${delim}\";\n  return page;\n}\n\n}  // namespace avmon\n")
file(WRITE "${OUT}.tmp" "${cpp}")
configure_file("${OUT}.tmp" "${OUT}" COPYONLY)
file(REMOVE "${OUT}.tmp")
