#!/usr/bin/python3
"""Writes tests/data/rmsprop_golden.safetensors: torch.optim.RMSprop over two parameters for six
steps of random gradients, for several option sets (plain, weight decay, centered, momentum, all of
them, and all of them in float32): the initial parameters, every gradient, the parameters after
every step and the final optimiser state (square_avg, grad_avg, momentum_buffer).

Keys: "<case>.init.<j>", "<case>.grad.<step>.<j>", "<case>.after.<step>.<j>" (step 1..6) and
"<case>.state.<j>.<name>"; metadata "cases" is a JSON list of {name, dtype, and the options}.

Run with Debian's interpreter:  /usr/bin/python3 tests/golden/make_rmsprop_golden.py"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_mlp_golden import write_safetensors  # noqa: E402

SEED = 20240701
STEPS = 6
SHAPES = [(3, 4), (5,)]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "rmsprop_golden.safetensors")

CASES = [
    dict(name="plain", dtype="float64", lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False),
    dict(name="decay", dtype="float64", lr=2e-2, alpha=0.9, eps=1e-6, weight_decay=0.1, momentum=0.0, centered=False),
    dict(name="centered", dtype="float64", lr=1e-2, alpha=0.8, eps=1e-8, weight_decay=0.0, momentum=0.0,
         centered=True),
    dict(name="momentum", dtype="float64", lr=5e-3, alpha=0.95, eps=1e-8, weight_decay=0.0, momentum=0.9,
         centered=False),
    dict(name="all", dtype="float64", lr=1e-2, alpha=0.9, eps=1e-4, weight_decay=0.05, momentum=0.5, centered=True),
    dict(name="all_f32", dtype="float32", lr=1e-2, alpha=0.9, eps=1e-4, weight_decay=0.05, momentum=0.5,
         centered=True),
]


def run_case(case):
    dtype = getattr(torch, case["dtype"])
    params = [torch.randn(*s, dtype=dtype).requires_grad_(True) for s in SHAPES]
    name = case["name"]
    tensors = [("%s.init.%d" % (name, j), p.detach().clone()) for j, p in enumerate(params)]
    options = {k: case[k] for k in ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")}
    opt = torch.optim.RMSprop(params, **options)
    for step in range(1, STEPS + 1):
        for j, p in enumerate(params):
            # Shrinking gradients so a later step can have v below an earlier one.
            p.grad = torch.randn_like(p) * (0.7 ** step)
            tensors.append(("%s.grad.%d.%d" % (name, step, j), p.grad.clone()))
        opt.step()
        tensors += [("%s.after.%d.%d" % (name, step, j), p.detach().clone()) for j, p in enumerate(params)]
    for j, p in enumerate(params):
        for key, value in opt.state[p].items():
            if torch.is_tensor(value) and value.dim() > 0:
                tensors.append(("%s.state.%d.%s" % (name, j, key), value.clone()))
    return tensors


def main():
    torch.manual_seed(SEED)
    tensors = []
    for case in CASES:
        tensors += run_case(case)
    meta = {"generator": "tests/golden/make_rmsprop_golden.py", "torch": torch.__version__,
            "steps": str(STEPS), "cases": json.dumps(CASES)}
    write_safetensors(OUT, tensors, meta)
    print("wrote %s (%d tensors, %d bytes)" % (os.path.normpath(OUT), len(tensors), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
