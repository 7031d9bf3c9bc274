#!/bin/sh
# eval_reproduces_metrics.sh GANTRY RUN_DIR OUT_JSON: `gantry mog eval` of a finished run, with its
# default eval seed, must write the very metrics the run's final evaluation wrote to metrics.json.
# Both files are written by the same JSON printer, so equal values give equal "key": value lines.
gantry="$1" run="$2" out="$3"
"$gantry" mog eval --run "$run" --json "$out" || { echo "FAIL: mog eval exited non-zero"; exit 1; }
# The metric lines with a plain number as value (top-level mean/std objects and lists are skipped).
metric_lines() { grep -E '^ *"(high_quality_percent|high_quality_samples|modes_recovered|modes_recovered_percent|within_mode_std)": [0-9.e+-]+,?$' "$1" | sed 's/^ *//; s/,$//' | sort; }
expected=$(metric_lines "$run/metrics.json")
actual=$(metric_lines "$out")
[ "$(printf '%s\n' "$expected" | wc -l)" -eq 5 ] || { echo "FAIL: metrics.json has no single final evaluation:"; printf '%s\n' "$expected"; exit 1; }
if [ "$expected" != "$actual" ]; then
  echo "FAIL: re-evaluation differs from metrics.json"; echo "metrics.json:"; printf '%s\n' "$expected"; echo "mog eval:"; printf '%s\n' "$actual"; exit 1
fi
printf '%s\n' "$actual"
echo "re-evaluation matches metrics.json"
