#!/usr/bin/python3
"""PyTorch twin of bench/mlp_bench.cpp: forward + backward of the 2-256-256-256-1 ReLU MLP at batch
256 (f32, CPU) on 1 and 2 threads; prints one JSON object with median milliseconds per iteration.
Run with Debian's /usr/bin/python3 (python3-torch on libopenblas0-pthread)."""
import argparse
import json
import statistics
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--threads", default="1,2")
    args = ap.parse_args()

    torch.manual_seed(0)
    hidden = 256
    net = torch.nn.Sequential(torch.nn.Linear(2, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, hidden),
                              torch.nn.ReLU(), torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
                              torch.nn.Linear(hidden, 1))
    x = torch.randn(256, 2)
    results = []
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        times = []
        for it in range(args.warmup + args.iters):
            t0 = time.perf_counter()
            net.zero_grad(set_to_none=True)
            net(x).mean().backward()
            t1 = time.perf_counter()
            if it >= args.warmup:
                times.append((t1 - t0) * 1e3)
        results.append({"threads": threads, "median_ms": statistics.median(times), "min_ms": min(times)})
    print(json.dumps({"impl": "torch " + torch.__version__, "model": "mlp 2-256-256-256-1 relu", "batch": 256,
                      "iters": args.iters, "results": results}))


if __name__ == "__main__":
    main()
