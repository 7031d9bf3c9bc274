#!/usr/bin/python3
"""Writes tests/data/dcgan_golden.safetensors: a small DCGAN generator and critic (PyTorch's DCGAN
example layout for 16x16 images, BatchNorm in both, bias-free convolutions, a raw critic score) in
float32, with one non-saturating GAN step's worth of results: the fake images, the critic's scores,
the gradients of the critic loss softplus(-D(real)) + softplus(D(fake)) w.r.t. every critic
parameter and of the generator loss softplus(-D(G(z))) w.r.t. every generator parameter, the
BatchNorm running statistics afterwards, and evaluation-mode outputs that use them.

Run with Debian's interpreter:  /usr/bin/python3 tests/golden/make_dcgan_golden.py"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_mlp_golden import write_safetensors  # noqa: E402

SEED = 20240614
LATENT, IMAGE, CHANNELS, G_WIDTH, D_WIDTH, SLOPE = 8, 16, 3, 4, 4, 0.2
BATCH = 4
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "dcgan_golden.safetensors")


class Generator(torch.nn.Module):
    def __init__(self):
        super().__init__()
        n = int(math.log2(IMAGE)) - 2
        width = G_WIDTH * 2 ** (n - 1)
        layers = [torch.nn.ConvTranspose2d(LATENT, width, 4, 1, 0, bias=False), torch.nn.BatchNorm2d(width),
                  torch.nn.ReLU(True)]
        for _ in range(n - 1):
            layers += [torch.nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                       torch.nn.BatchNorm2d(width // 2), torch.nn.ReLU(True)]
            width //= 2
        layers += [torch.nn.ConvTranspose2d(width, CHANNELS, 4, 2, 1, bias=False), torch.nn.Tanh()]
        self.main = torch.nn.Sequential(*layers)

    def forward(self, z):
        return self.main(z.view(z.shape[0], LATENT, 1, 1))


class Critic(torch.nn.Module):
    def __init__(self):
        super().__init__()
        n = int(math.log2(IMAGE)) - 2
        width = D_WIDTH
        layers = [torch.nn.Conv2d(CHANNELS, width, 4, 2, 1, bias=False), torch.nn.LeakyReLU(SLOPE, True)]
        for _ in range(n - 1):
            layers += [torch.nn.Conv2d(width, width * 2, 4, 2, 1, bias=False), torch.nn.BatchNorm2d(width * 2),
                       torch.nn.LeakyReLU(SLOPE, True)]
            width *= 2
        layers += [torch.nn.Conv2d(width, 1, 4, 1, 0, bias=False)]
        self.main = torch.nn.Sequential(*layers)

    def forward(self, x):
        return self.main(x).view(-1)


def dcgan_init(m):
    """The DCGAN paper's scheme with ten times its std (0.2), so activations are far from zero and tanh
    far from linear, plus non-trivial BatchNorm biases so their gradients matter."""
    if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
        torch.nn.init.normal_(m.weight, 0.0, 0.2)
    elif isinstance(m, torch.nn.BatchNorm2d):
        torch.nn.init.normal_(m.weight, 1.0, 0.2)
        torch.nn.init.uniform_(m.bias, -0.3, 0.3)


def main():
    torch.manual_seed(SEED)
    gen, critic = Generator(), Critic()
    gen.apply(dcgan_init)
    critic.apply(dcgan_init)
    tensors = [("G." + n, t.detach().clone()) for n, t in gen.state_dict().items()]
    tensors += [("D." + n, t.detach().clone()) for n, t in critic.state_dict().items()]
    z = torch.randn(BATCH, LATENT)
    real = torch.rand(BATCH, CHANNELS, IMAGE, IMAGE) * 2 - 1
    tensors += [("z", z), ("real", real)]

    # Critic step: real and fake batches through BatchNorm separately, as in the DCGAN example.
    fake = gen(z)
    score_real, score_fake = critic(real), critic(fake.detach())
    loss_d = F.softplus(-score_real).mean() + F.softplus(score_fake).mean()
    grads_d = torch.autograd.grad(loss_d, list(critic.parameters()))
    tensors += [("fake", fake.detach()), ("score.real", score_real.detach()), ("score.fake", score_fake.detach()),
                ("loss.D", loss_d.detach().reshape(()))]
    tensors += [("grad.D." + n, g) for (n, _), g in zip(critic.named_parameters(), grads_d)]

    # Generator step through the same critic (still in training mode).
    loss_g = F.softplus(-critic(fake)).mean()
    grads_g = torch.autograd.grad(loss_g, list(gen.parameters()))
    tensors += [("loss.G", loss_g.detach().reshape(()))]
    tensors += [("grad.G." + n, g) for (n, _), g in zip(gen.named_parameters(), grads_g)]

    tensors += [("after.G." + n, t.clone()) for n, t in gen.state_dict().items() if "running" in n or "tracked" in n]
    tensors += [("after.D." + n, t.clone()) for n, t in critic.state_dict().items() if "running" in n or "tracked" in n]

    gen.eval()
    critic.eval()
    with torch.no_grad():
        tensors += [("eval.fake", gen(z)), ("eval.score.real", critic(real))]

    meta = {"generator": "tests/golden/make_dcgan_golden.py", "torch": torch.__version__,
            "latent_dim": str(LATENT), "image_size": str(IMAGE), "channels": str(CHANNELS),
            "generator_width": str(G_WIDTH), "critic_width": str(D_WIDTH), "leaky_relu_slope": str(SLOPE)}
    write_safetensors(OUT, tensors, meta)
    print("wrote %s (%d tensors, %d bytes)" % (os.path.normpath(OUT), len(tensors), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
