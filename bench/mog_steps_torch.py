#!/usr/bin/python3
"""PyTorch reference for the mixture-of-Gaussians protocol's training speed.

Runs the pinned protocol (G: 2-256-256-256-2, D: 2-256-256-256-1, ReLU, non-saturating loss,
Adam lr 1e-4 betas (0.5, 0.999), batch 256, one critic step per generator step) written the way a
careful PyTorch user would (no_grad fakes for the critic, critic frozen during the generator step,
grads set to None), optionally with top-k or core-set sampling, and prints steps per second as JSON.
Use Debian's python3-torch with libopenblas0-pthread; pin threads with --threads.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp(inp, out, hidden=256):
    return nn.Sequential(nn.Linear(inp, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, out))


def mode_centres(m):
    side = int(round(m ** 0.5))
    coords = [2.0 * (i - (side - 1) / 2.0) for i in range(side)]
    return torch.tensor([[x, y] for x in coords for y in coords])


def greedy_kcenter(points, k, gen):
    n = points.shape[0]
    first = int(torch.randint(n, (1,), generator=gen, device=points.device))
    chosen = [first]
    min_d = ((points - points[first]) ** 2).sum(1)
    for _ in range(k - 1):
        nxt = int(torch.argmax(min_d))
        chosen.append(nxt)
        min_d = torch.minimum(min_d, ((points - points[nxt]) ** 2).sum(1))
    return torch.tensor(chosen, device=points.device)


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
    torch.manual_seed(0)
    dev = torch.device(args.device)
    gen = torch.Generator(device=dev).manual_seed(0)
    B = args.batch
    G, D = mlp(2, 2).to(dev), mlp(2, 1).to(dev)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.5, 0.999))
    centres = mode_centres(args.modes).to(dev)

    def real_batch(n):
        idx = torch.randint(len(centres), (n,), device=dev)
        return centres[idx] + 0.05 * torch.randn(n, 2, device=dev)

    def latents(n):
        if args.method != "coreset":
            return torch.randn(n, 2, device=dev)
        pool = torch.randn(4 * n, 2, device=dev)
        return pool[greedy_kcenter(pool, n, gen)]

    def data(n):
        if args.method != "coreset":
            return real_batch(n)
        pool = real_batch(8 * n)
        return pool[greedy_kcenter(pool, n, gen)]

    k = B * 0.75  # a top-k step at the schedule's floor: the costliest top-k step

    def step():
        x = data(B)
        with torch.no_grad():
            fake = G(latents(B))
        d_loss = F.softplus(-D(x)).mean() + F.softplus(D(fake)).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        for p in D.parameters():
            p.requires_grad_(False)
        scores = D(G(latents(B))).squeeze(1)
        if args.method == "topk":
            scores = torch.topk(scores, int(k)).values
        g_loss = F.softplus(-scores).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        for p in D.parameters():
            p.requires_grad_(True)

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
