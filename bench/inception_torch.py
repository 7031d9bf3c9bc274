#!/usr/bin/python3
"""PyTorch twin of bench/inception_bench.cpp: the FID Inception-v3 (the reference network of
tests/golden/make_fid_inception_golden.py, pytorch-fid's architecture) in float32, eval mode, under
torch.no_grad, on random CIFAR-sized images in [0, 1] resized to 299x299 inside, with the weights of the
same .pth file. Two variants:
  unfused  conv + BatchNorm + ReLU as pytorch-fid runs it;
  folded   BatchNorm folded into each convolution's weight and bias (in float32, as gantry folds it),
           conv with bias + ReLU: the like-for-like reference for gantry's network.
Prints one JSON line per variant with median and minimum wall ms/batch, median CPU ms/batch, images/s
and peak RSS per batch size. Run with Debian's /usr/bin/python3 (python3-torch)."""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "golden"))
from make_fid_inception_golden import BN_EPS, BasicConv2d, FIDInception  # noqa: E402


def load_network(weights):
    model = FIDInception()
    model.load_state_dict(torch.load(weights))
    return model.float().eval()


def fold_batch_norm(model):
    """Each BasicConv2d becomes conv with bias (W g / sqrt(var + eps), beta - mean g / sqrt(var + eps))
    followed by the ReLU of its forward; its BatchNorm becomes the identity."""
    with torch.no_grad():
        for m in model.modules():
            if not isinstance(m, BasicConv2d):
                continue
            conv, bn = m.conv, m.bn
            scale = bn.weight / torch.sqrt(bn.running_var + BN_EPS)
            folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, stride=conv.stride,
                               padding=conv.padding, bias=True)
            folded.weight.copy_(conv.weight * scale.reshape(-1, 1, 1, 1))
            folded.bias.copy_(bn.bias - bn.running_mean * scale)
            m.conv, m.bn = folded, nn.Identity()
    return model.eval()


def time_batch(model, batch, size, repeats, warmup):
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(batch, 3, size, size, generator=gen)
    times, cpu_times = [], []
    with torch.no_grad():
        for it in range(warmup + repeats):
            c0, t0 = time.process_time(), time.perf_counter()
            pool3, _ = model(images)
            pool3.sum().item()
            t1, c1 = time.perf_counter(), time.process_time()
            if it >= warmup:
                times.append((t1 - t0) * 1e3)
                cpu_times.append((c1 - c0) * 1e3)
    return times, cpu_times


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=os.path.join(HERE, "..", "tests", "data", "fid_inception_random_legacy.pth"))
    ap.add_argument("--variants", default="unfused,folded")
    ap.add_argument("--batches", default="50")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for variant in args.variants.split(","):
        model = load_network(args.weights)
        if variant == "folded":
            model = fold_batch_norm(model)
        elif variant != "unfused":
            sys.exit(f"inception_torch.py: unknown variant {variant!r}")
        results = []
        for batch in (int(b) for b in args.batches.split(",")):
            times, cpu_times = time_batch(model, batch, args.size, args.repeats, args.warmup)
            wall, cpu = statistics.median(times), statistics.median(cpu_times)
            results.append({"batch": batch, "median_ms": wall, "min_ms": min(times), "median_cpu_ms": cpu,
                            "images_per_s": 1e3 * batch / wall, "cpu_images_per_s": 1e3 * batch / cpu,
                            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
        print(json.dumps({"impl": "torch " + torch.__version__, "variant": variant, "threads": args.threads,
                          "repeats": args.repeats, "warmup": args.warmup, "image_size": args.size,
                          "mkldnn": torch.backends.mkldnn.is_available(), "results": results}), flush=True)


if __name__ == "__main__":
    main()
