#!/usr/bin/python3
"""Writes the fixtures of the FID Inception-v3 port (models/fid_inception.*) into tests/data/.

The reference network below is written from the specification of pytorch-fid's FID Inception-v3
(torchvision's Inception3 skeleton with the FID blocks): BasicConv2d = conv (no bias) + BatchNorm
(eps 0.001, inference) + ReLU; A blocks (Mixed_5b/5c/5d) and C blocks (Mixed_6b-6e, c7 = 128, 160,
160, 192) pool with a 3x3 s1 p1 average that ignores the padding; B (Mixed_6a) and D (Mixed_7a);
E_1 (Mixed_7b, average pool ignoring the padding) and E_2 (Mixed_7c, 3x3 s1 p1 max pool), where the
1x3 output comes before the 3x1 one; global average -> pool3 [N, 2048]; fc Linear(2048, 1008).
Input: images in [0, 1], bilinear resize to 299x299 (align_corners=False, half-pixel), then 2x - 1.
Module and parameter names are pytorch-fid's state-dict keys. All reference outputs are float64.

Files:
  fid_inception_random_legacy.pth   random weights in pytorch-fid's layout (566 keys, conv weights
  fid_inception_random_zip.pth      OIHW, BN buffers, num_batches_tracked int64, fc), saved with
      torch.save in the legacy (non-zip) format that the real file uses and in the default zip format.
      To stay small every tensor is an as_strided view of a few shared random storages: the views
      overlap, have non-contiguous strides and storage offsets, so a reader must honour strides and
      offsets (a few conv weights, e.g. Conv2d_1a_3x3, use the real file's TF-HWIO strides
      (1, O, I*O*kW, I*O); fc.weight has strides (1, 11)). One storage per conv fan-in holds
      N(0, 2/fan_in) values (He scale, so activations stay O(1) through the 94 layers); gammas lie in
      [0.9, 1.1], betas and running means in [-0.1, 0.1], running variances in [0.5, 1.5].
      The legacy file's storage keys are memory addresses (as in the real file), so its bytes differ
      from run to run while its tensors do not; the other files are byte-for-byte reproducible.
  fid_inception_random_golden.safetensors   the float64 reference with those weights:
      images.a [2, 3, 32, 32], images.b [1, 3, 45, 61] (float64 values float32(k / 255), k integer,
      so a float32 engine sees exactly the same input);
      for <batch> in a, b: <batch>.pool3 [N, 2048], <batch>.logits [N, 1008] (fc with bias),
      <batch>.logits_unbiased [N, 1008] (pool3 @ fc.weight^T), <batch>.mixed_6e_pool [N, 768],
      <batch>.mixed_7a_pool [N, 1280] (global average of the Mixed_6e / Mixed_7a outputs);
      per-layer samples of batch a (below) for every layer.
  fid_inception_real_partial_golden.safetensors   the float64 reference with the real weights of
      the shared folder inception-fid-partial/folded/ (92 of the 94 convolutions with BatchNorm folded
      in: relu(conv(x, W') + b')), run from the input through Mixed_7a (Mixed_7b/7c lack a weight):
      images.a (the same as above), a.mixed_6e_pool, a.mixed_7a_pool, per-layer samples of batch a for
      every layer through Mixed_7a. Written only when the shared folder ($GANTRY_SHARED_DIR, by default
      the folder `shared` beside the repository) is present.

Per-layer samples, for each layer L ("input" after resize and 2x - 1; each BasicConv2d output after
ReLU under its pytorch-fid prefix, e.g. "Mixed_5b.branch5x5_2"; "maxpool1", "maxpool2"; the block
outputs "Mixed_5b" ... "Mixed_7c"): layer.L.index int64 [256] (distinct flat indices into the
contiguous NCHW output, one per 1/256 stratum of it, the first 0 and the last numel - 1),
layer.L.value float64 [256], layer.L.shape int64 [4], layer.L.rms float64 [1] and layer.L.sum
float64 [1] of the whole output. Metadata "layers": the layer names in forward order, comma-separated.

Run with Debian's interpreter:  /usr/bin/python3 tests/golden/make_fid_inception_golden.py"""
import collections
import hashlib
import math
import os
import sys
import time
import zlib

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_mlp_golden import write_safetensors  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")
SHARED = os.path.join(os.environ.get("GANTRY_SHARED_DIR", os.path.join(HERE, "..", "..", "..", "shared")),
                      "inception-fid-partial")
GENERATOR = "tests/golden/make_fid_inception_golden.py"
SEED = 20261215
SAMPLES = 256
BN_EPS = 0.001
# Conv weights stored like the real file (TF HWIO under an OIHW view), and one stored contiguously
# at a storage offset; every other conv weight gets small overlapping strides (see plan_conv_view).
HWIO_CONVS = ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_3b_1x1")
CONTIGUOUS_CONVS = ("Mixed_5b.branch1x1",)
FC_STRIDES = (1, 11)
TRUNCATED_PTH = "pt_inception-2015-12-05-6726825d.TRUNCATED_818371B.pth"


# ----------------------------------------------------------------------------------------------
# Reference network


class BasicConv2d(nn.Module):
    def __init__(self, cin, cout, kernel_size, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel_size, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


def avg_pool_valid(x):
    """3x3 s1 p1 average over the valid pixels only (TF AvgPool SAME)."""
    return F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)


class BlockA(nn.Module):
    def __init__(self, cin, pool_features):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 64, 1)
        self.branch5x5_1 = BasicConv2d(cin, 48, 1)
        self.branch5x5_2 = BasicConv2d(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, padding=1)
        self.branch_pool = BasicConv2d(cin, pool_features, 1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(avg_pool_valid(x))
        return torch.cat([b1, b5, b3, bp], 1)


class BlockB(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3 = BasicConv2d(cin, 384, 3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(cin, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3(x)
        bd = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([b3, bd, F.max_pool2d(x, 3, stride=2)], 1)


class BlockC(nn.Module):
    def __init__(self, cin, c7):
        super().__init__()
        self.branch1x1 = BasicConv2d(cin, 192, 1)
        self.branch7x7_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7_2 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(cin, c7, 1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        bd = self.branch7x7dbl_1(x)
        for m in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4, self.branch7x7dbl_5):
            bd = m(bd)
        bp = self.branch_pool(avg_pool_valid(x))
        return torch.cat([b1, b7, bd, bp], 1)


class BlockD(nn.Module):
    def __init__(self, cin):
        super().__init__()
        self.branch3x3_1 = BasicConv2d(cin, 192, 1)
        self.branch3x3_2 = BasicConv2d(192, 320, 3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(cin, 192, 1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, 3, stride=2)

    def forward(self, x):
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = self.branch7x7x3_1(x)
        for m in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b7 = m(b7)
        return torch.cat([b3, b7, F.max_pool2d(x, 3, stride=2)], 1)


class BlockE(nn.Module):
    def __init__(self, cin, max_pool):
        super().__init__()
        self.max_pool = max_pool  # E_2 (Mixed_7c) max-pools where E_1 averages
        self.branch1x1 = BasicConv2d(cin, 320, 1)
        self.branch3x3_1 = BasicConv2d(cin, 384, 1)
        self.branch3x3_2a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(cin, 448, 1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(cin, 192, 1)

    def forward(self, x):
        b1 = self.branch1x1(x)
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        pooled = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else avg_pool_valid(x)
        return torch.cat([b1, b3, bd, self.branch_pool(pooled)], 1)


STEM_AND_BLOCKS = ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1",
                   "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b",
                   "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c")
# Output C, H, W of each stage for a 299x299 input (the specification's table).
STAGE_SHAPES = {"Conv2d_1a_3x3": (32, 149, 149), "Conv2d_2a_3x3": (32, 147, 147),
                "Conv2d_2b_3x3": (64, 147, 147), "maxpool1": (64, 73, 73), "Conv2d_3b_1x1": (80, 73, 73),
                "Conv2d_4a_3x3": (192, 71, 71), "maxpool2": (192, 35, 35), "Mixed_5b": (256, 35, 35),
                "Mixed_5c": (288, 35, 35), "Mixed_5d": (288, 35, 35), "Mixed_6a": (768, 17, 17),
                "Mixed_6b": (768, 17, 17), "Mixed_6c": (768, 17, 17), "Mixed_6d": (768, 17, 17),
                "Mixed_6e": (768, 17, 17), "Mixed_7a": (1280, 8, 8), "Mixed_7b": (2048, 8, 8),
                "Mixed_7c": (2048, 8, 8)}


class FIDInception(nn.Module):
    def __init__(self):
        super().__init__()
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, 3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, 3, padding=1)
        self.maxpool1 = nn.MaxPool2d(3, stride=2)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, 1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, 3)
        self.maxpool2 = nn.MaxPool2d(3, stride=2)
        self.Mixed_5b = BlockA(192, 32)
        self.Mixed_5c = BlockA(256, 64)
        self.Mixed_5d = BlockA(288, 64)
        self.Mixed_6a = BlockB(288)
        self.Mixed_6b = BlockC(768, 128)
        self.Mixed_6c = BlockC(768, 160)
        self.Mixed_6d = BlockC(768, 160)
        self.Mixed_6e = BlockC(768, 192)
        self.Mixed_7a = BlockD(768)
        self.Mixed_7b = BlockE(1280, max_pool=False)
        self.Mixed_7c = BlockE(2048, max_pool=True)
        self.fc = nn.Linear(2048, 1008)

    @staticmethod
    def preprocess(images):
        x = F.interpolate(images, size=(299, 299), mode="bilinear", align_corners=False)
        return 2 * x - 1

    def forward(self, images, upto=None):
        """Returns (pool3, logits), or the output of stage `upto` when given."""
        x = self.preprocess(images)
        for name in STEM_AND_BLOCKS:
            x = getattr(self, name)(x)
            if name == upto:
                return x
        pool3 = x.mean((2, 3))
        return pool3, self.fc(pool3)


def basic_convs(model):
    return [(n, m) for n, m in model.named_modules() if isinstance(m, BasicConv2d)]


# ----------------------------------------------------------------------------------------------
# Per-layer samples


def sample_indices(name, numel):
    """SAMPLES distinct flat indices, one per equal stratum of [0, numel), the first 0 and the last
    numel - 1, seeded by the layer name so that both golden files sample a layer at the same places."""
    rng = np.random.default_rng([SEED, zlib.crc32(name.encode())])
    edges = (np.arange(SAMPLES + 1, dtype=np.int64) * numel) // SAMPLES
    idx = edges[:-1] + (rng.random(SAMPLES) * (edges[1:] - edges[:-1])).astype(np.int64)
    idx[0], idx[-1] = 0, numel - 1
    assert len(np.unique(idx)) == SAMPLES and idx.max() < numel
    return torch.from_numpy(idx)


class Recorder:
    """Forward hooks that keep, per layer and in forward order, only the samples, the shape, RMS and
    sum (never the whole activation), plus the few whole tensors the checks below need."""

    def __init__(self, model):
        self.layers = collections.OrderedDict()
        self.keep = {}
        self.handles = []
        self.handles.append(model.Conv2d_1a_3x3.register_forward_pre_hook(
            lambda m, inp: self.record("input", inp[0])))
        for name, m in model.named_modules():
            if isinstance(m, BasicConv2d) or name in STAGE_SHAPES:
                self.handles.append(m.register_forward_hook(self.hook(name)))
        # Inputs of the pool branches of an average-pooling block (Mixed_5b) and of the max-pooling
        # one (Mixed_7c), to check their padding by hand.
        for block in ("Mixed_5b", "Mixed_7c"):
            b = getattr(model, block)
            self.handles.append(b.register_forward_pre_hook(self.keeper(block + ".in")))
            self.handles.append(b.branch_pool.register_forward_pre_hook(self.keeper(block + ".pooled")))

    def hook(self, name):
        return lambda m, inp, out: self.record(name, out)

    def keeper(self, name):
        def keep(m, inp):
            self.keep[name] = inp[0].detach().clone()
        return keep

    def record(self, name, out):
        out = out.detach()
        assert name not in self.layers, name
        flat = out.contiguous().view(-1).double()
        idx = sample_indices(name, flat.numel())
        self.layers[name] = {"index": idx, "value": flat[idx].clone(),
                             "shape": torch.tensor(list(out.shape), dtype=torch.int64),
                             "rms": flat.square().mean().sqrt().reshape(1), "sum": flat.sum().reshape(1)}
        if name in ("Mixed_6e", "Mixed_7a"):
            self.keep[name + "_pool"] = out.mean((2, 3)).double()

    def close(self):
        for h in self.handles:
            h.remove()


def check_shapes(model, layers, n):
    """Every stage has the specification's C x H x W; every conv has its out_channels and the spatial
    size of its block's input or output."""
    hw_in = {"Mixed_5": 35, "Mixed_6a": 35, "Mixed_6": 17, "Mixed_7a": 17, "Mixed_7": 8}
    assert tuple(layers["input"]["shape"].tolist()) == (n, 3, 299, 299)
    for name, m in basic_convs(model):
        if name not in layers:
            continue
        shape = tuple(layers[name]["shape"].tolist())
        block = name.split(".")[0]
        if block in STAGE_SHAPES and "." not in name:
            continue
        allowed = {STAGE_SHAPES[block][1]}
        allowed.add(next(v for k, v in hw_in.items() if block.startswith(k)))
        assert shape[0] == n and shape[1] == m.conv.out_channels and shape[2] == shape[3] \
            and shape[2] in allowed, (name, shape)
    for name, chw in STAGE_SHAPES.items():
        if name in layers:
            assert tuple(layers[name]["shape"].tolist()) == (n,) + chw, (name, layers[name]["shape"])


def check_pool_padding(keep):
    """Average pooling divides by the valid pixels (4 at a corner, 6 on an edge); the max pool of
    Mixed_7c ignores its padding."""
    x, p = keep["Mixed_5b.in"], keep["Mixed_5b.pooled"]
    rtol = 1e-12 if x.dtype == torch.float64 else 1e-5
    for (i, j), (rows, cols) in {(0, 0): ((0, 2), (0, 2)), (0, 7): ((0, 2), (6, 9)),
                                 (34, 34): ((33, 35), (33, 35)), (9, 20): ((8, 11), (19, 22))}.items():
        want = x[:, :, rows[0]:rows[1], cols[0]:cols[1]].mean((2, 3))
        assert torch.allclose(p[:, :, i, j], want, rtol=rtol, atol=0), (i, j)
    if "Mixed_7c.in" in keep:
        x, p = keep["Mixed_7c.in"], keep["Mixed_7c.pooled"]
        assert torch.equal(p[:, :, 0, 0], x[:, :, 0:2, 0:2].amax((2, 3)))
        assert torch.equal(p[:, :, 7, 3], x[:, :, 6:8, 2:5].amax((2, 3)))


def run_reference(model, images, upto=None):
    rec = Recorder(model)
    with torch.no_grad():
        out = model(images, upto=upto)
    rec.close()
    check_shapes(model, rec.layers, images.shape[0])
    check_pool_padding(rec.keep)
    return out, rec


def layer_tensors(layers):
    tensors = []
    for name, d in layers.items():
        tensors += [(f"layer.{name}.{k}", d[k]) for k in ("index", "value", "shape", "rms", "sum")]
    return tensors


def rel_err(a, b):
    """Largest |a - b| relative to the RMS of b (the C++ tests' measure)."""
    b = b.double()
    return ((a.double() - b).abs().max() / b.square().mean().sqrt()).item()


def print_float32_error(layers32, layers64):
    """The float32 network's error at the sampled points: what a correct float32 engine should see."""
    errs = {n: ((layers32[n]["value"] - d["value"]).abs().max() / d["rms"]).item()
            for n, d in layers64.items()}
    worst = max(errs, key=errs.get)
    print("  float32 vs float64 at the samples: worst %.2g (%s), median layer %.2g"
          % (errs[worst], worst, float(np.median(list(errs.values())))))


# ----------------------------------------------------------------------------------------------
# Images


def make_images(seed, n, h, w):
    """Smooth colour patterns plus noise, quantised to k/255 and rounded to float32, so that an engine
    computing uint8 / 255 in float32 sees exactly these values."""
    rng = np.random.default_rng(seed)
    v, u = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing="ij")
    img = np.empty((n, 3, h, w))
    for i in range(n):
        for c in range(3):
            f1, f2, phase = rng.uniform(0.5, 3), rng.uniform(0.5, 3), rng.uniform(0, 2 * np.pi)
            pattern = 0.5 + 0.35 * np.sin(2 * np.pi * (f1 * u + f2 * v) + phase) * np.cos(3 * u * v + c)
            img[i, c] = pattern + 0.12 * rng.normal(size=(h, w))
    k = np.clip(np.round(img * 255), 0, 255)
    return torch.from_numpy((k / 255).astype(np.float32).astype(np.float64))


# ----------------------------------------------------------------------------------------------
# Random weights in pytorch-fid's layout


def read_tsv(path):
    with open(path) as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def parse_list(text):
    return [int(v) for v in text.strip("[]").split(",") if v.strip()]


def plan_conv_view(t, name, shape):
    """Strides and storage offset of conv weight number t. HWIO: the real file's (1, O, I*O*kW, I*O).
    Otherwise small strides: the kernel taps in row- or column-major order, input channels s_i >= kh*kw
    apart (so one output channel's weights are distinct values) and output channels a small prime
    apart, so the views of the same storage overlap yet look random."""
    o, i, kh, kw = shape
    if name in HWIO_CONVS:
        return (1, o, i * o * kw, i * o), 0
    if name in CONTIGUOUS_CONVS:
        return (i * kh * kw, kh * kw, kw, 1), 37 * (t + 1)
    s_h, s_w = (kw, 1) if t % 2 == 0 else (1, kh)
    s_i = kh * kw + t % 3
    s_o = (5, 7, 11, 13, 17, 19, 23)[t % 7]
    offset = (t * 389) % 1024
    return (s_o, s_i, s_h, s_w), offset


def extent(shape, strides, offset):
    return offset + sum((d - 1) * s for d, s in zip(shape, strides)) + 1


def random_state_dict(model):
    """State dict of pytorch-fid's keys and shapes whose tensors are views of a few shared storages
    (see the module docstring). Returns it and each storage's element count."""
    g = torch.Generator().manual_seed(SEED)
    plan = collections.OrderedDict()  # key -> (storage name, shape, strides, offset)
    for t, (name, m) in enumerate(basic_convs(model)):
        shape = tuple(m.conv.weight.shape)
        strides, offset = plan_conv_view(t, name, shape)
        fan_in = shape[1] * shape[2] * shape[3]
        plan[name + ".conv.weight"] = ("conv%d" % fan_in, shape, strides, offset)
        c = shape[0]
        for j, kind in enumerate(("weight", "bias", "running_mean", "running_var")):
            stride = (1, 1, 2, 3)[(t + j) % 4]
            plan[f"{name}.bn.{kind}"] = ("bn." + kind, (c,), (stride,), (t * 131 + j * 57) % 509)
        plan[name + ".bn.num_batches_tracked"] = ("num_batches_tracked", (), (), t % 8)
    plan["fc.weight"] = ("fc.weight", (1008, 2048), FC_STRIDES, 3)
    plan["fc.bias"] = ("fc.bias", (1008,), (1,), 5)

    sizes = collections.OrderedDict()
    for storage, shape, strides, offset in plan.values():
        sizes[storage] = max(sizes.get(storage, 0), extent(shape, strides, offset))

    def fill(storage, n):
        if storage.startswith("conv"):
            fan_in = int(storage[4:])
            return torch.randn(n, generator=g) * math.sqrt(2.0 / fan_in)  # He scale: RMS stays O(1)
        if storage == "num_batches_tracked":
            return torch.zeros(n, dtype=torch.int64)
        if storage == "fc.weight":
            return torch.randn(n, generator=g) / math.sqrt(2048)
        if storage == "fc.bias":
            return torch.randn(n, generator=g) * 0.5
        lo, hi = {"bn.weight": (0.9, 1.1), "bn.bias": (-0.1, 0.1), "bn.running_mean": (-0.1, 0.1),
                  "bn.running_var": (0.5, 1.5)}[storage]
        return lo + (hi - lo) * torch.rand(n, generator=g)

    storages = {s: fill(s, n) for s, n in sizes.items()}
    sd = collections.OrderedDict()
    for key, (storage, shape, strides, offset) in plan.items():
        sd[key] = storages[storage].as_strided(shape, strides, offset)
    sd._metadata = model.state_dict()._metadata  # the module versions, as a saved state dict has them
    return sd, sizes


def check_against_tsv(sd):
    rows = read_tsv(os.path.join(SHARED, "pt_inception_state_dict_keys.tsv"))
    want = {r["key"]: (parse_list(r["shape"]), r["storage_type"]) for r in rows}
    assert len(want) == 566 and set(want) == set(sd), set(want) ^ set(sd)
    for key, t in sd.items():
        shape, storage_type = want[key]
        assert list(t.shape) == shape, (key, t.shape, shape)
        assert (t.dtype == torch.int64) == (storage_type == "LongStorage"), key


def check_reload(sd, paths):
    """Both files reload to the same keys, dtypes, shapes, strides, offsets and values, with the
    storages still shared."""
    for path in paths:
        got = torch.load(path)
        assert list(got) == list(sd), path
        for key, t in sd.items():
            u = got[key]
            assert u.dtype == t.dtype and u.shape == t.shape and u.stride() == t.stride() \
                and u.storage_offset() == t.storage_offset() and torch.equal(u, t), (path, key)
        n_storages = len({u.storage().data_ptr() for u in got.values()})
        assert n_storages == len({t.storage().data_ptr() for t in sd.values()}), path
    a, b = (torch.load(p) for p in paths)
    assert all(torch.equal(a[k], b[k]) for k in sd)
    return n_storages


def non_contiguous_convs(sd):
    return [k[:-len(".conv.weight")] for k, t in sd.items()
            if k.endswith(".conv.weight") and not t.is_contiguous()]


# ----------------------------------------------------------------------------------------------
# Real partial weights (BN folded)


def check_sha256(folder, names):
    want = {}
    with open(os.path.join(SHARED, "folded.sha256")) as f:
        for line in f:
            digest, fname = line.split()
            want[fname] = digest
    for n in names:
        with open(os.path.join(folder, n), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == want[n], n


def check_fold_against_truncated_pth(folded):
    """Where the truncated real checkpoint holds a whole conv weight (strides from the key table, data
    located by tests/data/pt_inception_storage_refs.tsv), the folded weight read as OHWI must be that
    weight times one factor per output channel, and exactly its float32 fold where the checkpoint also
    holds gamma and running_var. Catches a wrong OHWI / OIHW reading of the .dat files."""
    pth = os.path.join(SHARED, TRUNCATED_PTH)
    refs_path = os.path.join(DATA, "pt_inception_storage_refs.tsv")
    if not (os.path.exists(pth) and os.path.exists(refs_path)):
        return []
    with open(pth, "rb") as f:
        raw = f.read()
    refs = {r["key"]: r for r in read_tsv(refs_path)}
    keys = {r["key"]: r for r in read_tsv(os.path.join(SHARED, "pt_inception_state_dict_keys.tsv"))}

    def tensor(key):
        r, k = refs[key], keys[key]
        numel, begin = int(r["storage_numel"]), int(r["data_offset"])
        if begin + 4 * numel > len(raw):
            return None
        assert np.frombuffer(raw[begin - 8:begin], "<i8")[0] == numel, key  # the storage's count
        data = torch.from_numpy(np.frombuffer(raw[begin:begin + 4 * numel], "<f4").copy())
        return data.as_strided(parse_list(k["shape"]), parse_list(k["stride"]), int(r["storage_offset"]))

    checked = []
    for prefix, w_fold in folded.items():
        w = tensor(prefix + ".conv.weight")
        if w is None:
            continue
        scale = (w_fold * w).sum((1, 2, 3)) / w.square().sum((1, 2, 3))
        resid = (w_fold - w * scale.view(-1, 1, 1, 1)).abs().max() / w_fold.abs().max()
        assert resid < 1e-6, (prefix, resid.item())
        gamma, var = tensor(prefix + ".bn.weight"), tensor(prefix + ".bn.running_var")
        exact = gamma is not None and var is not None
        if exact:
            assert torch.equal(w * (gamma / torch.sqrt(var + BN_EPS)).view(-1, 1, 1, 1), w_fold), prefix
        checked.append("%s (%s)" % (prefix, "bit-exact" if exact else "per-channel scale"))
    assert checked, "no conv weight of the truncated checkpoint was checked"
    return checked


def load_folded(model, upto):
    """Replaces each BasicConv2d through block `upto` by relu(conv(x, W') + b'), W' read from OHWI.
    Checks the size of every shipped file against the layer map first."""
    folder = os.path.join(SHARED, "folded")
    rows = read_tsv(os.path.join(SHARED, "layer_map.tsv"))
    assert len(rows) == 94
    present = 0
    for r in rows:
        o, i, kh, kw = parse_list(r["pt_weight_shape_OIHW"])
        base = r["dat_basename"]
        assert int(r["dat_weights_bytes"]) == o * i * kh * kw * 4, base
        assert os.path.getsize(os.path.join(folder, f"bias_{base}.dat")) == o * 4, base
        wpath = os.path.join(folder, f"weights_{base}.dat")
        assert os.path.exists(wpath) or r["present_exact(wojtekcz)"] != "True", base
        if os.path.exists(wpath):
            assert os.path.getsize(wpath) == o * i * kh * kw * 4, base
            present += 1
    assert present >= 92

    stages = list(STEM_AND_BLOCKS[:STEM_AND_BLOCKS.index(upto) + 1])
    used = [r for r in rows if r["pytorch_prefix"].split(".")[0] in stages]
    check_sha256(folder, [f"{kind}_{r['dat_basename']}.dat" for r in used for kind in ("weights", "bias")])
    convs = dict(basic_convs(model))
    folded = {}
    for r in used:
        m = convs[r["pytorch_prefix"]]
        o, i, kh, kw = parse_list(r["pt_weight_shape_OIHW"])
        assert tuple(m.conv.weight.shape) == (o, i, kh, kw)
        w = np.fromfile(os.path.join(folder, f"weights_{r['dat_basename']}.dat"), dtype="<f4")
        b = np.fromfile(os.path.join(folder, f"bias_{r['dat_basename']}.dat"), dtype="<f4")
        w = torch.from_numpy(w.reshape(o, kh, kw, i)).permute(0, 3, 1, 2).contiguous()
        m.conv.weight = nn.Parameter(w)
        m.conv.bias = nn.Parameter(torch.from_numpy(b.copy()))
        m.bn = nn.Identity()
        folded[r["pytorch_prefix"]] = w
    checked = check_fold_against_truncated_pth(folded)
    print("  folded weights checked against the truncated checkpoint: " + (", ".join(checked) or "none"))
    return len(used)


# ----------------------------------------------------------------------------------------------


def print_rms(layers):
    names = [n for n in layers if n == "input" or "." not in n]
    print("  RMS: " + ", ".join("%s %.3g" % (n, layers[n]["rms"].item()) for n in names))


def write(path, tensors, meta):
    write_safetensors(path, tensors, meta)
    print("wrote %s (%d tensors, %d bytes)" % (os.path.normpath(path), len(tensors), os.path.getsize(path)))


def make_random(images):
    model = FIDInception().eval()
    sd, sizes = random_state_dict(model)
    check_against_tsv(sd)
    legacy = os.path.join(DATA, "fid_inception_random_legacy.pth")
    zipped = os.path.join(DATA, "fid_inception_random_zip.pth")
    torch.save(sd, legacy, _use_new_zipfile_serialization=False)
    torch.save(sd, zipped)
    n_storages = check_reload(sd, (legacy, zipped))
    for p in (legacy, zipped):
        print("wrote %s (%d bytes)" % (os.path.normpath(p), os.path.getsize(p)))
    print("  %d storages, %d elements; non-contiguous conv weights: %d of 94"
          % (n_storages, sum(sizes.values()), len(non_contiguous_convs(sd))))

    model.load_state_dict(torch.load(legacy), strict=True)  # the file is what the engine reads
    model64 = model.double()
    model32 = FIDInception().eval()
    model32.load_state_dict(torch.load(zipped), strict=True)
    fc_w = model64.fc.weight.detach()

    tensors = [("images.a", images["a"]), ("images.b", images["b"])]
    outs, layers = {}, None
    for batch in ("a", "b"):
        (pool3, logits), rec = run_reference(model64, images[batch])
        outs[batch] = {"pool3": pool3, "logits": logits, "logits_unbiased": pool3 @ fc_w.t(),
                       "mixed_6e_pool": rec.keep["Mixed_6e_pool"], "mixed_7a_pool": rec.keep["Mixed_7a_pool"]}
        tensors += [(f"{batch}.{k}", v) for k, v in outs[batch].items()]
        if batch == "a":
            layers = rec.layers
        # The float32 network on the same input: the error a correct float32 engine is expected to have.
        (p32, l32), rec32 = run_reference(model32, images[batch].float())
        if batch == "a":
            print_float32_error(rec32.layers, layers)
        print("  batch %s %s: float32 vs float64 pool3 %.2g, logits %.2g (relative to RMS)"
              % (batch, tuple(images[batch].shape), rel_err(p32, pool3), rel_err(l32, logits)))
    assert len(layers) == 1 + 94 + 2 + 11
    assert (outs["a"]["logits"] - outs["a"]["logits_unbiased"] - model64.fc.bias).abs().max() < 1e-12
    print_rms(layers)
    tensors += layer_tensors(layers)
    meta = {"generator": GENERATOR, "torch": torch.__version__, "layers": ",".join(layers),
            "samples_per_layer": str(SAMPLES), "sample_batch": "a",
            "weights": "fid_inception_random_legacy.pth (the same tensors as fid_inception_random_zip.pth)",
            "preprocess": "bilinear 299x299 align_corners=False, then 2x-1", "precision": "float64"}
    write(os.path.join(DATA, "fid_inception_random_golden.safetensors"), tensors, meta)
    return sd


def make_real_partial(images):
    if not os.path.isdir(os.path.join(SHARED, "folded")):
        print("skipped the real-weights file: %s not found" % os.path.normpath(SHARED))
        return
    model = FIDInception().eval()
    n_used = load_folded(model, "Mixed_7a")
    out32, rec32 = run_reference(model, images["a"].float(), upto="Mixed_7a")
    model64 = model.double()  # in place: the float32 run above came first
    out, rec = run_reference(model64, images["a"], upto="Mixed_7a")
    layers = rec.layers
    assert list(layers)[-1] == "Mixed_7a" and len(layers) == 1 + n_used + 2 + 9
    print("  real weights (%d folded convs): float32 vs float64 Mixed_7a %.2g (relative to RMS)"
          % (n_used, rel_err(out32, out)))
    print_float32_error(rec32.layers, layers)
    print_rms(layers)
    tensors = [("images.a", images["a"]), ("a.mixed_6e_pool", rec.keep["Mixed_6e_pool"]),
               ("a.mixed_7a_pool", rec.keep["Mixed_7a_pool"])]
    tensors += layer_tensors(layers)
    meta = {"generator": GENERATOR, "torch": torch.__version__, "layers": ",".join(layers),
            "samples_per_layer": str(SAMPLES), "sample_batch": "a", "upto": "Mixed_7a",
            "weights": "inception-fid-partial/folded: relu(conv(x, W') + b'), W' OHWI float32",
            "preprocess": "bilinear 299x299 align_corners=False, then 2x-1", "precision": "float64"}
    write(os.path.join(DATA, "fid_inception_real_partial_golden.safetensors"), tensors, meta)


def main():
    start = time.time()
    torch.manual_seed(SEED)
    images = {"a": make_images(SEED + 1, 2, 32, 32), "b": make_images(SEED + 2, 1, 45, 61)}
    for x in images.values():
        assert torch.equal(x.float().double(), x) and x.min() >= 0 and x.max() <= 1
    make_random(images)
    make_real_partial(images)
    print("done in %.1f s" % (time.time() - start))


if __name__ == "__main__":
    main()
