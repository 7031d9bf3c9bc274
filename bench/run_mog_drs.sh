#!/bin/bash
# Discriminator rejection sampling (Azadi et al. 2018) against top-k on the pinned 25-mode protocol:
# trains the Table-1 grid's baseline and top-k runs again (seeds 0-2, 100k steps; on the same kind of CPU
# they are bit-identical to bench/results/mog-table1's, which keep no checkpoints), then re-evaluates
# each on 3 sample sets, the baselines with and without DRS (95th percentile; and after 1,000 more
# critic steps), into bench/results/mog-drs/summary.md. Resumable (the grid keeps finished runs), at the
# lowest CPU priority, one run at a time by default.
#   [JOBS=1] bench/run_mog_drs.sh [build-dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
[ -x "$build/gantry" ] || { echo "run_mog_drs: $build/gantry not found; build first (scripts/build.sh)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp "$build/gantry" "$tmp/gantry"
out="$root/bench/results/mog-drs"
cd "$root"
nice -n 19 "$tmp/gantry" mog grid --modes 25 --methods baseline,topk --seeds 3 --jobs "${JOBS:-1}" --steps 100000 \
  --progress-every 600 --out "$out"
for seed in 0 1 2; do
  for method in baseline topk; do
    run="$out/m25_${method}_seed$seed"
    nice -n 19 "$tmp/gantry" mog eval --run "$run" --repeats 3 --json "$run/eval.json" >/dev/null
  done
  run="$out/m25_baseline_seed$seed"
  nice -n 19 "$tmp/gantry" mog eval --run "$run" --repeats 3 --drs --json "$run/drs.json" >/dev/null
  nice -n 19 "$tmp/gantry" mog eval --run "$run" --repeats 3 --drs --drs-critic-steps 1000 --json "$run/drs-keep-training.json" >/dev/null
done
OUT="$out" /usr/bin/python3 - <<'PY'
import json, os, statistics
out = os.environ["OUT"]
rows = []
def cell(name, files, key=None):
    values = {"hq": [], "rec": [], "asg": [], "acc": []}
    for f in files:
        j = json.load(open(f))
        sets = j["rejection_sampling"]["sets"] if key else j["sets"]
        for s in sets:
            values["hq"].append(s["high_quality_percent"])
            values["rec"].append(s["modes_recovered_percent"])
            values["asg"].append(s["modes_assigned_percent"])
            values["acc"].append(100 * s["acceptance_rate"] if key else 100.0)
    pm = lambda v: f"{statistics.mean(v):.1f} +- {statistics.stdev(v):.1f}" if len(v) > 1 else f"{v[0]:.1f}"
    rows.append(f"| {name} | {pm(values['hq'])} | {pm(values['rec'])} | {pm(values['asg'])} | {pm(values['acc'])} | {len(values['hq'])} |")
seeds = [0, 1, 2]
cell("baseline", [f"{out}/m25_baseline_seed{s}/eval.json" for s in seeds])
cell("baseline + DRS", [f"{out}/m25_baseline_seed{s}/drs.json" for s in seeds], "drs")
cell("baseline + DRS after 1,000 critic steps", [f"{out}/m25_baseline_seed{s}/drs-keep-training.json" for s in seeds], "drs")
cell("top-k", [f"{out}/m25_topk_seed{s}/eval.json" for s in seeds])
text = ["# DRS vs top-k on the pinned 25-mode protocol", "",
        "Written by `bench/run_mog_drs.sh`: 100k-step runs, seeds 0-2, each evaluated on 3 sample sets of 10,000",
        "(eval seeds s, s+1, s+2); mean +- std over the 9 sets. DRS: gamma per batch at the 95th percentile.", "",
        "| generator | % high quality | % modes recovered (HQ sample) | % modes assigned (any sample) | % proposals accepted | sets |",
        "|---|---|---|---|---|---|"] + rows
open(f"{out}/summary-drs.md", "w").write("\n".join(text) + "\n")
print("\n".join(text))
PY
