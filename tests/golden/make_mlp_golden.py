#!/usr/bin/python3
"""Writes tests/data/mlp_golden.safetensors: a small leaky-ReLU MLP's weights, inputs, outputs, the
gradients of an MSE loss and of a WGAN-GP style gradient penalty (double backward), and the
parameters after each of five Adam steps, all computed by PyTorch in float32.

Run with Debian's interpreter:  /usr/bin/python3 tests/golden/make_mlp_golden.py
The file is written with a minimal safetensors writer so no extra Python package is needed."""
import json
import os
import struct

import torch

SEED = 20240611
BATCH, SIZES, SLOPE = 8, (3, 16, 16, 1), 0.2
ADAM = dict(lr=1e-2, betas=(0.5, 0.999), eps=1e-8)
ADAM_STEPS = 5
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "mlp_golden.safetensors")

DTYPES = {torch.float32: ("F32", "<f4"), torch.float64: ("F64", "<f8"), torch.int64: ("I64", "<i8")}


def write_safetensors(path, tensors, metadata):
    """Header: 8-byte little-endian length, JSON, then the raw little-endian bytes in order."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors:
        t = t.detach().contiguous().cpu()
        code, _ = DTYPES[t.dtype]
        raw = t.numpy().tobytes()
        header[name] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode())
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def make_net():
    layers = []
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:])):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(SIZES) - 2:
            layers.append(torch.nn.LeakyReLU(SLOPE))
    return torch.nn.Sequential(*layers)


def gradient_penalty(net, x):
    x = x.detach().requires_grad_(True)
    out = net(x)
    (dx,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    return ((dx.norm(2, dim=1) - 1.0) ** 2).mean(), dx


def main():
    torch.manual_seed(SEED)
    net = make_net()
    x = torch.randn(BATCH, SIZES[0])
    target = torch.randn(BATCH, SIZES[-1])
    names = [n for n, _ in net.named_parameters()]
    tensors = [(n, p.detach().clone()) for n, p in net.named_parameters()]
    tensors += [("input", x), ("target", target)]

    out = net(x)
    loss = torch.nn.functional.mse_loss(out, target)
    grads = torch.autograd.grad(loss, list(net.parameters()))
    tensors += [("output", out), ("loss", loss.reshape(()))]
    tensors += [("grad.loss." + n, g) for n, g in zip(names, grads)]

    gp, dx = gradient_penalty(net, x)
    # The output bias does not reach d out / d x: its penalty gradient is stored as zeros.
    params = list(net.parameters())
    gp_grads = torch.autograd.grad(gp, params, allow_unused=True)
    gp_grads = [torch.zeros_like(p) if g is None else g for p, g in zip(params, gp_grads)]
    tensors += [("gp.input_grad", dx), ("gp.value", gp.reshape(()))]
    tensors += [("grad.gp." + n, g) for n, g in zip(names, gp_grads)]

    opt = torch.optim.Adam(net.parameters(), **ADAM)
    for step in range(1, ADAM_STEPS + 1):
        opt.zero_grad()
        torch.nn.functional.mse_loss(net(x), target).backward()
        opt.step()
        tensors += [("adam.step%d.%s" % (step, n), p.detach().clone()) for n, p in net.named_parameters()]

    meta = {"generator": "tests/golden/make_mlp_golden.py", "torch": torch.__version__,
            "leaky_relu_slope": str(SLOPE), "adam_lr": str(ADAM["lr"]), "adam_beta1": str(ADAM["betas"][0]),
            "adam_beta2": str(ADAM["betas"][1]), "adam_eps": str(ADAM["eps"]), "adam_steps": str(ADAM_STEPS)}
    write_safetensors(OUT, tensors, meta)
    print("wrote %s (%d tensors, %d bytes)" % (os.path.normpath(OUT), len(tensors), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
