#!/usr/bin/python3
"""PyTorch twin of bench/image_step_bench.cpp: one GAN training step with the structure of
train/gan_trainer.cpp (critic update on a real and a no-grad fake batch, then a generator update;
non-saturating loss on logits; Adam lr 2e-4, betas (0.5, 0.999); torch.autograd.grad w.r.t. one
network's parameters). Prints one JSON object with median wall and CPU ms/step after a warm-up and
peak RSS.
Run with Debian's /usr/bin/python3 (python3-torch). A new model is one more entry in CASES."""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def dcgan32():
    nz, ngf, ndf, nc = 100, 64, 64, 3
    g = nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())
    d = nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, True),
        nn.Conv2d(ndf * 4, 1, 4, 1, 0, bias=False))
    for m in list(g.modules()) + list(d.modules()):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    return g, d, nz, (nc, 32, 32)


CASES = {"dcgan32": dcgan32}


def time_steps(build, batch, steps, warmup):
    torch.manual_seed(0)
    g, d, nz, image = build()
    g_params, d_params = list(g.parameters()), list(d.parameters())
    g_opt = torch.optim.Adam(g_params, lr=2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam(d_params, lr=2e-4, betas=(0.5, 0.999))
    real = torch.tanh(torch.randn(batch, *image))
    times, cpu_times = [], []
    for it in range(warmup + steps):
        c0, t0 = time.process_time(), time.perf_counter()
        with torch.no_grad():
            fake = g(torch.randn(batch, nz, 1, 1))
        real_scores, fake_scores = d(real).view(-1), d(fake).view(-1)
        d_loss = F.softplus(-real_scores).mean() + F.softplus(fake_scores).mean()
        for p, grad in zip(d_params, torch.autograd.grad(d_loss, d_params)):
            p.grad = grad
        d_opt.step()
        fake = g(torch.randn(batch, nz, 1, 1))
        g_loss = F.softplus(-d(fake).view(-1)).mean()
        for p, grad in zip(g_params, torch.autograd.grad(g_loss, g_params)):
            p.grad = grad
        g_opt.step()
        d_loss.item(), g_loss.item()
        t1, c1 = time.perf_counter(), time.process_time()
        if it >= warmup:
            times.append((t1 - t0) * 1e3)
            cpu_times.append((c1 - c0) * 1e3)
    return times, cpu_times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default="dcgan32")
    ap.add_argument("--batches", default="64,128")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    results = []
    for name in args.cases.split(","):
        for batch in (int(b) for b in args.batches.split(",")):
            times, cpu_times = time_steps(CASES[name], batch, args.steps, args.warmup)
            results.append({"case": name, "batch": batch, "median_ms": statistics.median(times),
                            "min_ms": min(times), "median_cpu_ms": statistics.median(cpu_times),
                            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
    print(json.dumps({"impl": "torch " + torch.__version__, "threads": args.threads, "steps": args.steps,
                      "warmup": args.warmup, "mkldnn": torch.backends.mkldnn.is_available(),
                      "results": results}))


if __name__ == "__main__":
    main()
