# cmake -DREADME=<README.md> -DOUTPUT=<file.cpp> -P extract_examples.cmake
#
# Writes README's ```cpp blocks into one C++ file, so that the build compiles every example and a README
# edit that breaks one breaks the build. CMake itself runs this: no dependency beside the build's own.
#
# The line before a block's fence may say how the block is compiled (an HTML comment, invisible on GitHub):
#   <!-- compiled as: statements -->   the default: statements inside a handler, in a coroutine of
#                                       their own whose parameters are the names the fragments assume
#                                       (app, ctx, redis, id ...: tests/readme/prelude.hpp)
#   <!-- compiled as: file -->         a whole file or top-level code, in a namespace of its own (so two
#                                       blocks' add_routes or main do not collide: a main in a namespace
#                                       is an ordinary function)
#   <!-- compiled as: main -->         the body of main(argc, argv)
#   <!-- compiled as: skipped: why --> not compiled; only where compiling is truly impossible
# Every #include line is hoisted to the top of the file; a block's other lines stay where they are (the
# test example's CATCH_CONFIG_MAIN, defined once catch.hpp is included, does nothing: the executable
# links the project's Catch main).
# Each block is headed by a comment naming it (its number and the README section it is in), not by
# #line directives: the file then changes only when an example does, and an edit of README's prose
# (which every change to the project makes) recompiles nothing.
cmake_minimum_required(VERSION 3.22)

if(NOT README OR NOT OUTPUT)
  message(FATAL_ERROR "usage: cmake -DREADME=<README.md> -DOUTPUT=<file.cpp> -P extract_examples.cmake")
endif()
file(READ "${README}" text)

set(includes "")
set(bodies "")
set(count 0)
set(consumed_lines 1)  # README's line number where `text` starts
while(TRUE)
  string(FIND "${text}" "\n```cpp\n" fence)
  if(fence EQUAL -1)
    break()
  endif()
  math(EXPR count "${count} + 1")
  string(SUBSTRING "${text}" 0 ${fence} before)
  math(EXPR body_start "${fence} + 8")  # past "\n```cpp\n"
  string(SUBSTRING "${text}" ${body_start} -1 text)
  string(FIND "${text}" "\n```" body_end)
  if(body_end EQUAL -1)
    message(FATAL_ERROR "${README}: block ${count} has no closing fence")
  endif()
  math(EXPR body_end "${body_end} + 1")  # the block's last newline belongs to the block
  string(SUBSTRING "${text}" 0 ${body_end} body)
  math(EXPR rest "${body_end} + 4")  # past "```\n" (or "```" at the end of the file)
  string(SUBSTRING "${text}" ${rest} -1 text)

  # README's line of the block's first line of code: lines before the fence, the fence's, the fence.
  string(REGEX MATCHALL "\n" newlines "${before}")
  list(LENGTH newlines lines_before)
  math(EXPR first_line "${consumed_lines} + ${lines_before} + 2")
  string(REGEX MATCHALL "\n" newlines "${body}")
  list(LENGTH newlines body_lines)
  math(EXPR consumed_lines "${first_line} + ${body_lines} + 1")

  # The section the block is in: its heading, the last one before it.
  string(REGEX MATCHALL "\n##+ [^\n]*" headings "\n${before}")
  if(headings)
    list(GET headings -1 heading)
    string(STRIP "${heading}" heading)
  endif()

  set(kind "statements")
  if(before MATCHES "<!-- compiled as: ([^\n]*) -->[ \t]*$")
    set(kind "${CMAKE_MATCH_1}")
  endif()
  if(kind MATCHES "^skipped: ")
    string(APPEND bodies "\n// Block ${count}, in \"${heading}\": ${kind}\n")
    continue()
  endif()

  # #include lines go to the top (the file's first lines), each leaving an empty line.
  # Text throughout, never a CMake list: a line of C++ may hold a ';'.
  set(unread "\n${body}")
  while(unread MATCHES "\n(#[ \t]*include[^\n]*)(.*)$")
    set(line "${CMAKE_MATCH_1}")
    set(unread "${CMAKE_MATCH_2}")
    string(FIND "${includes}" "${line}\n" known)
    if(known EQUAL -1)
      string(APPEND includes "${line}\n")
    endif()
  endwhile()
  string(REGEX REPLACE "\n#[ \t]*include[^\n]*" "\n" body "\n${body}")
  string(SUBSTRING "${body}" 1 -1 body)

  set(name "readme_block_${count}")
  if(kind STREQUAL "file")
    # Outside namespace routemq, as a user's file is: it must name routemq:: itself.
    string(APPEND bodies "\n// Block ${count}, in \"${heading}\"\nnamespace ${name} {\n${body}}  // namespace ${name}\n")
  elseif(kind STREQUAL "statements")
    # The inner braces let a block declare a name that is also a parameter (its own `redis`).
    string(APPEND bodies "\n// Block ${count}, in \"${heading}\"\nnamespace readme_fragments {\n"
                         "routemq::awaitable<void> ${name}(README_FRAGMENT_PARAMETERS) {\n  {\n"
                         "${body}  }\n  co_return;\n}\n"
                         "}  // namespace readme_fragments\n")
  elseif(kind STREQUAL "main")
    string(APPEND bodies "\n// Block ${count}, in \"${heading}\"\nnamespace readme_fragments {\n"
                         "int ${name}(int argc, char** argv) {\n${body}}\n}  // namespace readme_fragments\n")
  else()
    message(FATAL_ERROR "${README}:${first_line}: block ${count}: unknown kind \"${kind}\" "
                        "(statements, file, main or skipped: <why>)")
  endif()
endwhile()
if(count EQUAL 0)
  message(FATAL_ERROR "${README}: no ```cpp block found")
endif()

set(content "// Generated from README.md by tests/readme/extract_examples.cmake: edit README.md, not this file.
// ${count} blocks. The test passes when this file compiled: nothing of the examples runs.
${includes}
#include <catch2/catch.hpp>

#include \"tests/readme/prelude.hpp\"  // the names the fragments use without defining them
${bodies}
TEST_CASE(\"the README's examples compiled\") { SUCCEED(); }
")
# Rewritten only when it changes: then only an edit of an example recompiles it.
set(previous "")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" previous)
endif()
if(NOT previous STREQUAL content)
  file(WRITE "${OUTPUT}" "${content}")
endif()
