# git_commit.cmake — writes git_commit.h with the current commit (and -dirty), only on change.
execute_process(COMMAND git -C "${SRC}" rev-parse --short=12 HEAD OUTPUT_VARIABLE c
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR c STREQUAL "")
  # No git checkout (a container build copies no .git): the commit the builder says, if any.
  if(NOT "$ENV{INITSCOPE_GIT_COMMIT}" STREQUAL "")
    set(c "$ENV{INITSCOPE_GIT_COMMIT}")
  else()
    set(c "unknown")
  endif()
else()
  execute_process(COMMAND git -C "${SRC}" status --porcelain --untracked-files=no
                  OUTPUT_VARIABLE dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT dirty STREQUAL "")
    set(c "${c}-dirty")
  endif()
endif()
set(text "// git_commit.h — generated at build time\n#pragma once\n#define INITSCOPE_GIT_COMMIT \"${c}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE "${OUT}" "${text}")
endif()
