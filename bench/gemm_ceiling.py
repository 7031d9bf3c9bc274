"""The matrix-product ceiling of one mixture-of-Gaussians training step on this CPU.

Counts the floating-point operations of the matrix products a protocol step cannot avoid (forward
passes, the weight gradients of the network being updated, the input gradients that backpropagation
needs), measures the single-precision GEMM rate of the BLAS that both gantry and PyTorch call, at the
step's own shapes, and prints {"gemm_gflops", "step_mflop", "ceiling_steps_per_s"} as JSON: no
implementation of this algorithm in fp32 on this BLAS can run faster than the ceiling.

    python3 bench/gemm_ceiling.py --threads 1
"""
import argparse
import json
import statistics
import time

import torch

GENERATOR = [2, 256, 256, 256, 2]  # z -> 256 -> 256 -> 256 -> 2
CRITIC = [2, 256, 256, 256, 1]
BATCH = 256


def forward_flops(dims, rows):
    """Multiply-adds of the layers' forward products, 2 flops each; a weight gradient costs the same."""
    return sum(2 * rows * i * o for i, o in zip(dims[:-1], dims[1:]))


def input_grad_flops(dims, rows, first_layer_too):
    """Gradients with respect to each layer's input; the first layer's only when something upstream needs it."""
    layers = list(zip(dims[:-1], dims[1:]))
    if not first_layer_too:
        layers = layers[1:]
    return sum(2 * rows * i * o for i, o in layers)


def step_flops(batch=BATCH):
    g, d = GENERATOR, CRITIC
    critic_step = (forward_flops(g, batch)                       # fakes, no graph
                   + forward_flops(d, 2 * batch)                 # real and fake scores
                   + forward_flops(d, 2 * batch)                 # critic weight gradients
                   + input_grad_flops(d, 2 * batch, False))      # backprop inside the critic
    generator_step = (forward_flops(g, batch) + forward_flops(d, batch)
                      + input_grad_flops(d, batch, True)         # through the critic down to the fakes
                      + forward_flops(g, batch)                  # generator weight gradients
                      + input_grad_flops(g, batch, False))
    return critic_step + generator_step


def gemm_rate(threads, seconds=1.0):
    """Median GFLOP/s over the step's three product layouts (forward, input gradient, weight gradient)."""
    torch.set_num_threads(threads)
    n = 256
    a, b, c = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
    layouts = [lambda: torch.mm(a, b, out=c), lambda: torch.mm(a, b.t(), out=c), lambda: torch.mm(a.t(), b, out=c)]
    rates = []
    for product in layouts:
        for _ in range(20):
            product()
        reps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / len(layouts):
            product()
            reps += 1
        rates.append(2 * n ** 3 * reps / (time.perf_counter() - start) / 1e9)
    return statistics.median(rates)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    gflops = gemm_rate(args.threads)
    flops = step_flops()
    print(json.dumps({"threads": args.threads, "gemm_gflops": gflops, "step_mflop": flops / 1e6,
                      "ceiling_steps_per_s": gflops * 1e9 / flops}))


if __name__ == "__main__":
    main()
