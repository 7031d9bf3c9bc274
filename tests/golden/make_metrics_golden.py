#!/usr/bin/python3
"""Writes tests/data/metrics_golden.safetensors: Inception Scores, kernel (KID) MMD estimates and
precision/recall/density/coverage computed with NumPy/SciPy the way the reference tools compute them,
for eval/inception_score, eval/numpy_permutation, eval/kernel_inception_distance and
eval/precision_recall. Everything is float64 unless noted.

  is.logits [120, 37]          logits; is.probabilities: their softmax
  is.plain.{mean,std,splits}   torch-fidelity's isc_features_to_metric without the shuffle (the
                               original improved-gan order), 10 splits
  is.shuffled.{mean,std,splits} the same after np.random.RandomState(2020).permutation(120)
  perm.<seed>.<n> (int64)      np.random.RandomState(seed).permutation(n)
  kid.real [60, 16], kid.fake [50, 16]   ReLU-like features (|normal|, the fakes shifted)
  kid.mmd2_equal               clean-fid's per-subset term on x = fake[:40], y = real[:40]
  kid.mmd2_unequal             the unbiased estimate between all 50 fakes and all 60 reals
  kid.mmd2_all50               clean-fid's kernel_distance of fake vs real[:50] with subsets of all
                               50 rows (every subset is then a permutation of the whole sets)
  pr.real [80, 8], pr.fake [70, 8]
  pr.k<k>.{precision,recall,density,coverage,real_radii,fake_radii} for k = 3 and 5, by brute-force
                               NumPy k-NN (no sklearn)

Run with Debian's interpreter:  /usr/bin/python3 tests/golden/make_metrics_golden.py"""
import os
import sys

import numpy as np
import scipy.special
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_mlp_golden import write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "metrics_golden.safetensors")


def inception_score(logits, splits=10, shuffle=False, seed=2020):
    """torch-fidelity's isc_features_to_metric, restated in NumPy (float64)."""
    n = logits.shape[0]
    if shuffle:
        logits = logits[np.random.RandomState(seed).permutation(n), :]
    log_p = scipy.special.log_softmax(logits.astype(np.float64), axis=1)
    p = np.exp(log_p)
    scores = []
    for i in range(splits):
        p_chunk = p[i * n // splits:(i + 1) * n // splits]
        log_p_chunk = log_p[i * n // splits:(i + 1) * n // splits]
        log_q = np.log(p_chunk.mean(axis=0, keepdims=True))
        scores.append(np.exp((p_chunk * (log_p_chunk - log_q)).sum(axis=1).mean()))
    return float(np.mean(scores)), float(np.std(scores)), np.array(scores)


def clean_fid_subset_term(x, y):
    """One subset of clean-fid's kernel_distance, before the division by num_subsets and m."""
    n = x.shape[1]
    m = x.shape[0]
    a = (x @ x.T / n + 1) ** 3 + (y @ y.T / n + 1) ** 3
    b = (x @ y.T / n + 1) ** 3
    return (a.sum() - np.diag(a).sum()) / (m - 1) - b.sum() * 2 / m


def mmd2_unbiased(x, y):
    d = x.shape[1]
    m, n = x.shape[0], y.shape[0]
    kxx, kyy, kxy = (x @ x.T / d + 1) ** 3, (y @ y.T / d + 1) ** 3, (x @ y.T / d + 1) ** 3
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2 * kxy.sum() / (m * n))


def prdc(real, fake, k):
    """Brute-force k-NN balls; r(a) is the k-th nearest other point of a's own set."""
    def dist(a, b):
        return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2))

    def radii(a):
        d = dist(a, a)
        np.fill_diagonal(d, np.inf)
        r = np.sort(d, axis=1)[:, k - 1]
        assert np.array_equal(r, np.sort(dist(a, a), axis=1)[:, k])  # prdc's (k+1)-th with self
        return r

    rr, rf = radii(real), radii(fake)
    d_rf = dist(real, fake)  # [N_r, N_f]
    inside_real = d_rf <= rr[:, None]
    inside_fake = d_rf <= rf[None, :]
    # No distance is within 1e-9 of a radius, so closed and open balls agree and rounding cannot flip.
    assert np.abs(d_rf - rr[:, None]).min() > 1e-9 and np.abs(d_rf - rf[None, :]).min() > 1e-9
    return {
        "precision": inside_real.any(axis=0).mean(),
        "recall": inside_fake.any(axis=1).mean(),
        "density": inside_real.sum(axis=0).mean() / k,
        "coverage": (d_rf.min(axis=1) <= rr).mean(),
        "real_radii": rr,
        "fake_radii": rf,
    }


def main():
    rng = np.random.default_rng(20261203)
    t = []

    def put(name, value):
        arr = np.asarray(value)
        t.append((name, torch.from_numpy(np.ascontiguousarray(arr.astype(np.int64 if arr.dtype.kind == "i" else np.float64)))))

    logits = rng.normal(size=(120, 37)) * 2.5
    logits[:, 5] += 3.0  # a popular class, so that the split scores vary
    put("is.logits", logits)
    put("is.probabilities", scipy.special.softmax(logits, axis=1))
    for name, shuffle in (("plain", False), ("shuffled", True)):
        mean, std, splits = inception_score(logits, shuffle=shuffle)
        put("is.%s.mean" % name, [mean])
        put("is.%s.std" % name, [std])
        put("is.%s.splits" % name, splits)
    for seed, n in ((2020, 120), (2020, 1000), (0, 37), (123456789, 700)):
        put("perm.%d.%d" % (seed, n), np.random.RandomState(seed).permutation(n))

    real = np.abs(rng.normal(size=(60, 16)))
    fake = np.abs(rng.normal(size=(50, 16)) * 1.1 + 0.2)
    put("kid.real", real)
    put("kid.fake", fake)
    put("kid.mmd2_equal", [clean_fid_subset_term(fake[:40], real[:40]) / 40])
    assert abs(mmd2_unbiased(fake[:40], real[:40]) - clean_fid_subset_term(fake[:40], real[:40]) / 40) < 1e-12
    put("kid.mmd2_unequal", [mmd2_unbiased(fake, real)])
    put("kid.mmd2_all50", [clean_fid_subset_term(fake, real[:50]) / 50])

    real = rng.normal(size=(80, 8))
    fake = rng.normal(size=(70, 8)) * 1.2 + 0.3
    put("pr.real", real)
    put("pr.fake", fake)
    for k in (3, 5):
        for key, value in prdc(real, fake, k).items():
            put("pr.k%d.%s" % (k, key), np.atleast_1d(value))

    write_safetensors(OUT, t, {"generator": "tests/golden/make_metrics_golden.py", "numpy": np.__version__,
                               "scipy": scipy.__version__})
    print("wrote", OUT)


if __name__ == "__main__":
    main()
