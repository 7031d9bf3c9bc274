#!/usr/bin/python3
"""Writes tests/data/attention_golden.safetensors: PyTorch's SAGAN self-attention block in BigGAN's
layout (bias-free 1x1 convolutions theta, phi, g, o; phi and g max-pooled 2x2; out = x + gamma * o)
in float32 with gamma = 0.7 on a non-square input (so a swapped height and width cannot pass): its
parameters, input, output and the gradients of a random-weighted sum of the output w.r.t. the input
and every parameter. Also the attention product softmax(scale q k^T) v alone in float64.

Run with Debian's interpreter:  /usr/bin/python3 tests/golden/make_attention_golden.py"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_mlp_golden import write_safetensors  # noqa: E402

SEED = 20240613
CHANNELS, HEIGHT, WIDTH, BATCH = 16, 8, 6, 2
GAMMA = 0.7
SCALE = 0.6
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "attention_golden.safetensors")


class Attention(torch.nn.Module):
    """BigGAN-PyTorch's Attention layer with plain convolutions."""

    def __init__(self, ch):
        super().__init__()
        self.ch = ch
        self.theta = torch.nn.Conv2d(ch, ch // 8, 1, bias=False)
        self.phi = torch.nn.Conv2d(ch, ch // 8, 1, bias=False)
        self.g = torch.nn.Conv2d(ch, ch // 2, 1, bias=False)
        self.o = torch.nn.Conv2d(ch // 2, ch, 1, bias=False)
        self.gamma = torch.nn.Parameter(torch.tensor(0.0))

    def forward(self, x):
        n, _, h, w = x.shape
        theta = self.theta(x).view(n, self.ch // 8, h * w)
        phi = F.max_pool2d(self.phi(x), [2, 2]).view(n, self.ch // 8, h * w // 4)
        g = F.max_pool2d(self.g(x), [2, 2]).view(n, self.ch // 2, h * w // 4)
        beta = F.softmax(torch.bmm(theta.transpose(1, 2), phi), -1)
        o = self.o(torch.bmm(g, beta.transpose(1, 2)).view(n, self.ch // 2, h, w))
        return x + self.gamma * o


def main():
    torch.manual_seed(SEED)
    tensors = []

    d = torch.float64
    q, k, v = torch.randn(2, 5, 3, dtype=d), torch.randn(2, 7, 3, dtype=d), torch.randn(2, 7, 4, dtype=d)
    out = torch.softmax(SCALE * q @ k.transpose(1, 2), -1) @ v
    tensors += [("op.q", q), ("op.k", k), ("op.v", v), ("op.out", out)]

    block = Attention(CHANNELS)
    with torch.no_grad():
        block.gamma.fill_(GAMMA)
    names = [n for n, _ in block.named_parameters()]
    tensors += [("block." + n, t.detach().clone()) for n, t in block.state_dict().items()]
    x = torch.randn(BATCH, CHANNELS, HEIGHT, WIDTH, requires_grad=True)
    weights = torch.randn(BATCH, CHANNELS, HEIGHT, WIDTH)
    y = block(x)
    grads = torch.autograd.grad((y * weights).sum(), [x] + list(block.parameters()))
    tensors += [("x", x.detach()), ("weights", weights), ("out", y.detach()), ("grad.x", grads[0])]
    tensors += [("grad.block." + n, g) for n, g in zip(names, grads[1:])]

    meta = {"generator": "tests/golden/make_attention_golden.py", "torch": torch.__version__,
            "gamma": str(GAMMA), "scale": str(SCALE)}
    write_safetensors(OUT, tensors, meta)
    print("wrote %s (%d tensors, %d bytes)" % (os.path.normpath(OUT), len(tensors), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
