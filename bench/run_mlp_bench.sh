#!/bin/bash
# Runs the gantry and PyTorch MLP forward+backward benchmarks back to back on this machine and
# writes bench/results/mlp_fwd_bwd_cpu.{json,md} (date, CPU model, commit, ratio table).
# The two alternate for ROUNDS rounds (default 3) so both see the same background load; each
# reported time is the median over rounds of the per-round medians.
#   [ROUNDS=3] bench/run_mlp_bench.sh [build-dir] [extra args for both, e.g. --iters 300]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
shift || true
cmake --build "$build" --target mlp_bench >/dev/null
gantry_json=""
torch_json=""
for _ in $(seq "${ROUNDS:-3}"); do
  gantry_json+="$("$build/bench/mlp_bench" "$@")"$'\n'
  torch_json+="$(/usr/bin/python3 "$root/bench/mlp_bench.py" "$@")"$'\n'
done
mkdir -p "$root/bench/results"
GANTRY_JSON="$gantry_json" TORCH_JSON="$torch_json" ROOT="$root" /usr/bin/python3 - <<'PY'
import datetime, json, os, platform, statistics, subprocess


def merge_rounds(text):
    """One result per thread count: the median over rounds of each round's median."""
    runs = [json.loads(line) for line in text.splitlines() if line.strip()]
    merged = dict(runs[0], rounds=len(runs), results=[])
    for r0 in runs[0]["results"]:
        per_round = [next(r for r in run["results"] if r["threads"] == r0["threads"]) for run in runs]
        merged["results"].append({"threads": r0["threads"],
                                  "median_ms": statistics.median(r["median_ms"] for r in per_round),
                                  "round_medians_ms": [r["median_ms"] for r in per_round]})
    return merged


root = os.environ["ROOT"]
g, t = merge_rounds(os.environ["GANTRY_JSON"]), merge_rounds(os.environ["TORCH_JSON"])
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
rows = []
for gr in g["results"]:
    tr = next(r for r in t["results"] if r["threads"] == gr["threads"])
    rows.append({"threads": gr["threads"], "gantry_median_ms": gr["median_ms"], "torch_median_ms": tr["median_ms"],
                 "ratio_gantry_over_torch": gr["median_ms"] / tr["median_ms"],
                 "gantry_round_medians_ms": gr["round_medians_ms"], "torch_round_medians_ms": tr["round_medians_ms"]})
out = {"benchmark": "mlp forward+backward, 2-256-256-256-1 ReLU, batch 256, f32, CPU",
       "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "cpu": cpu,
       "logical_cpus": os.cpu_count(), "commit": commit, "torch": t["impl"], "iters": g["iters"], "rounds": g["rounds"], "rows": rows,
       "load_average_1min": os.getloadavg()[0],
       "note": "median of per-iteration wall time; both measured in the same run; a load average above the "
               "core count means other work shared the CPUs and multi-thread numbers are unreliable"}
json.dump(out, open(os.path.join(root, "bench/results/mlp_fwd_bwd_cpu.json"), "w"), indent=2)
lines = ["# MLP forward+backward on CPU (gantry vs PyTorch)", "",
         f"{out['benchmark']}. Date {out['date']}, CPU {cpu} ({out['logical_cpus']} logical), commit {commit}, {t['impl']}, {g['iters']} timed iterations x {g['rounds']} alternating rounds, 1-min load average {out['load_average_1min']:.2f}.", "",
         "| threads | gantry median ms | torch median ms | gantry / torch |", "|---|---|---|---|"]
lines += [f"| {r['threads']} | {r['gantry_median_ms']:.3f} | {r['torch_median_ms']:.3f} | {r['ratio_gantry_over_torch']:.2f} |" for r in rows]
lines += ["", out["note"] + "."]
open(os.path.join(root, "bench/results/mlp_fwd_bwd_cpu.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
