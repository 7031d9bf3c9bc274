#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz, clang, ASan + UBSan, build dir build-fuzz) and runs each
# from a copy of its committed seed corpus (tests/fuzz/corpus/<harness>), which never grows here.
# Fails on any crash, hang (-timeout), leak, out-of-memory (-rss_limit_mb / -malloc_limit_mb) or
# sanitizer report; the input that did it is left in build-fuzz/fuzz-runs/<harness>/.
#
#   bash scripts/fuzz.sh                      # CI: every harness for 20 s
#   bash scripts/fuzz.sh --seconds 60         # longer
#   bash scripts/fuzz.sh --only fuzz_safetensors
#   bash scripts/fuzz.sh --campaign           # until 1,000,000 executions per harness (niced)
#   bash scripts/fuzz.sh --campaign --runs N --record bench/results/fuzz/FILE.json
#   bash scripts/fuzz.sh --build build-asan   # a build configured with -DGANTRY_FUZZ=ON (scripts/test.sh)
#
# Prints one line per harness: executions, exec/s, coverage (cov: edges, ft: features), corpus size
# and the result. --record writes those numbers as JSON (with the commit, CPU and clang version).
set -euo pipefail
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"

seconds=20
build=""
runs=0
campaign=0
only=""
record=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift ;;
    --runs) runs="$2"; shift ;;
    --campaign) campaign=1 ;;
    --only) only="$2"; shift ;;
    --record) record="$2"; shift ;;
    --build) build="$2"; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fuzz.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$campaign" = 1 ]; then
  [ "$runs" != 0 ] || runs=1000000
  seconds=0  # no time limit: stop at the execution count
fi

clangxx=$(command -v clang++ || command -v clang++-14 || true)
[ -n "$clangxx" ] || { echo "fuzz.sh: clang++ not found (scripts/setup-deps.sh installs clang)" >&2; exit 1; }
if [ -n "$build" ]; then
  grep -q '^GANTRY_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null ||
    { echo "fuzz.sh: --build $build is not a build configured with -DGANTRY_FUZZ=ON" >&2; exit 2; }
else
  build=build-fuzz
fi
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$clangxx" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DGANTRY_CUDA=OFF -DGANTRY_TESTS=OFF -DGANTRY_FUZZ=ON >/dev/null
fi
nice -n 10 cmake --build "$build" --target fuzz_harnesses -j"$(nproc)"

harnesses=()
for src in tests/fuzz/fuzz_*.cpp; do
  name=$(basename "$src" .cpp)
  if [ -z "$only" ] || [ "$only" = "$name" ]; then harnesses+=("$name"); fi
done
[ ${#harnesses[@]} -gt 0 ] || { echo "fuzz.sh: no harness named '$only' in tests/fuzz" >&2; exit 2; }

export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
work="$build/fuzz-runs"
[ "$campaign" = 1 ] && work="$build/fuzz-campaign"
failed=0
results=()
for h in "${harnesses[@]}"; do
  dir="$work/$h"
  rm -rf "$dir"
  mkdir -p "$dir/corpus"
  seeds="tests/fuzz/corpus/$h"
  [ -d "$seeds" ] && cp -r "$seeds/." "$dir/corpus/"
  args=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -detect_leaks=1 -print_final_stats=1
        -artifact_prefix="$dir/")
  cat tests/fuzz/dict/json.dict > "$dir/dict"
  [ -f "tests/fuzz/dict/$h.dict" ] && cat "tests/fuzz/dict/$h.dict" >> "$dir/dict"
  args+=(-dict="$dir/dict")
  [ "$seconds" != 0 ] && args+=(-max_total_time="$seconds")
  [ "$runs" != 0 ] && args+=(-runs="$runs")
  start=$(date +%s)
  set +e
  nice -n 10 "$build/tests/fuzz/$h" "${args[@]}" "$dir/corpus" >"$dir/log.txt" 2>&1
  rc=$?
  set -e
  wall=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log.txt" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log.txt" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$dir/log.txt" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$dir/log.txt" | tail -1 | cut -d' ' -f2)
  corpus=$(find "$dir/corpus" -type f | wc -l)
  if [ "$rc" = 0 ]; then
    result=ok
  else
    failed=1
    artifact=$(find "$dir" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \
      -o -name 'slow-unit-*' \) | head -1)
    result="FAILED (exit $rc${artifact:+, input $artifact}; log $dir/log.txt)"
  fi
  printf '%-28s %10s execs %8s exec/s  cov %5s  ft %6s  corpus %5s  %4ss  %s\n' "$h" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "$corpus" "$wall" "$result"
  results+=("{\"harness\": \"$h\", \"executions\": ${execs:-0}, \"exec_per_sec\": ${rate:-0}, \"cov\": ${cov:-0}, \"ft\": ${ft:-0}, \"corpus_files\": $corpus, \"seed_files\": $(find "$seeds" -type f 2>/dev/null | wc -l), \"seconds\": $wall, \"result\": \"${result%% *}\"}")
done

if [ -n "$record" ]; then
  mkdir -p "$(dirname "$record")"
  {
    echo "{"
    echo "  \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\","
    echo "  \"commit\": \"$(git rev-parse HEAD)$(git diff --quiet HEAD -- . || echo '+dirty')\","
    echo "  \"cpu\": \"$(lscpu | sed -n 's/^Model name: *//p' | head -1)\","
    echo "  \"cores\": $(nproc),"
    echo "  \"clang\": \"$("$clangxx" --version | head -1)\","
    echo "  \"flags\": \"-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -O1\","
    echo "  \"options\": \"-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -detect_leaks=1\","
    echo "  \"harnesses\": ["
    for i in "${!results[@]}"; do
      sep=","; [ "$i" = $(( ${#results[@]} - 1 )) ] && sep=""
      echo "    ${results[$i]}$sep"
    done
    echo "  ]"
    echo "}"
  } >"$record"
  echo "fuzz.sh: wrote $record"
fi
exit "$failed"
