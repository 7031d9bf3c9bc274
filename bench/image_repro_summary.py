#!/usr/bin/python3
"""Summarises bench/run_image_repro_cpu.sh: for each cell, the mean, sample standard deviation and
number of seeds of the final FD_mixed_6e (lower is better) of the finished runs, next to the papers'
FID-50k values for the same comparison. Writes <folder>/summary.md and summary.json and prints the table.
The numbers are feature distances at a CPU budget, not FIDs: compare the directions, not the values."""
import json
import os
import re
import statistics
import sys

# (cell, table, what, the paper's FID-50k)
CELLS = [
    ("t3_dcgan_baseline", "top-k Table 3", "DCGAN", 38.09),
    ("t3_dcgan_topk", "top-k Table 3", "DCGAN + top-k", 35.62),
    ("t3_wgan-gp_baseline", "top-k Table 3", "WGAN-GP", 31.80),
    ("t3_wgan-gp_topk", "top-k Table 3", "WGAN-GP + top-k", 29.83),
    ("t3_sngan_baseline", "top-k Table 3", "SNGAN", 21.36),
    ("t3_sngan_topk", "top-k Table 3", "SNGAN + top-k", 19.80),
    ("sg_sngan_b128", "Small-GAN Table 3", "SNGAN, batch 128", 18.75),
    ("sg_sngan_coreset_b128", "Small-GAN Table 3", "Small-GAN (core-sets), batch 128", 16.73),
    ("sg_sngan_b256", "Small-GAN Table 3", "SNGAN, batch 256", 17.9),
    ("ab_D_prior_only_b128", "Small-GAN Table 6", "D: core-set on the prior only, batch 128", 17.88),
    ("ab_E_data_only_b128", "Small-GAN Table 6", "E: core-set on the data only, batch 128", 17.45),
]


def runs_of(folder):
    by_cell = {}
    for name in sorted(os.listdir(folder)):
        m = re.fullmatch(r"(.+)_seed(\d+)", name)
        path = os.path.join(folder, name, "metrics.json")
        if not m or not os.path.isfile(path):
            continue
        with open(path) as f:
            metrics = json.load(f)
        evaluation = metrics.get("evaluation") or {}
        last = evaluation.get("last") or {}
        if not metrics.get("finished") or "value" not in last:
            continue
        by_cell.setdefault(m.group(1), []).append(
            {"seed": int(m.group(2)), "value": last["value"], "metric": evaluation.get("metric"),
             "steps_per_second": metrics.get("steps_per_second")})
    return by_cell


def main():
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "results",
                                                                 "image-repro-cpu")
    by_cell = runs_of(folder)
    rows = []
    for cell, table, what, paper in CELLS:
        runs = by_cell.get(cell, [])
        values = [r["value"] for r in runs]
        rows.append({"cell": cell, "table": table, "what": what, "paper_fid50k": paper, "seeds": len(values),
                     "values": values, "mean": statistics.mean(values) if values else None,
                     "std": statistics.stdev(values) if len(values) > 1 else None,
                     "metric": runs[0]["metric"] if runs else None})
    lines = ["| table | run | paper FID-50k | FD_mixed_6e here (mean ± std) | seeds | per seed |",
             "|---|---|---:|---:|---:|---|"]
    for r in rows:
        here = "—" if r["mean"] is None else (
            f"{r['mean']:.3f}" + (f" ± {r['std']:.3f}" if r["std"] is not None else ""))
        per_seed = ", ".join(f"{v:.3f}" for v in r["values"])
        lines.append(f"| {r['table']} | {r['what']} | {r['paper_fid50k']} | {here} | {r['seeds']} | {per_seed} |")
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(folder, "summary.md"), "w") as f:
        f.write("# Image tables at a CPU budget\n\nWritten by bench/image_repro_summary.py from the finished runs "
                "of bench/run_image_repro_cpu.sh. FD_mixed_6e is a Fréchet distance on average-pooled Mixed_6e "
                "features of the FID Inception (lower is better), NOT FID: compare directions within a table, "
                "not values with the papers' FID-50k.\n\n" + table + "\n")
    with open(os.path.join(folder, "summary.json"), "w") as f:
        json.dump(rows, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
