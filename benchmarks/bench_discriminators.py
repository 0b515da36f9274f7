"""Stacked evaluation of a discriminator family against a Python loop over nn.Sequential modules, and its
GFLOP/s as a fraction of a plain sgemm measured in the same run (issue 4, "Speed").

Setting: K = 256 members, 2 hidden layers of 64, n = 20,000 inputs of width 80, float32. Every timing is the
best of ``--repeats`` runs, the methods interleaved within each repeat so that load drifts hit all of them.
FLOPs counted: 2 K n (80*64 + 64*64 + 64), the multiply-adds of the three layers (biases, ReLU and sigmoid
not counted).

Run: ``.venv/bin/python benchmarks/bench_discriminators.py [--threads T] [--repeats R]``. Prints ratios only;
no assertions.
"""

from __future__ import annotations

import argparse
import os
import time

import torch

from ganlimits.verify import MLPFamily


def _best(fns: dict, repeats: int) -> dict:
    best = {k: float("inf") for k in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--K", type=int, default=256)
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--width", type=int, default=80)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    K, n, d, h = args.K, args.n, args.width, 64

    g = torch.Generator().manual_seed(0)
    family = MLPFamily(in_dim=d, hidden=(h, h), K=K, input_radius=float(d), generator=g)
    x = torch.randn(n, d, generator=g)
    modules = family.to_modules()
    u = family.clip_inputs(x)  # no-op here (all rows inside the ball); the loop gets the same input

    def stacked():
        return family(x)

    def module_loop():
        with torch.no_grad():
            return torch.stack([m(u).squeeze(1) for m in modules])

    with torch.no_grad():
        diff = float((stacked() - module_loop()).abs().max())

    # sgemm references: (a) the member-sized layer-1 shape (n x d) @ (d x 64) repeated; (b) one large sgemm
    # with the same M and inner dimension, (n x d) @ (d x 4096).
    a = torch.randn(n, d, generator=g)
    b1, b2 = torch.randn(d, h, generator=g), torch.randn(d, 4096, generator=g)
    c1, c2 = torch.empty(n, h), torch.empty(n, 4096)
    reps_small = 64

    def sgemm_same_shape():
        for _ in range(reps_small):
            torch.mm(a, b1, out=c1)

    def sgemm_large():
        torch.mm(a, b2, out=c2)

    t = _best({"stacked": stacked, "loop": module_loop, "sgemm_same": sgemm_same_shape,
               "sgemm_large": sgemm_large}, args.repeats)
    flops = 2.0 * K * n * (d * h + h * h + h)
    gf = {
        "stacked": flops / t["stacked"] / 1e9,
        "loop": flops / t["loop"] / 1e9,
        "sgemm_same": 2.0 * n * d * h * reps_small / t["sgemm_same"] / 1e9,
        "sgemm_large": 2.0 * n * d * 4096 / t["sgemm_large"] / 1e9,
    }
    peak = max(gf["sgemm_same"], gf["sgemm_large"])

    # small n: all members at once with baddbmm vs the module loop
    xs = x[:128]
    us = family.clip_inputs(xs)

    def stacked_small():
        return family(xs)

    def loop_small():
        with torch.no_grad():
            return torch.stack([m(us).squeeze(1) for m in modules])

    ts = _best({"stacked": stacked_small, "loop": loop_small}, max(args.repeats, 5))

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"threads={torch.get_num_threads()}  K={K}  hidden=({h}, {h})  n={n}  width={d}  "
          f"p={family.capacity}  repeats={args.repeats} (best of)  load average at end: {load:.1f} "
          f"on {os.cpu_count()} CPUs")
    print(f"max |stacked - module loop| = {diff:.2e}")
    print(f"stacked (addmm, row chunks) : {t['stacked']:.3f} s  {gf['stacked']:.1f} GFLOP/s")
    print(f"loop over nn.Sequential     : {t['loop']:.3f} s  {gf['loop']:.1f} GFLOP/s")
    print(f"sgemm ({n}x{d})@({d}x{h}) x{reps_small}: {gf['sgemm_same']:.1f} GFLOP/s")
    print(f"sgemm ({n}x{d})@({d}x4096)   : {gf['sgemm_large']:.1f} GFLOP/s")
    print(f"ratio loop / stacked        : {t['loop'] / t['stacked']:.2f}x   (expected >= 1.2x)")
    print(f"stacked / best sgemm        : {100 * gf['stacked'] / peak:.0f}%   (expected >= 60%)")
    print(f"small n = 128 (baddbmm)     : stacked {1e3 * ts['stacked']:.2f} ms, "
          f"loop {1e3 * ts['loop']:.2f} ms, ratio {ts['loop'] / ts['stacked']:.2f}x")


if __name__ == "__main__":
    main()
