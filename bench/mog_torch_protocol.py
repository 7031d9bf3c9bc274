"""The pinned mixture-of-Gaussians protocol in PyTorch, shared by the speed and the outcome references.

G: 2-256-256-256-2, D: 2-256-256-256-1, ReLU, non-saturating loss, Adam betas (0.5, 0.999), one critic
step per generator step, written the way a careful PyTorch user would (no_grad fakes for the critic,
critic frozen during the generator step, grads set to None). Methods: baseline, top-k on the generator
update (k given per step), core-set (greedy k-center over 4x latent and 8x data pools).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

MODE_STD = 0.05
HIGH_QUALITY_STDS = 4.0


def mlp(inp, out, hidden=256):
    return nn.Sequential(nn.Linear(inp, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, out))


def mode_centres(m):
    side = int(round(m ** 0.5))
    coords = [2.0 * (i - (side - 1) / 2.0) for i in range(side)]
    return torch.tensor([[x, y] for x in coords for y in coords])


def greedy_kcenter(points, k, gen):
    n = points.shape[0]
    first = int(torch.randint(n, (1,), generator=gen, device=points.device))
    chosen = [first]
    min_d = ((points - points[first]) ** 2).sum(1)
    for _ in range(k - 1):
        nxt = int(torch.argmax(min_d))
        chosen.append(nxt)
        min_d = torch.minimum(min_d, ((points - points[nxt]) ** 2).sum(1))
    return torch.tensor(chosen, device=points.device)


class MogProtocol:
    def __init__(self, modes=25, batch=256, lr=1e-4, coreset=False, device="cpu", seed=0):
        torch.manual_seed(seed)
        self.dev = torch.device(device)
        self.gen = torch.Generator(device=self.dev).manual_seed(seed)
        self.batch = batch
        self.coreset = coreset
        self.G, self.D = mlp(2, 2).to(self.dev), mlp(2, 1).to(self.dev)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=lr, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr, betas=(0.5, 0.999))
        self.centres = mode_centres(modes).to(self.dev)

    def real_batch(self, n):
        idx = torch.randint(len(self.centres), (n,), device=self.dev)
        return self.centres[idx] + MODE_STD * torch.randn(n, 2, device=self.dev)

    def latents(self, n):
        if not self.coreset:
            return torch.randn(n, 2, device=self.dev)
        pool = torch.randn(4 * n, 2, device=self.dev)
        return pool[greedy_kcenter(pool, n, self.gen)]

    def data(self, n):
        if not self.coreset:
            return self.real_batch(n)
        pool = self.real_batch(8 * n)
        return pool[greedy_kcenter(pool, n, self.gen)]

    def step(self, k=None):
        """One critic step and one generator step; k: keep the k highest-scored fakes (None: all)."""
        B = self.batch
        x = self.data(B)
        with torch.no_grad():
            fake = self.G(self.latents(B))
        d_loss = F.softplus(-self.D(x)).mean() + F.softplus(self.D(fake)).mean()
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        for p in self.D.parameters():
            p.requires_grad_(False)
        scores = self.D(self.G(self.latents(B))).squeeze(1)
        if k is not None:
            scores = torch.topk(scores, int(k)).values
        g_loss = F.softplus(-scores).mean()
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        for p in self.D.parameters():
            p.requires_grad_(True)

    def evaluate(self, n=10000):
        """% high quality (nearest mode within 4 std), % modes recovered, within-mode std per coordinate."""
        with torch.no_grad():
            samples = self.G(torch.randn(n, 2, device=self.dev)).double()
        centres = self.centres.double()
        dist, nearest = torch.cdist(samples, centres).min(1)
        good = dist <= HIGH_QUALITY_STDS * MODE_STD
        per_mode = torch.bincount(nearest[good], minlength=len(centres))
        sq = torch.zeros(len(centres), dtype=torch.float64, device=self.dev)
        sq.index_add_(0, nearest[good], dist[good] ** 2)
        hit = per_mode > 0
        stds = torch.sqrt(sq[hit] / (2.0 * per_mode[hit].double()))
        return {"high_quality_percent": 100.0 * float(good.sum()) / n,
                "modes_recovered_percent": 100.0 * float(hit.sum()) / len(centres),
                "within_mode_std": float(stds.mean()) if bool(hit.any()) else 0.0}
