#!/usr/bin/python3
"""Reads the JSON lines of bench/run_image_step_bench.sh (gantry and torch records, several rounds) and
writes bench/results/image_step_cpu.{json,md}: per case and batch the median over rounds of gantry's
and PyTorch's one-thread ms/step, the ratio, peak RSS, and PyTorch's fastest thread count."""
import datetime
import json
import os
import statistics
import subprocess


def main():
    root, results_dir, build = os.environ["ROOT"], os.environ["RESULTS"], os.environ["BUILD"]
    records = [json.loads(line) for line in open(os.environ["RECORDS"]) if line.strip()]
    by_key = {}
    torch_impl = next(r["impl"] for r in records if r["impl"].startswith("torch"))
    machine = next(r["machine"] for r in records if r["impl"] == "gantry")
    for rec in records:
        side = "gantry" if rec["impl"] == "gantry" else "torch"
        for res in rec["results"]:
            key = (res["case"], res["batch"])
            by_key.setdefault(key, {}).setdefault((side, rec["threads"]), []).append(res)
    rows = []
    for (case, batch), sides in by_key.items():
        g, t = sides[("gantry", 1)], sides[("torch", 1)]
        g_ms = statistics.median(r["median_ms"] for r in g)
        t_ms = statistics.median(r["median_ms"] for r in t)
        g_cpu = statistics.median(r["median_cpu_ms"] for r in g)
        t_cpu = statistics.median(r["median_cpu_ms"] for r in t)
        multi = {th: statistics.median(r["median_ms"] for r in rs) for (side, th), rs in sides.items() if side == "torch"}
        best_threads = min(multi, key=multi.get)
        rows.append({"case": case, "batch": batch, "gantry_ms": g_ms, "torch_ms": t_ms, "speedup_vs_torch": t_ms / g_ms,
                     "gantry_cpu_ms": g_cpu, "torch_cpu_ms": t_cpu, "cpu_time_speedup_vs_torch": t_cpu / g_cpu,
                     "gantry_round_medians_ms": [r["median_ms"] for r in g],
                     "torch_round_medians_ms": [r["median_ms"] for r in t],
                     "gantry_peak_rss_mib": max(r["peak_rss_mib"] for r in g),
                     "torch_peak_rss_mib": max(r["peak_rss_mib"] for r in t),
                     "torch_best_threads": best_threads, "torch_best_ms": multi[best_threads],
                     "description": next((r.get("description") for r in g if r.get("description")), case)})
    commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                           text=True).stdout.strip()
    version = subprocess.run([os.path.join(build, "gantry"), "--version"], capture_output=True, text=True).stdout
    ir = os.environ.get("CALLGRIND_IR", "")
    out = {"benchmark": "one GAN training step (critic on real + fake, generator; non-saturating; Adam), CPU, f32",
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "commit": commit + ("+changes" if dirty else ""), "machine": machine,
           "gantry_version": version.strip().replace("\n", "; "), "torch": torch_impl,
           "threads": 1, "rounds": int(os.environ["ROUNDS"]), "steps_per_round": records[0]["steps"],
           "warmup_steps": records[0]["warmup"], "load_average_1min": os.getloadavg()[0], "rows": rows,
           "callgrind_instructions_per_step_batch64": int(ir) // 2 if ir else None,
           "note": "ms/step is wall time, the median over rounds of each round's median; CPU ms/step the same for "
                   "the process's CPU time, which a shared, loaded machine inflates less; both sides pinned to one "
                   "core (taskset -c 0) with one thread; torch / gantry > 1 means gantry is faster; the best-threads "
                   "column is wall time"}
    os.makedirs(results_dir, exist_ok=True)
    json.dump(out, open(os.path.join(results_dir, "image_step_cpu.json"), "w"), indent=2)
    lines = ["# One GAN training step on one CPU thread (gantry vs PyTorch)", "",
             f"{out['benchmark']}. Date {out['date']}, commit {out['commit']}, {machine}, {torch_impl}, "
             f"{out['rounds']} alternating rounds x {out['steps_per_round']} steps after {out['warmup_steps']} "
             f"warm-up steps, 1-min load average {out['load_average_1min']:.2f}.", "",
             "| case | batch | gantry ms/step | torch ms/step | torch / gantry | gantry CPU ms/step "
             "| torch CPU ms/step | torch / gantry (CPU time) | gantry peak RSS MiB | torch peak RSS MiB "
             "| torch best (threads) ms/step |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['batch']} | {r['gantry_ms']:.1f} | {r['torch_ms']:.1f} | "
                     f"{r['speedup_vs_torch']:.2f}x | {r['gantry_cpu_ms']:.1f} | {r['torch_cpu_ms']:.1f} | "
                     f"{r['cpu_time_speedup_vs_torch']:.2f}x | {r['gantry_peak_rss_mib']:.0f} | "
                     f"{r['torch_peak_rss_mib']:.0f} | {r['torch_best_ms']:.1f} ({r['torch_best_threads']}) |")
    if ir:
        lines += ["", f"valgrind callgrind: {int(ir) // 2:,} instructions per gantry step (dcgan32, batch 64; "
                      "GanTrainer::step only, mean of a warm-up and a counted step)."]
    lines += ["", out["note"] + "."]
    text = "\n".join(lines) + "\n"
    open(os.path.join(results_dir, "image_step_cpu.md"), "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
