#!/bin/bash
# How much of a Table-1 cell's spread is evaluation noise: re-evaluates every finished run of a grid
# folder on REPEATS independent sets of 10,000 samples (`gantry mog eval --repeats`) and sets, per
# (modes, method) cell, the spread over sample sets of one trained generator next to the spread over
# training seeds. Writes <grid>/eval-noise.{json,md}. Seconds of CPU: no training.
#   [REPEATS=10] bench/run_eval_noise.sh [grid-folder] [build-dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
grid="${1:-$root/bench/results/mog-table1}"
build="${2:-$root/build}"
repeats="${REPEATS:-10}"
gantry="$build/gantry"
[ -x "$gantry" ] || { echo "run_eval_noise: $gantry not found; build first (scripts/build.sh)" >&2; exit 1; }
[ -d "$grid" ] || { echo "run_eval_noise: no grid folder '$grid'" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
count=0
for run in "$grid"/m*_seed*; do
  [ -f "$run/metrics.json" ] || continue  # still training
  grep -q '"finished": true' "$run/metrics.json" || continue
  "$gantry" mog eval --run "$run" --repeats "$repeats" --json "$tmp/$(basename "$run").json" >/dev/null
  count=$((count + 1))
done
[ "$count" -gt 0 ] || { echo "run_eval_noise: no finished runs in '$grid'" >&2; exit 1; }
GRID="$grid" EVALS="$tmp" REPEATS="$repeats" python3 - <<'PY'
import glob, json, os, statistics

grid, evals, repeats = os.environ["GRID"], os.environ["EVALS"], int(os.environ["REPEATS"])
cells = {}
for path in sorted(glob.glob(os.path.join(evals, "*.json"))):
    e = json.load(open(path))
    cells.setdefault((e["modes"], e["method"]), []).append(e)

def sd(values):
    return statistics.stdev(values) if len(values) > 1 else None

rows = []
for (modes, method), runs in sorted(cells.items()):
    row = {"modes": modes, "method": method, "runs": len(runs)}
    for key in ("high_quality_percent", "modes_recovered_percent"):
        first_sets = [r["sets"][0][key] for r in runs]          # what metrics.json reports
        within = [r[key]["std"] for r in runs]                  # spread over sample sets, per run
        row[key] = {"eval_noise_std": statistics.mean(within),  # mean over runs
                    "seed_std": sd(first_sets),
                    "per_run_eval_std": within}
    # Modes that a run covers with only a handful of high-quality samples flip between recovered and
    # dropped from one sample set to the next.
    row["thin_modes"] = statistics.mean(
        sum(1 for c in r["sets"][0]["high_quality_per_mode"] if 0 < c < 10) for r in runs)
    rows.append(row)

out = {"grid": os.path.relpath(grid), "repeats": repeats, "samples": 10000, "rows": rows,
       "note": "eval_noise_std: std over the sample sets of one trained generator, averaged over the cell's runs; "
               "seed_std: std over training seeds of the default evaluation (metrics.json); thin_modes: modes with "
               "1-9 of 10,000 high-quality samples, averaged over runs"}
json.dump(out, open(os.path.join(grid, "eval-noise.json"), "w"), indent=2)
fmt = lambda v, d=1: "-" if v is None else f"{v:.{d}f}"
lines = ["# Evaluation noise of the Table-1 metrics", "",
         f"Every finished run of `{out['grid']}` re-evaluated on {repeats} independent sets of 10,000 samples "
         f"(`gantry mog eval --repeats {repeats}`; `bench/run_eval_noise.sh`). Eval noise: the std over sample sets "
         "of one trained generator, averaged over the cell's runs. Seed spread: the std over training seeds of the "
         "metrics each run wrote (metrics.json). Thin modes: modes a run covers with only 1-9 high-quality samples of "
         "10,000, averaged over the cell's runs; each of them can drop out of the next sample set.", "",
         "| modes | method | runs | HQ eval noise | HQ seed spread | modes eval noise | modes seed spread | thin modes |",
         "|---|---|---|---|---|---|---|---|"]
for r in rows:
    hq, md = r["high_quality_percent"], r["modes_recovered_percent"]
    lines.append(f"| {r['modes']} | {r['method']} | {r['runs']} | {fmt(hq['eval_noise_std'], 2)} | {fmt(hq['seed_std'])} "
                 f"| {fmt(md['eval_noise_std'])} | {fmt(md['seed_std'])} | {r['thin_modes']:.1f} |")
open(os.path.join(grid, "eval-noise.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
