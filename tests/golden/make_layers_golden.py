#!/usr/bin/python3
"""Writes tests/data/layers_golden.safetensors: PyTorch's outputs of the image layers on small random
inputs (float64, to pin the index and divisor rules exactly) and a small DCGAN-like generator and
critic in float32 (outputs, parameter gradients, BatchNorm running statistics after one training
step, and the weight gradients of a WGAN-GP gradient penalty through a LayerNorm critic).

Run with Debian's interpreter:  /usr/bin/python3 tests/golden/make_layers_golden.py"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_mlp_golden import write_safetensors  # noqa: E402

SEED = 20240612
SLOPE = 0.2
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "layers_golden.safetensors")


def op_cases():
    """(name, inputs, output) of single ops in float64."""
    d = torch.float64
    x = torch.randn(2, 3, 9, 8, dtype=d)
    cases = []

    def add(name, inputs, out):
        cases.append((name, inputs, out))

    w = torch.randn(4, 3, 3, 3, dtype=d)
    b = torch.randn(4, dtype=d)
    add("conv2d_s2_p1", {"x": x, "w": w, "b": b}, F.conv2d(x, w, b, stride=2, padding=1))
    w17 = torch.randn(5, 3, 1, 7, dtype=d)
    add("conv2d_1x7", {"x": x, "w": w17}, F.conv2d(x, w17, None, padding=(0, 3)))
    add("conv2d_dil2", {"x": x, "w": w}, F.conv2d(x, w, None, stride=(1, 2), padding=(2, 1), dilation=(2, 1)))
    xt = torch.randn(2, 4, 3, 5, dtype=d)
    wt = torch.randn(4, 3, 4, 4, dtype=d)
    bt = torch.randn(3, dtype=d)
    add("conv_transpose2d_k4s2p1", {"x": xt, "w": wt, "b": bt}, F.conv_transpose2d(xt, wt, bt, stride=2, padding=1))
    wt3 = torch.randn(4, 2, 3, 3, dtype=d)
    add("conv_transpose2d_outpad", {"x": xt, "w": wt3},
        F.conv_transpose2d(xt, wt3, None, stride=2, padding=1, output_padding=1))
    add("avg_pool2d_k3s2p1_incl", {"x": x}, F.avg_pool2d(x, 3, 2, 1, count_include_pad=True))
    add("avg_pool2d_k3s2p1_excl", {"x": x}, F.avg_pool2d(x, 3, 2, 1, count_include_pad=False))
    add("avg_pool2d_k3s1p1_incl", {"x": x}, F.avg_pool2d(x, 3, 1, 1))
    values, indices = F.max_pool2d(x, 3, 2, 1, return_indices=True)
    add("max_pool2d_k3s2p1", {"x": x}, values)
    cases.append(("max_pool2d_k3s2p1_indices", {}, indices))
    add("adaptive_avg_pool2d_4x3", {"x": x}, F.adaptive_avg_pool2d(x, (4, 3)))
    add("adaptive_avg_pool2d_1x1", {"x": x}, F.adaptive_avg_pool2d(x, 1))
    add("nearest_7x13", {"x": x}, F.interpolate(x, size=(7, 13), mode="nearest"))
    add("nearest_x2", {"x": x}, F.interpolate(x, scale_factor=2, mode="nearest"))
    add("bilinear_23x31", {"x": x}, F.interpolate(x, size=(23, 31), mode="bilinear", align_corners=False))
    add("bilinear_5x3", {"x": x}, F.interpolate(x, size=(5, 3), mode="bilinear", align_corners=False))
    add("bilinear_x2", {"x": x}, F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False))
    add("bilinear_align_11x6", {"x": x}, F.interpolate(x, size=(11, 6), mode="bilinear", align_corners=True))
    img = torch.rand(1, 1, 16, 16) * 2 - 1  # float32, FID-style resize
    add("bilinear_f32_299", {"x": img}, F.interpolate(img, size=(299, 299), mode="bilinear", align_corners=False))
    gamma, beta = torch.randn(3, dtype=d), torch.randn(3, dtype=d)
    rm, rv = torch.randn(3, dtype=d), torch.rand(3, dtype=d) + 0.5
    inputs = {"x": x, "w": gamma, "b": beta, "running_mean": rm.clone(), "running_var": rv.clone()}
    out = F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=0.2, eps=1e-4)
    add("batch_norm_train", inputs, out)
    cases.append(("batch_norm_train_running_mean", {}, rm))
    cases.append(("batch_norm_train_running_var", {}, rv))
    lw, lb = torch.randn(9, 8, dtype=d), torch.randn(9, 8, dtype=d)
    add("layer_norm", {"x": x, "w": lw, "b": lb}, F.layer_norm(x, (9, 8), lw, lb, eps=1e-5))
    return cases


def make_generator():
    """z [N, 8, 2, 2] -> image [N, 3, 8, 8], DCGAN style."""
    return torch.nn.Sequential(
        torch.nn.ConvTranspose2d(8, 6, 4, 2, 1, bias=False), torch.nn.BatchNorm2d(6), torch.nn.ReLU(),
        torch.nn.ConvTranspose2d(6, 3, 4, 2, 1), torch.nn.Tanh())


def make_critic():
    """image [N, 3, 8, 8] -> score [N, 1, 1, 1] with a LayerNorm (no batch norm in a WGAN-GP critic)."""
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 4, 2, 1), torch.nn.LayerNorm([4, 4, 4]), torch.nn.LeakyReLU(SLOPE),
        torch.nn.AvgPool2d(2), torch.nn.Conv2d(4, 1, 2, 1, 0))


def main():
    torch.manual_seed(SEED)
    tensors = []
    for name, inputs, out in op_cases():
        tensors += [("op.%s.%s" % (name, k), v) for k, v in inputs.items()]
        tensors.append(("op.%s.out" % name, out))

    gen, critic = make_generator(), make_critic()
    # Non-trivial BatchNorm affine parameters (torch starts them at 1 and 0).
    with torch.no_grad():
        gen[1].weight.uniform_(0.5, 1.5)
        gen[1].bias.uniform_(-0.5, 0.5)
    tensors += [("G." + n, t.detach().clone()) for n, t in gen.state_dict().items()]
    tensors += [("D." + n, t.detach().clone()) for n, t in critic.state_dict().items()]
    z = torch.randn(4, 8, 2, 2)
    real = torch.rand(4, 3, 8, 8) * 2 - 1
    tensors += [("z", z), ("real", real)]

    fake = gen(z)
    score = critic(fake)
    loss = -score.mean()
    loss.backward()
    tensors += [("fake", fake), ("score", score)]
    tensors += [("grad.G." + n, p.grad) for n, p in gen.named_parameters()]
    tensors += [("after.G." + n, t.detach().clone()) for n, t in gen.state_dict().items() if "running" in n]

    # WGAN-GP penalty at a fixed mix of real and fake, differentiated w.r.t. the critic's weights.
    critic.zero_grad()
    alpha = torch.rand(4, 1, 1, 1)
    mix = (alpha * real + (1 - alpha) * fake.detach()).requires_grad_(True)
    (dx,) = torch.autograd.grad(critic(mix).sum(), mix, create_graph=True)
    penalty = ((dx.flatten(1).norm(2, dim=1) - 1) ** 2).mean()
    penalty.backward()
    tensors += [("alpha", alpha), ("gp.value", penalty.reshape(()))]
    tensors += [("grad.gp.D." + n, p.grad) for n, p in critic.named_parameters()]

    meta = {"generator": "tests/golden/make_layers_golden.py", "torch": torch.__version__,
            "leaky_relu_slope": str(SLOPE)}
    write_safetensors(OUT, tensors, meta)
    print("wrote %s (%d tensors, %d bytes)" % (os.path.normpath(OUT), len(tensors), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
