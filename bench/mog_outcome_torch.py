#!/usr/bin/python3
"""PyTorch reference for the mixture-of-Gaussians protocol's outcome: trains the protocol of
mog_torch_protocol.py (baseline or top-k with its decay schedule) and prints the metrics gantry reports
(% high quality, % modes recovered, within-mode std on --eval-samples samples) as JSON, so gantry's
results can be told apart from the protocol's: an engine bug shows as a gap between the two.

    python3 bench/mog_outcome_torch.py --modes 25 --steps 100000 --seed 0
"""
import argparse
import json
import os
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--modes", type=int, default=25)
    ap.add_argument("--steps", type=int, default=100000)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--method", choices=["baseline", "topk", "coreset"], default="baseline")
    ap.add_argument("--gamma", type=float, default=0.99, help="top-k decay factor")
    ap.add_argument("--nu", type=float, default=0.75, help="top-k floor as a fraction of the batch")
    ap.add_argument("--decay-every", type=int, default=0,
                    help="top-k decay period in generator steps (default: steps * 2000 / 100000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-samples", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--progress-every", type=int, default=10000, help="steps between progress lines on stderr")
    args = ap.parse_args()
    side = round(args.modes ** 0.5)
    if args.modes < 1 or side * side != args.modes:
        ap.error(f"--modes must be a positive perfect square, got {args.modes}")
    if args.steps < 1 or args.batch < 1 or not 0 < args.gamma <= 1 or not 0 < args.nu <= 1:
        ap.error("--steps and --batch must be >= 1, --gamma and --nu in (0, 1]")
    decay_every = args.decay_every or max(1, args.steps * 2000 // 100000)
    # BLAS threads are fixed when the library loads: pin them before torch is imported.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    import torch
    from mog_torch_protocol import MogProtocol
    torch.set_num_threads(args.threads)
    proto = MogProtocol(modes=args.modes, batch=args.batch, lr=args.lr, coreset=args.method == "coreset",
                        seed=args.seed)
    k = float(args.batch)
    nu = max(1.0, float(int(args.nu * args.batch)))
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        proto.step(int(k) if args.method == "topk" else None)
        if step % decay_every == 0:
            k = max(args.gamma * k, nu)
        if args.progress_every and step % args.progress_every == 0:
            print(f"step {step}/{args.steps}, {step / (time.perf_counter() - t0):.1f} steps/s", file=sys.stderr)
    seconds = time.perf_counter() - t0
    result = {"impl": "pytorch", "torch": torch.__version__, "modes": args.modes, "method": args.method,
              "seed": args.seed, "steps": args.steps, "lr": args.lr, "batch": args.batch,
              "decay_every": decay_every, "train_seconds": seconds}
    result.update(proto.evaluate(args.eval_samples))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
