#!/usr/bin/python3
"""Writes tests/data/image_models_<case>_golden.safetensors: PyTorch references of gantry's image GAN
models (models/dcgan.h, models/sngan.h, models/sagan.h) at small widths, in float64 (the C++ tests
run in float64 and float32 against it), and one training step of each:

  dcgan          DCGAN generator + BatchNorm critic at 32x32 (also msgan and wgan-gc), NS loss
  wgan_gp        WGAN-GP's DCGAN-like nets (5x5 kernels, biases, no critic norm), Wasserstein loss
                 + gradient penalty (double backward) at fixed interpolation weights
  sngan          ResNet SNGAN (SN critic only), hinge loss
  sngan_cond     class-conditional SNGAN (categorical CBN, SN projection critic)
  sagan          SAGAN: SN in both networks, self-attention at 16x16 in both
  sagan_cond     class-conditional SAGAN

Each file holds the state dicts before the step (torch.nn.utils.spectral_norm names: weight_orig,
weight_u, weight_v), the inputs, the fake images, the critic's scores and losses, the gradient of
every parameter of both networks, the critic's buffers after its first training forward (u/v after
one power iteration), and every buffer after the step (u/v, BatchNorm running statistics).

Run with Debian's interpreter:  /usr/bin/python3 tests/golden/make_image_models_golden.py"""
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import spectral_norm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_attention_golden import Attention  # noqa: E402
from make_mlp_golden import write_safetensors  # noqa: E402
from make_resnet_golden import CategoricalCBN  # noqa: E402

SEED = 20240620
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
BATCH, CHANNELS, IMAGE = 3, 3, 32
LABELS = [2, 0, 2]  # a repeated class: its table rows accumulate two samples' gradients
NUM_CLASSES = 4
GP_WEIGHT = 10.0


# ---- DCGAN family (PyTorch's DCGAN example layout) ---------------------------------------------

class DcganGenerator(nn.Module):
    def __init__(self, latent, width, kernel, bias):
        super().__init__()
        self.latent = latent
        pad, extra = (2, 1) if kernel == 5 else (1, 0)
        c = width * 4
        layers = [nn.ConvTranspose2d(latent, c, 4, 1, 0, bias=bias), nn.BatchNorm2d(c), nn.ReLU()]
        for _ in range(2):
            layers += [nn.ConvTranspose2d(c, c // 2, kernel, 2, pad, output_padding=extra, bias=bias),
                       nn.BatchNorm2d(c // 2), nn.ReLU()]
            c //= 2
        layers += [nn.ConvTranspose2d(c, CHANNELS, kernel, 2, pad, output_padding=extra, bias=bias), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z, y=None):
        return self.main(z.view(z.shape[0], self.latent, 1, 1))


class DcganCritic(nn.Module):
    def __init__(self, width, kernel, bias, norm):
        super().__init__()
        pad = 2 if kernel == 5 else 1
        c, size = width, IMAGE // 2
        layers = [nn.Conv2d(CHANNELS, c, kernel, 2, pad, bias=bias), nn.LeakyReLU(0.2)]
        for _ in range(2):
            size //= 2
            layers.append(nn.Conv2d(c, 2 * c, kernel, 2, pad, bias=bias))
            if norm:
                layers.append(nn.BatchNorm2d(2 * c))
            layers.append(nn.LeakyReLU(0.2))
            c *= 2
        layers.append(nn.Conv2d(c, 1, 4, 1, 0, bias=bias))
        self.main = nn.Sequential(*layers)

    def forward(self, x, y=None):
        return self.main(x).view(-1)


# ---- ResNet SNGAN / SAGAN backbone (models/resnet_gan32.h) -------------------------------------

def sn_if(layer, sn):
    return spectral_norm(layer) if sn else layer


class GBlock(nn.Module):
    def __init__(self, ch, num_classes, sn):
        super().__init__()
        self.conv1 = sn_if(nn.Conv2d(ch, ch, 3, padding=1), sn)
        self.conv2 = sn_if(nn.Conv2d(ch, ch, 3, padding=1), sn)
        self.conv_sc = sn_if(nn.Conv2d(ch, ch, 1), sn)
        self.conditional = num_classes > 0
        self.bn1 = CategoricalCBN(ch, num_classes) if self.conditional else nn.BatchNorm2d(ch)
        self.bn2 = CategoricalCBN(ch, num_classes) if self.conditional else nn.BatchNorm2d(ch)

    def norm(self, bn, x, y):
        return bn(x, y) if self.conditional else bn(x)

    def forward(self, x, y):
        h = F.interpolate(F.relu(self.norm(self.bn1, x, y)), scale_factor=2, mode="nearest")
        h = self.conv2(F.relu(self.norm(self.bn2, self.conv1(h), y)))
        return h + self.conv_sc(F.interpolate(x, scale_factor=2, mode="nearest"))


class DBlock(nn.Module):
    def __init__(self, cin, cout, first, downsample):
        super().__init__()
        self.first, self.downsample = first, downsample
        self.conv1 = spectral_norm(nn.Conv2d(cin, cout, 3, padding=1))
        self.conv2 = spectral_norm(nn.Conv2d(cout, cout, 3, padding=1))
        self.conv_sc = spectral_norm(nn.Conv2d(cin, cout, 1)) if (cin != cout or downsample) else None

    def forward(self, x):
        h = self.conv2(F.relu(self.conv1(x if self.first else F.relu(x))))
        if self.downsample:
            h = F.avg_pool2d(h, 2)
        s = x
        if self.first:
            s = self.conv_sc(F.avg_pool2d(s, 2))
        elif self.conv_sc is not None:
            s = self.conv_sc(s)
            if self.downsample:
                s = F.avg_pool2d(s, 2)
        return h + s


def attention(ch, sn):
    """BigGAN's self-attention layer (gantry's nn::SelfAttention), its projections SN when asked."""
    block = Attention(ch)
    if sn:
        for name in ("theta", "phi", "g", "o"):
            setattr(block, name, spectral_norm(getattr(block, name)))
    return block


class ResnetGenerator32(nn.Module):
    def __init__(self, latent, width, num_classes, sn, attention_after):
        super().__init__()
        self.width = width
        self.l1 = sn_if(nn.Linear(latent, 16 * width), sn)
        self.order = []
        for i in range(3):
            setattr(self, "block%d" % (i + 2), GBlock(width, num_classes, sn))
            self.order.append("block%d" % (i + 2))
            if attention_after == i:
                self.attn_block = attention(width, sn)
                self.order.append("attn_block")
        self.b5 = nn.BatchNorm2d(width)
        self.c5 = sn_if(nn.Conv2d(width, CHANNELS, 3, padding=1), sn)

    def forward(self, z, y=None):
        h = self.l1(z).view(z.shape[0], self.width, 4, 4)
        for name in self.order:
            h = getattr(self, name)(h) if name == "attn_block" else getattr(self, name)(h, y)
        return torch.tanh(self.c5(F.relu(self.b5(h))))


class ResnetDiscriminator32(nn.Module):
    def __init__(self, width, num_classes, attention_after):
        super().__init__()
        self.order = []
        kinds = [(CHANNELS, True, True), (width, False, True), (width, False, False), (width, False, False)]
        for i, (cin, first, down) in enumerate(kinds):
            setattr(self, "block%d" % (i + 1), DBlock(cin, width, first, down))
            self.order.append("block%d" % (i + 1))
            if attention_after == i:
                self.attn_block = attention(width, True)
                self.order.append("attn_block")
        self.l5 = spectral_norm(nn.Linear(width, 1, bias=False))
        self.l_y = spectral_norm(nn.Embedding(num_classes, width)) if num_classes > 0 else None

    def forward(self, x, y=None):
        h = x
        for name in self.order:
            h = getattr(self, name)(h)
        h = torch.sum(F.relu(h), dim=(2, 3))
        out = self.l5(h).view(-1)
        if self.l_y is not None:
            out = out + torch.sum(self.l_y(y) * h, dim=1)
        return out


# ---- the step ------------------------------------------------------------------------------------

def randomise(model):
    """Non-trivial values where the init is constant: BatchNorm/CBN tables, attention gamma."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d) and m.affine:
                m.weight.copy_(1 + 0.3 * torch.randn_like(m.weight))
                m.bias.copy_(0.3 * torch.randn_like(m.bias))
            elif isinstance(m, CategoricalCBN):
                m.gain.weight.copy_(1 + 0.3 * torch.randn_like(m.gain.weight))
                m.bias.weight.copy_(0.3 * torch.randn_like(m.bias.weight))
            elif isinstance(m, Attention):
                m.gamma.fill_(0.6)


def state(prefix, module):
    return [(prefix + n, t.detach().clone()) for n, t in module.state_dict().items()]


def buffers(prefix, module):
    return [(prefix + n, t.detach().clone()) for n, t in module.named_buffers()]


def gradient_penalty(critic, real, fake, alpha):
    mix = (real + alpha * (fake - real)).detach().requires_grad_(True)
    (dx,) = torch.autograd.grad(critic(mix).sum(), mix, create_graph=True)
    return ((dx.flatten(1).norm(2, dim=1) - 1) ** 2).mean()


LOSSES = {
    "ns": (lambda r, f: F.softplus(-r).mean() + F.softplus(f).mean(), lambda f: F.softplus(-f).mean()),
    "hinge": (lambda r, f: F.relu(1 - r).mean() + F.relu(1 + f).mean(), lambda f: -f.mean()),
    "wasserstein": (lambda r, f: f.mean() - r.mean(), lambda f: -f.mean()),
}


def write_gan_golden(file_name, tensors, meta, gen, critic):
    """Writes tests/data/<file_name> and says what it holds."""
    path = os.path.join(DATA, file_name)
    write_safetensors(path, tensors, meta)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    print("wrote %s (%d tensors, %d bytes; G %d, D %d parameters)" %
          (os.path.normpath(path), len(tensors), os.path.getsize(path), count(gen), count(critic)))


def run_case(name, gen, critic, latent, loss, conditional, gp=False):
    randomise(gen)
    randomise(critic)
    tensors = state("G.", gen) + state("D.", critic)
    z = torch.randn(BATCH, latent)
    real = torch.rand(BATCH, CHANNELS, IMAGE, IMAGE) * 2 - 1
    y = torch.tensor(LABELS) if conditional else None
    tensors += [("z", z), ("real", real)] + ([("labels", y)] if conditional else [])
    d_loss, g_loss = LOSSES[loss]

    # Critic step: real and fake as separate batches (each forward one power iteration).
    fake = gen(z, y)
    score_real = critic(real, y)
    tensors += buffers("after_first_forward.D.", critic)
    score_fake = critic(fake.detach(), y)
    loss_d = d_loss(score_real, score_fake)
    if gp:
        alpha = torch.rand(BATCH, 1, 1, 1)
        tensors.append(("gp.alpha", alpha))
        penalty = gradient_penalty(critic, real, fake.detach(), alpha)
        tensors.append(("gp.value", penalty.detach().reshape(())))
        loss_d = loss_d + GP_WEIGHT * penalty
    grads_d = torch.autograd.grad(loss_d, list(critic.parameters()), allow_unused=True)
    tensors += [("fake", fake.detach()), ("score.real", score_real.detach()), ("score.fake", score_fake.detach()),
                ("loss.D", loss_d.detach().reshape(()))]
    tensors += [("grad.D." + n, g if g is not None else torch.zeros_like(p))
                for (n, p), g in zip(critic.named_parameters(), grads_d)]

    # Generator step through the critic (still in training mode).
    loss_g = g_loss(critic(fake, y))
    grads_g = torch.autograd.grad(loss_g, list(gen.parameters()))
    tensors += [("loss.G", loss_g.detach().reshape(()))]
    tensors += [("grad.G." + n, g) for (n, _), g in zip(gen.named_parameters(), grads_g)]
    tensors += buffers("after.G.", gen) + buffers("after.D.", critic)

    meta = {"generator": "tests/golden/make_image_models_golden.py", "torch": torch.__version__, "case": name,
            "loss": loss, "gradient_penalty": str(GP_WEIGHT if gp else 0.0), "latent_dim": str(latent),
            "num_classes": str(NUM_CLASSES if conditional else 0)}
    write_gan_golden("image_models_%s_golden.safetensors" % name, tensors, meta, gen, critic)


def main():
    torch.manual_seed(SEED)
    torch.set_default_dtype(torch.float64)
    run_case("dcgan", DcganGenerator(8, 4, 4, False), DcganCritic(4, 4, False, True), 8, "ns", False)
    run_case("wgan_gp", DcganGenerator(8, 4, 5, True), DcganCritic(4, 5, True, False), 8, "wasserstein", False,
             gp=True)
    for conditional in (False, True):
        k = NUM_CLASSES if conditional else 0
        suffix = "_cond" if conditional else ""
        run_case("sngan" + suffix, ResnetGenerator32(8, 8, k, False, None), ResnetDiscriminator32(8, k, None), 8,
                 "hinge", conditional)
        # Attention after the generator's second block and the critic's first (both 16x16).
        run_case("sagan" + suffix, ResnetGenerator32(8, 8, k, True, 1), ResnetDiscriminator32(8, k, 0), 8, "hinge",
                 conditional)


if __name__ == "__main__":
    main()
