#!/usr/bin/python3
"""Writes tests/data/fid_golden.safetensors: feature statistics and Fréchet distances computed the way
pytorch-fid computes them (np.mean, np.cov(rowvar=False), scipy.linalg.sqrtm of sigma1 @ sigma2 with
its eps = 1e-6 fallback and .real), for eval/feature_statistics and eval/frechet_distance.

Cases (features "<case>.x" and "<case>.y", float64, rows are samples; mean far from zero so that
naive sums would lose digits):
  wide    N = 300 > D = 24, correlated Gaussian features, y shifted and rescaled;
  narrow  N = 12 < D = 24: singular covariances (sqrtm of a singular product);
For each: "<case>.mu_x", "<case>.sigma_x", "<case>.mu_y", "<case>.sigma_y", "<case>.fid" (float64).

Run with Debian's interpreter:  /usr/bin/python3 tests/golden/make_fid_golden.py"""
import os
import sys

import numpy as np
import scipy.linalg
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_mlp_golden import write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "fid_golden.safetensors")
D = 24


def pytorch_fid_distance(mu1, sigma1, mu2, sigma2, eps=1e-6):
    """calculate_frechet_distance of pytorch-fid, restated."""
    diff = mu1 - mu2
    covmean, _ = scipy.linalg.sqrtm(sigma1.dot(sigma2), disp=False)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = scipy.linalg.sqrtm((sigma1 + offset).dot(sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError("imaginary component %g" % np.max(np.abs(covmean.imag)))
        covmean = covmean.real
    return diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean)


def main():
    rng = np.random.default_rng(20261202)
    mix = rng.normal(size=(D, D)) / np.sqrt(D)
    tensors = {}
    for case, n in (("wide", 300), ("narrow", 12)):
        x = rng.normal(size=(n, D)) @ mix + 50.0
        y = 1.3 * (rng.normal(size=(n, D)) @ mix) + 50.4
        stats = {}
        for name, f in (("x", x), ("y", y)):
            stats["mu_" + name] = np.mean(f, axis=0)
            stats["sigma_" + name] = np.cov(f, rowvar=False)
            tensors[f"{case}.{name}"] = torch.from_numpy(f)
        for k, v in stats.items():
            tensors[f"{case}.{k}"] = torch.from_numpy(np.ascontiguousarray(v))
        fid = pytorch_fid_distance(stats["mu_x"], stats["sigma_x"], stats["mu_y"], stats["sigma_y"])
        tensors[f"{case}.fid"] = torch.tensor([fid], dtype=torch.float64)
        print(f"{case}: N={n} D={D} fid={fid:.12g}")
    write_safetensors(OUT, list(tensors.items()), {"generator": "tests/golden/make_fid_golden.py"})


if __name__ == "__main__":
    main()
