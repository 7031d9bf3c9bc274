#!/usr/bin/python3
"""PyTorch reference for the mixture-of-Gaussians protocol's training speed.

Times the pinned protocol of mog_torch_protocol.py (lr 1e-4, batch 256), optionally with top-k or
core-set sampling, and prints steps per second as JSON.
Use Debian's python3-torch with libopenblas0-pthread; pin threads with --threads.
"""
import argparse
import json
import time

import torch

from mog_torch_protocol import MogProtocol


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--modes", type=int, default=25)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--method", choices=["baseline", "topk", "coreset"], default="baseline")
    ap.add_argument("--device", default="cpu", help="cpu or cuda[:N] (eager PyTorch on that device)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    proto = MogProtocol(modes=args.modes, batch=args.batch, coreset=args.method == "coreset", device=args.device)
    k = args.batch * 0.75 if args.method == "topk" else None  # top-k at the schedule's floor: its costliest step

    def step():
        proto.step(k)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    for _ in range(args.warmup):
        step()
    sync()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    elapsed = time.perf_counter() - t0
    print(json.dumps({"impl": "pytorch", "torch": torch.__version__, "device": args.device, "threads": args.threads,
                      "method": args.method, "steps": args.steps, "seconds": elapsed,
                      "steps_per_s": args.steps / elapsed}))


if __name__ == "__main__":
    main()
