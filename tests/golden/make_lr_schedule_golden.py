#!/usr/bin/python3
"""Writes tests/data/lr_schedule_golden.safetensors: the learning rate PyTorch's schedulers give at
each step for the schedules gantry's optim::LrSchedule describes (engine/optim/lr_schedule.h).

Each case is a gantry schedule text, a base rate and a step count; "lr.<name>" (float64) holds the
optimiser's lr after 0, 1, ... steps-1 scheduler steps, computed by torch.optim.lr_scheduler: LinearLR
for a decay from step 0 and for a warm-up, SequentialLR(ConstantLR(1), LinearLR) for a decay that
starts later, LambdaLR for a warm-up followed by a decay. Every case is also computed by LambdaLR with
the closed form and the two must agree (checked here), so the file pins the formula to PyTorch's.

Run with Debian's interpreter:  /usr/bin/python3 tests/golden/make_lr_schedule_golden.py"""
import json
import os
import sys
import warnings

import torch
from torch.optim import lr_scheduler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_mlp_golden import write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "lr_schedule_golden.safetensors")


def closed_form(base, warmup, start, end, final):
    """gantry's lr_at(step) / base as a LambdaLR multiplier (end None: no decay)."""
    def factor(step):
        w = min(1.0, (step + 1) / warmup) if warmup else 1.0
        if end is None or step <= start:
            d = 1.0
        elif step >= end:
            d = final / base
        else:
            d = 1.0 + (final / base - 1.0) * (step - start) / (end - start)
        return w * d
    return factor


# name, gantry text, base lr, steps, PyTorch's native scheduler for it (None: LambdaLR only)
CASES = [
    ("constant", "constant", 2e-4, 12, lambda o: lr_scheduler.ConstantLR(o, factor=1.0, total_iters=1)),
    ("linear_to_zero", "linear:0:50", 2e-4, 60,
     lambda o: lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=50)),
    ("linear_to_final", "linear:0:40:2e-05", 2e-4, 50,
     lambda o: lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=40)),
    ("linear_late_start", "linear:20:70:1e-05", 1e-3, 80,
     lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.ConstantLR(o, factor=1.0, total_iters=20),
                                             lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=0.01,
                                                                   total_iters=50)], milestones=[20])),
    ("warmup_only", "warmup:8", 5e-4, 15,
     lambda o: lr_scheduler.LinearLR(o, start_factor=1.0 / 8, end_factor=1.0, total_iters=7)),
    ("warmup_then_linear", "warmup:10+linear:30:90", 4e-4, 100, None),
    ("warmup_overlapping_linear", "warmup:25+linear:0:40:1e-05", 1e-3, 45, None),
]


def parse_case(text):
    """(warmup, start, end, final) of a gantry schedule text; end None for constant."""
    warmup, decay = 0, text
    if text.startswith("warmup:"):
        head, _, decay = text.partition("+")
        warmup = int(head.split(":")[1])
        decay = decay or "constant"
    if decay == "constant":
        return warmup, 0, None, 0.0
    fields = decay.split(":")
    return warmup, int(fields[1]), int(fields[2]), float(fields[3]) if len(fields) == 4 else 0.0


def lrs(base, steps, make_scheduler):
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=base)
    scheduler = make_scheduler(opt)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SequentialLR's deprecation notes
        for _ in range(steps):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            scheduler.step()
    return torch.tensor(out, dtype=torch.float64)


def main():
    tensors, meta_cases = [], []
    for name, text, base, steps, native in CASES:
        warmup, start, end, final = parse_case(text)
        by_lambda = lrs(base, steps, lambda o: lr_scheduler.LambdaLR(o, closed_form(base, warmup, start, end, final)))
        values = by_lambda
        if native is not None:
            values = lrs(base, steps, native)
            assert torch.allclose(values, by_lambda, rtol=1e-12, atol=1e-18), (name, values, by_lambda)
        tensors.append(("lr." + name, values))
        meta_cases.append({"name": name, "schedule": text, "base_lr": base, "steps": steps,
                           "scheduler": "native" if native else "LambdaLR"})
    meta = {"generator": "tests/golden/make_lr_schedule_golden.py", "torch": torch.__version__,
            "cases": json.dumps(meta_cases)}
    write_safetensors(OUT, tensors, meta)
    print("wrote %s (%d tensors, %d bytes)" % (os.path.normpath(OUT), len(tensors), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
