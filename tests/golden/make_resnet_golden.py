#!/usr/bin/python3
"""Writes tests/data/resnet_golden.safetensors: PyTorch's spectral norm (torch.nn.utils.spectral_norm)
and class-conditional batch norm inside SNGAN/BigGAN-style residual blocks, in float64:

  G.*   a generator block 8 -> 4 channels (4x4 -> 8x8), batch 3, 5 classes, categorical CBN:
        the state dict before, one training forward (one power iteration per SN layer), the output,
        the gradients of sum(out * grad_output) w.r.t. every parameter and the input, and the
        buffers after (updated u/v, BatchNorm running statistics).
  D.*   a pre-activation discriminator block 4 -> 6 channels (8x8 -> 4x4): the same, plus the weight
        gradients of a WGAN-GP gradient penalty (double backward through spectral norm).
  P.*   a BigGAN-style projected CBN (gain = 1 + SNLinear(c), bias = SNLinear(c)).
  T.*, E.*  spectral norm on a ConvTranspose2d (dim = 1) and on an Embedding: training then eval.

Run with Debian's interpreter:  /usr/bin/python3 tests/golden/make_resnet_golden.py"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_mlp_golden import write_safetensors  # noqa: E402

SEED = 20240613
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "resnet_golden.safetensors")


class CategoricalCBN(nn.Module):
    """bn(x) * gain[y] + bias[y]; gain starts at 1, bias at 0 (gantry's CategoricalConditionalBatchNorm2d)."""

    def __init__(self, num_features, num_classes):
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features, affine=False)
        self.gain = nn.Embedding(num_classes, num_features)
        self.bias = nn.Embedding(num_classes, num_features)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x, y):
        return self.bn(x) * self.gain(y)[:, :, None, None] + self.bias(y)[:, :, None, None]


class ProjectedCBN(nn.Module):
    """bn(x) * (1 + gain(c)) + bias(c) with bias-free SN linears (gantry's ProjectedConditionalBatchNorm2d)."""

    def __init__(self, num_features, condition_dim):
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features, affine=False)
        self.gain = spectral_norm(nn.Linear(condition_dim, num_features, bias=False))
        self.bias = spectral_norm(nn.Linear(condition_dim, num_features, bias=False))

    def forward(self, x, c):
        return self.bn(x) * (1 + self.gain(c))[:, :, None, None] + self.bias(c)[:, :, None, None]


class GBlock(nn.Module):
    def __init__(self, cin, cout, num_classes):
        super().__init__()
        self.conv1 = spectral_norm(nn.Conv2d(cin, cout, 3, padding=1))
        self.conv2 = spectral_norm(nn.Conv2d(cout, cout, 3, padding=1))
        self.conv_sc = spectral_norm(nn.Conv2d(cin, cout, 1))
        self.bn1 = CategoricalCBN(cin, num_classes)
        self.bn2 = CategoricalCBN(cout, num_classes)

    def forward(self, x, y):
        h = F.interpolate(F.relu(self.bn1(x, y)), scale_factor=2, mode="nearest")
        h = self.conv2(F.relu(self.bn2(self.conv1(h), y)))
        return h + self.conv_sc(F.interpolate(x, scale_factor=2, mode="nearest"))


class DBlock(nn.Module):
    """Pre-activation, downsampling: conv2(relu(conv1(relu(x)))) pooled + pool(conv_sc(x))."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv1 = spectral_norm(nn.Conv2d(cin, cout, 3, padding=1))
        self.conv2 = spectral_norm(nn.Conv2d(cout, cout, 3, padding=1))
        self.conv_sc = spectral_norm(nn.Conv2d(cin, cout, 1))

    def forward(self, x):
        h = F.avg_pool2d(self.conv2(F.relu(self.conv1(F.relu(x)))), 2)
        return h + F.avg_pool2d(self.conv_sc(x), 2)


def snapshot(prefix, module):
    return [(prefix + n, t.detach().clone()) for n, t in module.state_dict().items()]


def buffers(prefix, module):
    """The state a forward changes: u/v vectors and BatchNorm statistics (parameters stay put)."""
    return [(prefix + n, t.detach().clone()) for n, t in module.named_buffers()]


def gradients(prefix, module, extra):
    """Copies: a later zero_grad() zeroes .grad in place."""
    return [(prefix + "grad." + n, p.grad.clone()) for n, p in module.named_parameters()] + \
           [(prefix + "grad." + n, t.grad.clone()) for n, t in extra]


def randomise_cbn(cbn):
    """Non-trivial class tables (the init is 1 and 0, which would hide a swapped gain/bias)."""
    with torch.no_grad():
        cbn.gain.weight.copy_(1 + 0.3 * torch.randn_like(cbn.gain.weight))
        cbn.bias.weight.copy_(0.3 * torch.randn_like(cbn.bias.weight))


def generator_case():
    block = GBlock(8, 4, 5)
    randomise_cbn(block.bn1)
    randomise_cbn(block.bn2)
    x = torch.randn(3, 8, 4, 4).requires_grad_(True)
    y = torch.tensor([3, 0, 3])  # a repeated class: its table rows accumulate two samples' gradients
    tensors = snapshot("G.before.", block) + [("G.x", x.detach().clone()), ("G.y", y)]
    out = block(x, y)
    w = torch.randn_like(out)
    (out * w).sum().backward()
    tensors += [("G.out", out), ("G.grad_output", w)]
    tensors += gradients("G.", block, [("x", x)])
    tensors += buffers("G.after.", block)
    return tensors


def discriminator_case():
    block = DBlock(4, 6)
    x = torch.randn(3, 4, 8, 8).requires_grad_(True)
    tensors = snapshot("D.before.", block) + [("D.x", x.detach().clone())]
    out = block(x)
    w = torch.randn_like(out)
    (out * w).sum().backward()
    tensors += [("D.out", out), ("D.grad_output", w)]
    tensors += gradients("D.", block, [("x", x)])
    tensors += buffers("D.after.", block)
    # WGAN-GP penalty at the same input (one more power iteration, as a second training forward does).
    block.zero_grad()
    mix = x.detach().clone().requires_grad_(True)
    (dx,) = torch.autograd.grad(block(mix).sum(), mix, create_graph=True)
    penalty = ((dx.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
    penalty.backward()
    tensors += [("D.gp.value", penalty.reshape(()))]
    tensors += [("D.gp.grad." + n, p.grad) for n, p in block.named_parameters()]
    return tensors


def projected_cbn_case():
    cbn = ProjectedCBN(4, 6)
    x = torch.randn(3, 4, 2, 3).requires_grad_(True)
    c = torch.randn(3, 6).requires_grad_(True)
    tensors = snapshot("P.before.", cbn) + [("P.x", x.detach().clone()), ("P.c", c.detach().clone())]
    out = cbn(x, c)
    w = torch.randn_like(out)
    (out * w).sum().backward()
    tensors += [("P.out", out), ("P.grad_output", w)]
    tensors += gradients("P.", cbn, [("x", x), ("c", c)])
    tensors += buffers("P.after.", cbn)
    return tensors


def layer_case(prefix, layer, x):
    """One training forward (updating u/v) and one eval forward of a spectrally normalised layer."""
    tensors = snapshot(prefix + "before.", layer) + [(prefix + "x", x)]
    out = layer(x)
    w = torch.randn_like(out)
    (out * w).sum().backward()
    tensors += [(prefix + "out", out), (prefix + "grad_output", w)]
    tensors += gradients(prefix, layer, [])
    tensors += buffers(prefix + "after.", layer)
    layer.eval()
    with torch.no_grad():
        tensors.append((prefix + "eval_out", layer(x)))
    return tensors


def main():
    torch.manual_seed(SEED)
    torch.set_default_dtype(torch.float64)
    tensors = generator_case() + discriminator_case() + projected_cbn_case()
    tensors += layer_case("T.", spectral_norm(nn.ConvTranspose2d(3, 5, 3, stride=2, padding=1)),
                          torch.randn(1, 3, 3, 3))
    tensors += layer_case("E.", spectral_norm(nn.Embedding(7, 4)), torch.tensor([6, 1, 1, 0]))
    meta = {"generator": "tests/golden/make_resnet_golden.py", "torch": torch.__version__,
            "g_block": "8->4 channels, 4x4 input, batch 3, 5 classes", "d_block": "4->6 channels, 8x8 input"}
    write_safetensors(OUT, tensors, meta)
    print("wrote %s (%d tensors, %d bytes)" % (os.path.normpath(OUT), len(tensors), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
