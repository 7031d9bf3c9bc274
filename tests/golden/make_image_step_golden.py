#!/usr/bin/python3
"""Writes tests/data/image_step_<case>_golden.safetensors: one full training step of every image-GAN
preset (train/image/image_config.cpp) in PyTorch, float64, doing what train::GanTrainer::step() does:

  critic_steps critic updates, each: a real batch, fakes made without history (the generator in
  training mode, so its batch-norm statistics move), the critic loss on real and fake scores, the
  regulariser (gradient penalty), the optimiser step, then weight clipping;
  one generator update: fresh latents, the fakes' scores, top-k selection (when enabled), the
  adversarial loss plus the mode-seeking term over the whole batch, the optimiser step.

Cases (small widths; the networks are make_image_models_golden.py's):

  dcgan       non-saturating, Adam 2e-4 (0.5, 0.999), 1 critic step
  msgan       dcgan + the mode-seeking term (weight 1, eps 1e-5)
  wgan_gc     Wasserstein, RMSprop 5e-5 (alpha 0.99, eps 1e-8), clipping to 0.01, 5 critic steps
  wgan_gp     Wasserstein + gradient penalty 10, Adam 1e-4 (0, 0.9), 5 critic steps
  sngan       hinge, Adam 2e-4 (0, 0.9), 5 critic steps (SN critic)
  sngan_cond  class-conditional sngan
  sagan       hinge, Adam 1e-4 / 4e-4 (0, 0.9), 1 critic step (SN and attention in both)
  sagan_cond  class-conditional sagan
  sagan_topk  sagan with top-k (k = 2 of 4) on the generator's loss: its critic scores each sample on
              its own (no batch norm), so the discarded fakes get exactly zero gradient

Every random draw of the step is written for the C++ test to replay: per critic update j the real
batch d<j>.real (+ d<j>.real_labels), latents d<j>.z, fake labels d<j>.fake_labels and interpolation
weights d<j>.gp.eps; the generator's g.z and g.fake_labels. Draws are float32 values (half the size)
used in float64. Results: per update u (d0, d1, ..., g) the critic's scores of every forward (u.score.real,
u.score.fake, u.score.mixed for the penalty's interpolates; g.score), u.loss, u.penalty / u.ms_term, every
parameter gradient u.grad.<net>.<name>, the optimiser state after the update (u.exp_avg.<net>.<name>
and u.exp_avg_sq.<net>.<name> for Adam, u.square_avg.<net>.<name> for RMSprop); after.<net>.<name>
the full state dicts after the step (weights, clipped for wgan-gc; spectral-norm u/v; batch-norm
running statistics); for top-k, g.adv_grad_fake: the gradient of the adversarial generator loss
w.r.t. the fakes (the discarded rows exactly zero). The metadata holds the preset's settings, which
the test checks against gantry's presets.

Run with Debian's interpreter:  /usr/bin/python3 tests/golden/make_image_step_golden.py"""
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_image_models_golden import (CHANNELS, IMAGE, LOSSES, DcganCritic, DcganGenerator,  # noqa: E402
                                      ResnetDiscriminator32, ResnetGenerator32, randomise, state, write_gan_golden)

SEED = 20240722
BATCH = 4
NUM_CLASSES = 4
MS_EPS = 1e-5
ADAM_EPS = RMSPROP_EPS = 1e-8
RMSPROP_ALPHA = 0.99


def preset(model):
    """The settings of gantry's preset (ImageTrainConfig::preset)."""
    p = {"loss": "ns", "optimizer": "adam", "g_lr": 2e-4, "d_lr": 2e-4, "beta1": 0.5, "beta2": 0.999,
         "d_steps": 1, "gp_weight": 0.0, "clip": 0.0, "ms_weight": 0.0}
    if model == "wgan-gc":
        p.update(loss="wasserstein", optimizer="rmsprop", g_lr=5e-5, d_lr=5e-5, clip=0.01, d_steps=5)
    elif model == "wgan-gp":
        p.update(loss="wasserstein", g_lr=1e-4, d_lr=1e-4, beta1=0.0, beta2=0.9, gp_weight=10.0, d_steps=5)
    elif model == "msgan":
        p.update(ms_weight=1.0)
    elif model == "sngan":
        p.update(loss="hinge", beta1=0.0, beta2=0.9, d_steps=5)
    elif model == "sagan":
        p.update(loss="hinge", g_lr=1e-4, d_lr=4e-4, beta1=0.0, beta2=0.9)
    return p


def optimizer(p, params, lr):
    if p["optimizer"] == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=RMSPROP_ALPHA, eps=RMSPROP_EPS)
    return torch.optim.Adam(params, lr=lr, betas=(p["beta1"], p["beta2"]), eps=ADAM_EPS)


def draw(*shape):
    """Uniform [0, 1) values exact in float32, used in float64."""
    return torch.rand(*shape, dtype=torch.float32).double()


def gradient_penalty(critic, real, real_y, fake, eps, weight):
    """GradientPenalty::penalty: eps real + (1 - eps) fake, norms as sqrt(sum g^2 + 1e-12); and the
    interpolates' scores."""
    mix = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)
    scores = critic(mix, real_y)
    (dx,) = torch.autograd.grad(scores.sum(), mix, create_graph=True)
    norms = torch.sqrt((dx.flatten(1) ** 2).sum(1) + 1e-12)
    return weight * ((norms - 1) ** 2).mean(), scores


def mode_seeking(z, fake, weight):
    """ModeSeekingTerm: weight / (mean|G(z1) - G(z2)| / mean|z1 - z2| + eps) over the batch's halves."""
    h = fake.shape[0] // 2
    ratio = (fake[:h] - fake[h:2 * h]).abs().mean() / (z[:h] - z[h:2 * h]).abs().mean().detach()
    return weight / (ratio + MS_EPS)


def record_update(out, prefix, net_prefix, net, grads, opt):
    out += [("%s.grad.%s%s" % (prefix, net_prefix, n), g) for (n, _), g in zip(net.named_parameters(), grads)]
    for n, p in net.named_parameters():
        for key, value in opt.state[p].items():
            if key != "step":
                out.append(("%s.%s.%s%s" % (prefix, key, net_prefix, n), value.detach().clone()))


def apply(opt, params, loss):
    grads = [g if g is not None else torch.zeros_like(p)
             for p, g in zip(params, torch.autograd.grad(loss, params, allow_unused=True))]
    for p, g in zip(params, grads):
        p.grad = g
    opt.step()
    return grads


def run_case(name, model, gen, critic, latent, conditional=False, top_k=0):
    p = preset(model)
    d_loss_fn, g_loss_fn = LOSSES[p["loss"]]
    randomise(gen)
    randomise(critic)
    out = state("G.", gen) + state("D.", critic)
    g_params, d_params = list(gen.parameters()), list(critic.parameters())
    opt_g, opt_d = optimizer(p, g_params, p["g_lr"]), optimizer(p, d_params, p["d_lr"])
    labels = (lambda: torch.randint(0, NUM_CLASSES, (BATCH,))) if conditional else (lambda: None)

    for j in range(p["d_steps"]):
        u = "d%d" % j
        real = draw(BATCH, CHANNELS, IMAGE, IMAGE) * 2 - 1
        real_y, fake_y = labels(), labels()
        z = torch.randn(BATCH, latent, dtype=torch.float32).double()
        out += [(u + ".real", real.float()), (u + ".z", z.float())]
        if conditional:
            out += [(u + ".real_labels", real_y), (u + ".fake_labels", fake_y)]
        with torch.no_grad():
            fake = gen(z, fake_y)
        score_real, score_fake = critic(real, real_y), critic(fake, fake_y)
        out += [(u + ".score.real", score_real.detach()), (u + ".score.fake", score_fake.detach())]
        loss = d_loss_fn(score_real, score_fake)
        if p["gp_weight"] > 0:
            eps = draw(BATCH, 1, 1, 1)
            out.append((u + ".gp.eps", eps.float()))
            penalty, score_mixed = gradient_penalty(critic, real, real_y, fake, eps, p["gp_weight"])
            out.append((u + ".score.mixed", score_mixed.detach()))
            out.append((u + ".penalty", penalty.detach().reshape(())))
            loss = loss + penalty
        out.append((u + ".loss", loss.detach().reshape(())))
        record_update(out, u, "D.", critic, apply(opt_d, d_params, loss), opt_d)
        if p["clip"] > 0:
            with torch.no_grad():
                for w in d_params:
                    w.clamp_(-p["clip"], p["clip"])

    fake_y = labels()
    z = torch.randn(BATCH, latent, dtype=torch.float32).double()
    out.append(("g.z", z.float()))
    if conditional:
        out.append(("g.fake_labels", fake_y))
    fake = gen(z, fake_y)
    scores = critic(fake, fake_y)
    out.append(("g.score", scores.detach()))
    selected = torch.topk(scores, top_k).values if top_k else scores
    loss = g_loss_fn(selected)
    if top_k:
        (adv_grad_fake,) = torch.autograd.grad(loss, fake, retain_graph=True)
        discarded = adv_grad_fake.flatten(1).abs().sum(1) == 0
        assert int(discarded.sum()) == BATCH - top_k, "top-k: the discarded fakes must get zero gradient"
        out.append(("g.adv_grad_fake", adv_grad_fake))
    if p["ms_weight"] > 0:
        term = mode_seeking(z, fake, p["ms_weight"])
        out.append(("g.ms_term", term.detach().reshape(())))
        loss = loss + term
    out.append(("g.loss", loss.detach().reshape(())))
    record_update(out, "g", "G.", gen, apply(opt_g, g_params, loss), opt_g)
    out += state("after.G.", gen) + state("after.D.", critic)

    meta = {"generator": "tests/golden/make_image_step_golden.py", "torch": torch.__version__, "case": name,
            "model": model, "batch": str(BATCH), "latent_dim": str(latent), "top_k": str(top_k),
            "num_classes": str(NUM_CLASSES if conditional else 0), "adam_eps": str(ADAM_EPS),
            "rmsprop_alpha": str(RMSPROP_ALPHA), "rmsprop_eps": str(RMSPROP_EPS), "ms_eps": str(MS_EPS)}
    meta.update({k: str(v) for k, v in p.items()})
    write_gan_golden("image_step_%s_golden.safetensors" % name, out, meta, gen, critic)


def main():
    torch.manual_seed(SEED)
    torch.set_default_dtype(torch.float64)
    dcgan = lambda: (DcganGenerator(8, 4, 4, False), DcganCritic(4, 4, False, True))  # noqa: E731
    run_case("dcgan", "dcgan", *dcgan(), 8)
    run_case("msgan", "msgan", *dcgan(), 8)
    run_case("wgan_gc", "wgan-gc", *dcgan(), 8)
    run_case("wgan_gp", "wgan-gp", DcganGenerator(8, 4, 5, True), DcganCritic(2, 5, True, False), 8)
    for conditional in (False, True):
        k = NUM_CLASSES if conditional else 0
        suffix = "_cond" if conditional else ""
        run_case("sngan" + suffix, "sngan", ResnetGenerator32(8, 4, k, False, None),
                 ResnetDiscriminator32(4, k, None), 8, conditional)
        run_case("sagan" + suffix, "sagan", ResnetGenerator32(8, 8, k, True, 1), ResnetDiscriminator32(8, k, 0), 8,
                 conditional)
    run_case("sagan_topk", "sagan", ResnetGenerator32(8, 8, 0, True, 1), ResnetDiscriminator32(8, 0, 0), 8, top_k=2)


if __name__ == "__main__":
    main()
