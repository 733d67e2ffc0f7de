# run_fuzz.cmake — a fuzz test (tests/fuzz/CMakeLists.txt): runs the libFuzzer binary FUZZER for SECONDS
# over a fresh copy of CORPUS and REGRESSIONS in WORK, with the dictionary DICT (optional). SEEDS=1:
# the harness writes its own seed inputs into the corpus first (INITSCOPE_FUZZ_SEEDS). MAX_LEN: the
# longest input (optional; libFuzzer's default follows the corpus).
# Fails on any finding; the failing input is left under WORK/ (crash-*, timeout-*, oom-*, leak-*).
foreach(v FUZZER CORPUS REGRESSIONS WORK SECONDS)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_fuzz.cmake: -D${v}=... missing")
  endif()
endforeach()
file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/corpus" "${WORK}/regressions")
file(GLOB seeds "${CORPUS}/*")
file(GLOB regressions "${REGRESSIONS}/*.input")
if(seeds)
  file(COPY ${seeds} DESTINATION "${WORK}/corpus")
endif()
if(regressions)
  file(COPY ${regressions} DESTINATION "${WORK}/regressions")
endif()
set(options)
if(DEFINED DICT AND NOT DICT STREQUAL "")
  list(APPEND options -dict=${DICT})
endif()
if(DEFINED MAX_LEN AND NOT MAX_LEN STREQUAL "")
  list(APPEND options -max_len=${MAX_LEN})
endif()
if(SEEDS)
  set(ENV{INITSCOPE_FUZZ_SEEDS} "${WORK}/corpus")
endif()
# -timeout: an input running 5 s is a hang. -rss_limit_mb: libFuzzer's default, stated.
# New inputs go to WORK/corpus (the first folder); the regressions are read only.
execute_process(
  COMMAND "${FUZZER}" -max_total_time=${SECONDS} -timeout=5 -rss_limit_mb=2048 ${options}
          -artifact_prefix=${WORK}/ -print_final_stats=1 "${WORK}/corpus" "${WORK}/regressions"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  get_filename_component(name "${FUZZER}" NAME)
  file(GLOB found "${WORK}/crash-*" "${WORK}/timeout-*" "${WORK}/oom-*" "${WORK}/leak-*" "${WORK}/slow-unit-*")
  message(FATAL_ERROR "${name}: the fuzzer failed (exit ${rc}); input(s): ${found}\n"
                      "reproduce: ${FUZZER} <input>; minimize: ${FUZZER} -minimize_crash=1 -runs=10000 <input>")
endif()
