#!/bin/bash
# Steps per second of the full mixture-of-Gaussians protocol (baseline, top-k and core-set steps),
# gantry vs PyTorch CPU, measured back to back in the same run on 1 and 2 threads. Writes
# bench/results/mog_steps_cpu.{json,md}. gantry and PyTorch alternate for ROUNDS rounds (default 3) so
# both see the same background load; each figure is the median over rounds.
# DEVICE=cuda measures both on the GPU instead (eager PyTorch; gantry's eager step), one thread, and
# writes bench/results/mog_steps_cuda.{json,md}; RESULTS_DIR overrides the folder.
# CALLGRIND=1 (CPU) also counts the instructions of one training step of each method on one thread
# (valgrind callgrind over GanTrainer::step, CALLGRIND_STEPS=20 steps after a start-up that is not
# counted, divided by the step count): a second figure that does not depend on the machine's load
# (about 9 minutes per method under valgrind on the 2-core AMD EPYC).
#   [ROUNDS=3] [STEPS=600] [DEVICE=cpu|cuda] [RESULTS_DIR=dir] [CALLGRIND=1] bench/run_mog_bench.sh [build-dir]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
steps="${STEPS:-600}"
device="${DEVICE:-cpu}"
results="${RESULTS_DIR:-$root/bench/results}"
python="${PYTHON:-/usr/bin/python3}"  # an interpreter with torch (Debian's python3-torch here)
thread_counts="1 2"
[ "$device" = cpu ] || thread_counts="1"
gantry="$build/gantry"
[ -x "$gantry" ] || { echo "run_mog_bench: $gantry not found; build first (scripts/build.sh)" >&2; exit 1; }
fma_peak="$build/bench/fma_peak"
if [ "$device" = cpu ]; then
  cmake --build "$build" --target fma_peak >/dev/null || { echo "run_mog_bench: cannot build the fma_peak benchmark in $build" >&2; exit 1; }
fi
"$python" -c "import torch" 2>/dev/null || { echo "run_mog_bench: needs Debian's python3-torch (GANTRY_WITH_TORCH=1 scripts/setup-deps.sh)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
records=""
ceilings=""  # per thread count: the steps/s that the step's matrix products alone allow (bench/gemm_ceiling.py)
peaks=""     # per thread count: the CPU's measured fp32 FMA peak in GFLOP/s (bench/fma_peak.cpp)
for round in $(seq "${ROUNDS:-3}"); do
  for threads in $thread_counts; do
    for method in baseline topk coreset; do
      flags=()
      case "$method" in
        topk) flags=(--topk --nu 0.75 --gamma 0.5 --decay-every 1) ;;  # k at its floor: the costliest top-k step
        coreset) flags=(--coreset-prior --coreset-data) ;;
      esac
      OPENBLAS_NUM_THREADS=$threads "$gantry" mog train --quiet --steps "$steps" --threads "$threads" --device "$device" \
        --eval-samples 1000 --checkpoint-every 0 --log-every 0 "${flags[@]}" --out "$tmp/$method-$threads" >/dev/null
      g=$("$python" -c "import json,sys; print(json.load(open(sys.argv[1]))['steps_per_second'])" "$tmp/$method-$threads/metrics.json")
      t=$(OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$python" "$root/bench/mog_steps_torch.py" \
            --threads "$threads" --steps "$steps" --method "$method" --device "$device" | "$python" -c "import json,sys; print(json.load(sys.stdin)['steps_per_s'])")
      records+="$round $threads $method $g $t"$'\n'
    done
    if [ "$device" = cpu ]; then
      c=$(OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads "$python" "$root/bench/gemm_ceiling.py" --threads "$threads" \
            | "$python" -c "import json,sys; print(json.load(sys.stdin)['ceiling_steps_per_s'])")
      ceilings+="$threads $c"$'\n'
      peak_json=$("$fma_peak" --threads "$threads")
      p=$(printf '%s' "$peak_json" | "$python" -c "import json,sys; print(json.load(sys.stdin)['fma_peak_gflops'])")
      peaks+="$threads $p"$'\n'
      peak_isa=$(printf '%s' "$peak_json" | "$python" -c "import json,sys; j=json.load(sys.stdin); print(j['isa'], j['avx512_bf16_gflops'])")
    fi
  done
done
instructions=""  # per method: instructions per step (callgrind)
if [ "${CALLGRIND:-0}" = 1 ] && [ "$device" = cpu ]; then
  csteps="${CALLGRIND_STEPS:-20}"
  for method in baseline topk coreset; do
    flags=()
    case "$method" in
      topk) flags=(--topk --nu 0.75 --gamma 0.5 --decay-every 1) ;;
      coreset) flags=(--coreset-prior --coreset-data) ;;
    esac
    ir=$(OPENBLAS_NUM_THREADS=1 "$root/bench/callgrind_count.sh" 'gantry::train::GanTrainer::step()' "$gantry" mog train \
           --quiet --steps "$csteps" --threads 1 --eval-samples 100 --checkpoint-every 0 --log-every 0 "${flags[@]}" \
           --out "$tmp/callgrind-$method")
    instructions+="$method $((ir / csteps))"$'\n'
  done
fi
mkdir -p "$results"
PEAK_ISA="${peak_isa:-avx2 None}" INSTRUCTIONS="$instructions" RECORDS="$records" CEILINGS="$ceilings" PEAKS="$peaks" ROOT="$root" STEPS="$steps" DEVICE="$device" RESULTS="$results" "$python" - <<'PY'
import datetime, json, os, statistics, subprocess, sys
import torch

sys.path.insert(0, os.path.join(os.environ["ROOT"], "bench"))
from gemm_ceiling import step_flops

root = os.environ["ROOT"]
cells = {}
for line in os.environ["RECORDS"].split("\n"):
    if not line.strip():
        continue
    _, threads, method, g, t = line.split()
    cells.setdefault((int(threads), method), []).append((float(g), float(t)))
def per_thread_medians(text):
    """'threads value' lines -> {threads: median value}."""
    values = {}
    for line in text.split("\n"):
        if line.strip():
            threads, v = line.split()
            values.setdefault(int(threads), []).append(float(v))
    return {t: statistics.median(v) for t, v in values.items()}


ceilings = per_thread_medians(os.environ["CEILINGS"])
instructions = dict((m, int(v)) for m, v in (l.split() for l in os.environ["INSTRUCTIONS"].split("\n") if l.strip()))
peaks = per_thread_medians(os.environ["PEAKS"])
step_gflop = step_flops() / 1e9
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
rows = []
for (threads, method), vals in sorted(cells.items()):
    g = statistics.median(v[0] for v in vals)
    t = statistics.median(v[1] for v in vals)
    rows.append({"threads": threads, "method": method, "gantry_steps_per_s": g, "torch_steps_per_s": t,
                 "ratio_gantry_over_torch": g / t, "rounds": [list(v) for v in vals]})
    if threads in ceilings:
        c = ceilings[threads]
        rows[-1].update({"gemm_ceiling_steps_per_s": c, "ratio_ceiling_over_torch": c / t})
    if threads == 1 and method in instructions:
        rows[-1]["gantry_instructions_per_step"] = instructions[method]
    if threads in peaks:
        h = peaks[threads] / step_gflop
        rows[-1].update({"fma_peak_gflops": peaks[threads], "hardware_ceiling_steps_per_s": h,
                         "ratio_hardware_ceiling_over_torch": h / t})
# PyTorch's best thread count per method as a second reference: on some machines PyTorch slows down on
# more threads, which inflates a same-thread ratio.
best_torch = {}
for r in rows:
    if r["torch_steps_per_s"] > best_torch.get(r["method"], (0, 0))[0]:
        best_torch[r["method"]] = (r["torch_steps_per_s"], r["threads"])
for r in rows:
    b, bt = best_torch[r["method"]]
    r.update({"torch_best_steps_per_s": b, "torch_best_threads": bt, "ratio_gantry_over_torch_best": r["gantry_steps_per_s"] / b})
out = {"benchmark": "MoG protocol training steps/s (G 2-256-256-256-2, D 2-256-256-256-1, batch 256, Adam, NS loss)",
       "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "cpu": cpu,
       "logical_cpus": os.cpu_count(), "commit": commit, "torch": torch.__version__, "steps": int(os.environ["STEPS"]),
       "load_average_1min": os.getloadavg()[0], "rows": rows,
       "note": "median over alternating rounds; gantry's figure is its trainer's own steps/s (training loop only), "
               "PyTorch's the reference script bench/mog_steps_torch.py; a load average above the core count means "
               "other work shared the CPUs"}
kind = os.environ["DEVICE"].split(":")[0]
out["device"] = os.environ["DEVICE"]
if kind == "cuda":
    out["gpu"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "?"
results = os.environ["RESULTS"]
json.dump(out, open(os.path.join(results, f"mog_steps_{kind}.json"), "w"), indent=2)
lines = [f"# Mixture-of-Gaussians training speed on {kind.upper()} (gantry vs PyTorch)", "",
         f"{out['benchmark']}. Date {out['date']}, device {out['device']} {out.get('gpu', '')}, CPU {cpu} ({out['logical_cpus']} logical), commit {commit}, "
         f"torch {out['torch']}, {out['steps']} steps per measurement, 1-min load average {out['load_average_1min']:.2f}.", "",
         "| threads | method | gantry steps/s | PyTorch steps/s | gantry / PyTorch | gantry / PyTorch at its best thread count "
         "| GEMM ceiling steps/s | ceiling / PyTorch | hardware ceiling steps/s | hardware ceiling / PyTorch |",
         "|---|---|---|---|---|---|---|---|---|---|"]
fmt = lambda r, key, spec: format(r[key], spec) if key in r else "-"
lines += [f"| {r['threads']} | {r['method']} | {r['gantry_steps_per_s']:.1f} | {r['torch_steps_per_s']:.1f} | {r['ratio_gantry_over_torch']:.2f} "
          f"| {r['ratio_gantry_over_torch_best']:.2f} ({r['torch_best_threads']} thread{'s' if r['torch_best_threads'] > 1 else ''}) "
          f"| {fmt(r, 'gemm_ceiling_steps_per_s', '.1f')} | {fmt(r, 'ratio_ceiling_over_torch', '.2f')} "
          f"| {fmt(r, 'hardware_ceiling_steps_per_s', '.1f')} | {fmt(r, 'ratio_hardware_ceiling_over_torch', '.2f')} |" for r in rows]
lines += ["", out["note"] + "."]
if instructions:
    lines += ["", "Instructions per gantry step on one thread (valgrind callgrind over GanTrainer::step; independent of "
              "the machine's load, not of its CPU: OpenBLAS picks its kernels per CPU): "
              + ", ".join(f"{m} {v / 1e6:.1f} M" for m, v in instructions.items()) + "."]
if ceilings:
    lines += ["", "GEMM ceiling: the step's unavoidable matrix products (bench/gemm_ceiling.py counts them, "
              f"{step_flops() / 1e6:.0f} MFLOP a step) divided by the fp32 GEMM rate of the shared OpenBLAS at the step's 256x256x256 "
              "shapes, measured in the same run. No fp32 implementation of this algorithm on this BLAS runs a step "
              "faster; the ceiling over PyTorch bounds the speed-up any engine can reach here (top-k and core-set "
              "steps add selection work on top).",
              "", "Hardware ceiling: the same FLOP count divided by the CPU's fp32 arithmetic peak on that many threads, "
              "measured in the same run by bench/fma_peak.cpp (independent fused multiply-add chains of the widest fp32 "
              f"vector ISA of this CPU, {os.environ['PEAK_ISA'].split()[0]}: "
              + ", ".join(f"{peaks[t]:.1f} GFLOP/s on {t} thread{'s' if t > 1 else ''}" for t in sorted(peaks))
              + "). No fp32 implementation of this algorithm on this CPU, with any BLAS or hand-written kernel, runs a "
              "step faster; a speed-up over PyTorch above the hardware ceiling / PyTorch column cannot be reached."]
    bf16 = os.environ["PEAK_ISA"].split()[1]
    lines += ["", "BF16 dot-product peak (AVX512_BF16, last thread count measured): "
              + (f"{float(bf16):.1f} GFLOP/s." if bf16 != "None" else "this CPU has no AVX512_BF16.")]
open(os.path.join(results, f"mog_steps_{kind}.md"), "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
