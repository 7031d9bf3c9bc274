#!/usr/bin/python3
"""Writes tests/data/weight_ema_golden.safetensors: an exponential moving average of a small generator's
state dict (weights, BatchNorm running statistics and num_batches_tracked, spectral-norm u/v vectors)
computed by hand in PyTorch over a few training steps, as BigGAN's ema does:

    for k, v in G.state_dict().items():
        ema[k].copy_(v if step < start or not v.is_floating_point() else ema[k] * decay + v * (1 - decay))

Each step runs the generator in training mode on random latents (so BatchNorm and spectral norm update
their buffers) and moves every parameter by noise, like an optimiser step, then updates the EMA.
Keys: "source.init.<name>" (the state the EMA starts from), "source.<step>.<name>" (the generator after
step `step`, 0-based) and "ema.<step>.<name>" (the EMA after updating with it). Metadata: decay,
start_step, steps, names (JSON list of the state-dict names in order).

Run with Debian's interpreter:  /usr/bin/python3 tests/golden/make_weight_ema_golden.py"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_mlp_golden import write_safetensors  # noqa: E402

SEED = 20240702
DECAY, START_STEP, STEPS = 0.9, 2, 6
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "weight_ema_golden.safetensors")


def make_generator():
    """z [N, 4, 2, 2] -> image [N, 3, 4, 4]: transposed conv, BatchNorm, ReLU, spectrally normalised conv."""
    return torch.nn.Sequential(
        torch.nn.ConvTranspose2d(4, 6, 4, 2, 1, bias=False), torch.nn.BatchNorm2d(6), torch.nn.ReLU(),
        torch.nn.utils.spectral_norm(torch.nn.Conv2d(6, 3, 3, 1, 1)), torch.nn.Tanh())


def snapshot(prefix, state):
    return [(prefix + k, v.detach().clone()) for k, v in state.items()]


def main():
    torch.manual_seed(SEED)
    g = make_generator()
    g.train()
    state = g.state_dict()
    names = list(state.keys())
    tensors = snapshot("source.init.", state)
    ema = {k: v.detach().clone() for k, v in state.items()}
    for step in range(STEPS):
        g(torch.randn(5, 4, 2, 2))  # BatchNorm statistics, num_batches_tracked and u/v move
        with torch.no_grad():
            for p in g.parameters():
                p.add_(0.1 * torch.randn_like(p))
        for k, v in g.state_dict().items():
            if step < START_STEP or not v.is_floating_point():
                ema[k].copy_(v)
            else:
                ema[k].copy_(ema[k] * DECAY + v * (1 - DECAY))
        tensors += snapshot("source.%d." % step, g.state_dict())
        tensors += snapshot("ema.%d." % step, ema)
    meta = {"generator": "tests/golden/make_weight_ema_golden.py", "torch": torch.__version__, "decay": str(DECAY),
            "start_step": str(START_STEP), "steps": str(STEPS), "names": json.dumps(names)}
    write_safetensors(OUT, tensors, meta)
    print("wrote %s (%d tensors, %d bytes)" % (os.path.normpath(OUT), len(tensors), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
