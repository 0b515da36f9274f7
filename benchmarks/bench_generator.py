"""Speed of the two evaluations of Theorem 3's memorizing generator (Arora, Risteski & Zhang 2017).

Times, in one run and with the same thread count: the literal layered network (``forward``, row chunks)
against the fast path (``fast``: index -> interpolation of two memory rows) at n = 10^4 codes, m = 10^3 and
10^4, d = 64; then the fast path alone at n = 10^5, m = 10^5, d = 64. Prints times (best of a few repeats)
and ratios.
"""

from __future__ import annotations

import time

import torch

from ganlimits.constructions import GaussianBlockPartition, MemorizingGenerator, NoiseModel


def best_of(fn, repeats: int) -> tuple[float, float]:
    """Best wall time (perf_counter) and best process CPU time (process_time, all threads) over repeats.

    The CPU time is less sensitive to other jobs sharing the cores; both are printed.
    """
    wall = cpu = float("inf")
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def build(k: int, code_dim: int, dim: int, seed: int) -> MemorizingGenerator:
    p = GaussianBlockPartition(k=k, code_dim=code_dim)
    g = torch.Generator().manual_seed(seed)
    memory = torch.rand(p.m, dim, generator=g, dtype=torch.float64)
    noise = NoiseModel(dim=dim, code_dim=code_dim)
    return MemorizingGenerator(memory=memory, partition=p, noise=noise, tv_budget=0.1)


def main() -> None:
    threads = torch.get_num_threads()
    print(f"torch {torch.__version__}, threads = {threads}")
    dim = 64
    g = torch.Generator().manual_seed(0)
    for k, code_dim in ((10, 3), (10, 4)):  # m = 10^3, 10^4
        gen = build(k, code_dim, dim, seed=1)
        z = gen.partition.sample_codes(10_000, generator=g)
        err = float((gen(z) - gen.fast(z)).abs().max())
        lit_wall, lit_cpu = best_of(lambda gen=gen, z=z: gen(z), 2)
        fast_wall, fast_cpu = best_of(lambda gen=gen, z=z: gen.fast(z), 7)
        print(f"n = 10^4, m = {gen.m:>6}, d = {dim}: "
              f"literal {lit_wall * 1e3:8.1f} ms wall ({lit_cpu * 1e3:8.1f} ms cpu)   "
              f"fast {fast_wall * 1e3:6.2f} ms wall ({fast_cpu * 1e3:6.2f} ms cpu)")
        print(f"    literal/fast = {lit_wall / fast_wall:7.0f}x wall, {lit_cpu / fast_cpu:7.0f}x cpu;"
              f"   max |literal - fast| = {err:.1e}")
    gen = build(10, 5, dim, seed=2)  # m = 10^5
    z = gen.partition.sample_codes(100_000, generator=g)
    fast_wall, fast_cpu = best_of(lambda: gen.fast(z), 7)
    idx_wall, idx_cpu = best_of(lambda: gen.partition.index(z), 7)
    print(f"n = 10^5, m = {gen.m}, d = {dim}: fast {fast_wall * 1e3:.1f} ms wall "
          f"({fast_cpu * 1e3:.1f} ms cpu) = {1e5 / fast_wall:.3g} codes/s")
    print(f"    exact block index alone {idx_wall * 1e3:.1f} ms wall; "
          f"fast/index = {fast_wall / idx_wall:.1f}x wall, {fast_cpu / idx_cpu:.1f}x cpu")

if __name__ == "__main__":
    main()
