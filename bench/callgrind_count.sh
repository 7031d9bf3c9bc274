#!/bin/bash
# Instructions executed inside one function, counted by valgrind's callgrind: a figure that does not
# depend on the machine's load, so a change's effect on a step shows without wall-clock noise (it is
# not a time: caches, branch prediction and vector width weigh differently). Prints the count (Ir) on
# stdout; the command's own output is discarded.
#   bench/callgrind_count.sh 'gantry::train::GanTrainer::step()' COMMAND [ARGS...]
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: callgrind_count.sh FUNCTION COMMAND [ARGS...]" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "callgrind_count: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
function="$1"
shift
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect="$function" "$@" >/dev/null 2>&1 ||
  { echo "callgrind_count: '$*' failed under valgrind" >&2; exit 1; }
ir="$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')"
[ -n "$ir" ] && [ "$ir" != 0 ] || { echo "callgrind_count: no instructions counted inside $function" >&2; exit 1; }
echo "$ir"
