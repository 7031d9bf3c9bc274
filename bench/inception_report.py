#!/usr/bin/python3
"""Reads the JSON lines of bench/run_inception_bench.sh (gantry and torch records, several rounds) and
writes bench/results/inception_speed_cpu.{json,md}: per batch and thread count the median over rounds
of gantry's and PyTorch's images/s (wall and CPU time), the ratios gantry / PyTorch, and gantry against
PyTorch's fastest thread count."""
import datetime
import json
import os
import statistics
import subprocess


def cpu_model():
    """lscpu's model name with its family and model numbers (a bare "AMD EPYC" names no generation)."""
    fields = dict(line.split(":", 1) for line in subprocess.run(["lscpu"], capture_output=True, text=True)
                  .stdout.splitlines() if ":" in line)
    get = lambda key: fields.get(key, "?").strip()  # noqa: E731
    return f"{get('Model name')} (family {get('CPU family')}, model {get('Model')})"


def git(root, *args):
    return subprocess.run(["git", "-C", root, *args], capture_output=True, text=True).stdout.strip()


def main():
    root, results_dir, build = os.environ["ROOT"], os.environ["RESULTS"], os.environ["BUILD"]
    records = [json.loads(line) for line in open(os.environ["RECORDS"]) if line.strip()]
    gantry_rec = next(r for r in records if r["impl"] == "gantry")
    torch_impl = next(r["impl"] for r in records if r["impl"].startswith("torch"))
    # (batch, threads) -> side -> the per-process results of every round
    cells = {}
    for rec in records:
        side = "gantry" if rec["impl"] == "gantry" else "torch_" + rec["variant"]
        for res in rec["results"]:
            cells.setdefault((res["batch"], rec["threads"]), {}).setdefault(side, []).append(res)

    def med(rs, key):
        return statistics.median(r[key] for r in rs)

    rows = []
    for (batch, threads), sides in sorted(cells.items()):
        row = {"batch": batch, "threads": threads}
        for side, rs in sides.items():
            row[side + "_images_per_s"] = med(rs, "images_per_s")
            row[side + "_cpu_images_per_s"] = med(rs, "cpu_images_per_s")
            row[side + "_round_images_per_s"] = [r["images_per_s"] for r in rs]
            row[side + "_peak_rss_mib"] = max(r["peak_rss_mib"] for r in rs)
        for variant in ("unfused", "folded"):
            row["ratio_vs_torch_" + variant] = row["gantry_images_per_s"] / row[f"torch_{variant}_images_per_s"]
            row["cpu_ratio_vs_torch_" + variant] = (row["gantry_cpu_images_per_s"] /
                                                    row[f"torch_{variant}_cpu_images_per_s"])
        rows.append(row)
    best = []
    for batch in sorted({r["batch"] for r in rows}):
        rs = [r for r in rows if r["batch"] == batch]
        g = max(rs, key=lambda r: r["gantry_images_per_s"])
        entry = {"batch": batch, "gantry_best_images_per_s": g["gantry_images_per_s"], "gantry_best_threads": g["threads"]}
        for variant in ("unfused", "folded"):
            t = max(rs, key=lambda r: r[f"torch_{variant}_images_per_s"])
            entry[f"torch_{variant}_best_images_per_s"] = t[f"torch_{variant}_images_per_s"]
            entry[f"torch_{variant}_best_threads"] = t["threads"]
            entry["ratio_vs_torch_" + variant + "_best"] = g["gantry_images_per_s"] / t[f"torch_{variant}_images_per_s"]
        best.append(entry)
    commit = git(root, "rev-parse", "--short", "HEAD")
    dirty = git(root, "status", "--porcelain", "--untracked-files=no")
    version = subprocess.run([os.path.join(build, "gantry"), "--version"], capture_output=True, text=True).stdout
    ir = os.environ.get("CALLGRIND_IR", "")
    out = {"benchmark": "FID Inception-v3 feature extraction (full network, random weights from "
                        "tests/data/fid_inception_random_legacy.pth, 32x32 images resized to 299x299 inside), CPU, f32",
           "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "commit": commit + ("+changes" if dirty else ""), "cpu": cpu_model(), "machine": gantry_rec["machine"],
           "gantry_version": version.strip().replace("\n", "; "), "torch": torch_impl,
           "command": os.environ.get("COMMAND", ""), "rounds": int(os.environ["ROUNDS"]),
           "repeats_per_round": gantry_rec["repeats"], "warmup_batches": gantry_rec["warmup"],
           "load_average_1min_start": float(os.environ.get("LOAD_START", "nan")),
           "load_average_1min_end": os.getloadavg()[0], "cores": os.cpu_count(), "rows": rows, "best_threads": best,
           "callgrind_instructions_per_image": int(ir) if ir else None,
           "note": "images/s is batch size over wall time per batch, the median over rounds of each process's median "
                   "over its timed batches; CPU images/s the same over the process's CPU time (all threads); each side "
                   "pinned to the first T cores with T threads (OpenBLAS / OpenMP / torch.set_num_threads); a ratio is "
                   "gantry / PyTorch, above 1 when gantry is faster; torch unfused = conv + BatchNorm + ReLU as "
                   "pytorch-fid runs it, torch folded = BatchNorm folded into the convolutions as gantry does"}
    os.makedirs(results_dir, exist_ok=True)
    json.dump(out, open(os.path.join(results_dir, "inception_speed_cpu.json"), "w"), indent=2)
    lines = ["# FID Inception-v3 feature extraction on the CPU (gantry vs PyTorch)", "",
             f"{out['benchmark']}. Date {out['date']}, commit {out['commit']}, CPU {out['cpu']}; {out['machine']}; "
             f"{torch_impl}, {out['rounds']} round(s) x {out['repeats_per_round']} timed batches after "
             f"{out['warmup_batches']} warm-up batch(es), 1-min load average {out['load_average_1min_start']:.2f} at the "
             f"start and {out['load_average_1min_end']:.2f} at the end on {out['cores']} logical CPUs.",
             "", f"Command: `{out['command']}`", "",
             "| batch | threads | gantry img/s | torch unfused img/s | torch folded img/s | gantry / unfused "
             "| gantry / folded | CPU-time ratio gantry / unfused | CPU-time ratio gantry / folded "
             "| peak RSS MiB gantry / unfused / folded |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['batch']} | {r['threads']} | {r['gantry_images_per_s']:.2f} | "
                     f"{r['torch_unfused_images_per_s']:.2f} | {r['torch_folded_images_per_s']:.2f} | "
                     f"{r['ratio_vs_torch_unfused']:.2f}x | {r['ratio_vs_torch_folded']:.2f}x | "
                     f"{r['cpu_ratio_vs_torch_unfused']:.2f}x | {r['cpu_ratio_vs_torch_folded']:.2f}x | "
                     f"{r['gantry_peak_rss_mib']:.0f} / {r['torch_unfused_peak_rss_mib']:.0f} / "
                     f"{r['torch_folded_peak_rss_mib']:.0f} |")
    lines += ["", "Against PyTorch's fastest thread count (each side at its own best):", "",
              "| batch | gantry best img/s (threads) | torch unfused best (threads) | torch folded best (threads) "
              "| gantry / unfused best | gantry / folded best |", "|---|---|---|---|---|---|"]
    for b in best:
        lines.append(f"| {b['batch']} | {b['gantry_best_images_per_s']:.2f} ({b['gantry_best_threads']}) | "
                     f"{b['torch_unfused_best_images_per_s']:.2f} ({b['torch_unfused_best_threads']}) | "
                     f"{b['torch_folded_best_images_per_s']:.2f} ({b['torch_folded_best_threads']}) | "
                     f"{b['ratio_vs_torch_unfused_best']:.2f}x | {b['ratio_vs_torch_folded_best']:.2f}x |")
    if ir:
        lines += ["", f"valgrind callgrind: {int(ir):,} instructions for one gantry forward pass of one image "
                      "(FidInceptionV3::features, batch 1, one thread)."]
    lines += ["", out["note"] + "."]
    text = "\n".join(lines) + "\n"
    open(os.path.join(results_dir, "inception_speed_cpu.md"), "w").write(text)
    print(text)


if __name__ == "__main__":
    main()
