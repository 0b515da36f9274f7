"""Closest-pair search of the birthday test: ours against scikit-learn's brute-force nearest neighbours.

1. The 20 closest pairs among s = 20,000 Gaussian points of dimension 64: ``ganlimits.verify.closest_pairs`` and
   ``sklearn.neighbors.NearestNeighbors(algorithm="brute")`` (21 neighbours per point, which must contain every
   pair of the top 20), same pairs checked, best of 3, one thread each; prints the time ratio.
2. s = 100,000 points of dimension 64: time and peak resident memory of one search, in a fresh process.

Run: ``.venv/bin/python benchmarks/bench_pairs.py``
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time

import numpy as np
import torch
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits

from ganlimits.verify import closest_pairs

THREADS = 1
REPEATS = 3


def best_of(fn, repeats: int = REPEATS) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def sklearn_pairs(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k closest pairs from each point's k + 1 nearest neighbours (itself included)."""
    nn = NearestNeighbors(n_neighbors=k + 1, algorithm="brute").fit(x)
    dist, ind = nn.kneighbors(x)
    rows = np.repeat(np.arange(len(x)), k + 1)
    i, j, d = rows, ind.ravel(), dist.ravel()
    keep = i != j
    lo, hi, d = np.minimum(i, j)[keep], np.maximum(i, j)[keep], d[keep]
    pairs, first = np.unique(np.stack([lo, hi], 1), axis=0, return_index=True)
    d = d[first]
    order = np.lexsort((pairs[:, 1], pairs[:, 0], d))[:k]
    return pairs[order], d[order]


def compare_with_sklearn(s: int = 20_000, d: int = 64, k: int = 20) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(s, d, generator=g)
    x64 = x.double().numpy()
    t_ours, (idx, dist) = best_of(lambda: closest_pairs(x, k))
    with threadpool_limits(THREADS):
        t_sk, (pairs, d_sk) = best_of(lambda: sklearn_pairs(x64, k))
    same = np.array_equal(idx.numpy(), pairs)
    dmax = float(np.max(np.abs(dist.numpy() - d_sk)))
    print(f"[1] {k} closest pairs, s = {s:,}, d = {d}, {THREADS} thread(s), best of {REPEATS}")
    print(f"    ganlimits closest_pairs : {t_ours:8.3f} s")
    print(f"    sklearn brute kneighbors: {t_sk:8.3f} s")
    print(f"    ratio sklearn / ours    : {t_sk / t_ours:8.2f}x   same pairs: {same}   "
          f"max |dist diff|: {dmax:.2e}")
    if not same:
        print("    WARNING: the two searches returned different pairs")


CHILD = textwrap.dedent(
    """
    import json, resource, time, torch
    torch.set_num_threads({threads})
    from ganlimits.verify import closest_pairs
    g = torch.Generator().manual_seed(1)
    x = torch.randn({s}, {d}, generator=g)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    idx, dist = closest_pairs(x, 20)
    elapsed = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({{"elapsed": elapsed, "base_kb": base, "peak_kb": peak, "d0": float(dist[0])}}))
    """
)


def large(s: int = 100_000, d: int = 64) -> None:
    code = CHILD.format(threads=THREADS, s=s, d=d)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    data_mb = s * d * 4 / 2**20
    full_gb = s * s * 8 / 2**30
    print(f"[2] 20 closest pairs, s = {s:,}, d = {d}, {THREADS} thread(s), fresh process")
    print(f"    time                    : {r['elapsed']:8.1f} s")
    print(f"    peak RSS                : {r['peak_kb'] / 1024:8.0f} MB (before the search "
          f"{r['base_kb'] / 1024:.0f} MB; data {data_mb:.0f} MB; an s x s float64 matrix would be "
          f"{full_gb:.0f} GB)")
    print(f"    closest distance        : {r['d0']:.4f}")


if __name__ == "__main__":
    torch.set_num_threads(THREADS)
    compare_with_sklearn()
    large()
