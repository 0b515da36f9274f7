"""The cases of claim ``az17-birthday``: laws of known support, their samplers, and one pure trial per case.

Shape letters: ``m`` support of a memorizing generator, ``d`` = 64 image dimension, ``d_code`` code dimension,
``s`` sample size, ``R`` samples per size.

Every trial runs the claim's attack end to end on full output vectors (Arora & Zhang 2017, birthday paradox test;
``docs/papers/az17.md``): a pilot run picks the sizes (:func:`~ganlimits.verify.pilot_sizes`), then
:func:`~ganlimits.verify.birthday_test` measures the collision curve and its support intervals. The duplicate
threshold comes from held-out data (``cfg["threshold"]``, computed once by the claim) and never from the law
under test or the false-positive control's own sample.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ganlimits.constructions import (
    GaussianBlockPartition,
    MemorizingGenerator,
    NoisedTarget,
    NoiseModel,
    digits,
    gaussian_mixture,
)

from ...estimators import birthday_test, clopper_pearson, closest_pairs, pilot_sizes, select_coordinates
from ...estimators.support import SUPPORT_INTERVALS
from .._common import one_torch_thread

__all__: list[str] = []


def split_images(seed: int, fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """A random split of the 1,797 digit images: (calibration indices, held-out indices)."""
    n = 1797  # the scikit-learn digits
    perm = np.random.default_rng(seed).permutation(n)
    cut = int(round(fraction * n))
    return np.sort(perm[:cut]), np.sort(perm[cut:])


def image_law(cfg: dict[str, Any], part: str):
    """Jittered digits restricted to one part of the split (``"calibration"`` or ``"held_out"``), or the whole
    target (``"all"``): a kernel density of unbounded support in R^64."""
    full = digits(jitter=cfg["jitter"])
    if part == "all":
        return full
    calib, held = split_images(cfg["split_seed"], cfg["split_fraction"])
    return gaussian_mixture(means=full.images[torch.from_numpy(calib if part == "calibration" else held)],
                            std=cfg["jitter"])


def noised_law(clean, cfg: dict[str, Any]) -> NoisedTarget:
    """``clean`` with d' coordinates replaced by a N(0, sigma^2) code: the law the Theorem-3 witness imitates."""
    noise = NoiseModel(dim=clean.dim, code_dim=cfg["code_dim"])
    return NoisedTarget(clean=clean, noise=noise, sigma=cfg["code_sigma"])


def memorized_sampler(m: int, cfg: dict[str, Any], gen: torch.Generator):
    """The uniform law on ``m`` draws of the jittered digits (support exactly ``m`` on full vectors); returns
    ``sample`` and the ``(m, d)`` memory."""
    memory, _ = image_law(cfg, "all").sample(m, generator=gen)

    def sample(s: int, g: torch.Generator) -> torch.Tensor:
        return memory[torch.randint(0, m, (s,), generator=g)]

    return sample, memory


def atoms_apart(memory: torch.Tensor, threshold: float) -> tuple[float, bool]:
    """The exact certificate of a memorized law's support under the duplicate rule: its atoms' closest pair
    (``closest_pairs``, exact) and whether it is at least ``threshold`` apart. When it is, two draws are
    duplicates exactly when they copy the same atom, so the collision curve is exactly the uniform law's
    :math:`P_m(s)` on the ``m`` atoms: the support the test sees is ``m``, no more and no less."""
    d_min = float(closest_pairs(memory, 1)[1][0])
    return d_min, bool(d_min >= threshold)


def witness(cfg: dict[str, Any], gen: torch.Generator) -> MemorizingGenerator:
    """The ReLU network of Theorem 3 (Arora, Risteski & Zhang 2017) with m = k^{d'} memorized jittered digits."""
    clean = image_law(cfg, "all")
    noise = NoiseModel(dim=clean.dim, code_dim=cfg["code_dim"])
    partition = GaussianBlockPartition(k=cfg["k"], code_dim=cfg["code_dim"], sigma=cfg["code_sigma"])
    memory, _ = clean.sample(partition.m, generator=gen)
    return MemorizingGenerator(memory=memory, partition=partition, noise=noise, tv_budget=cfg["tv_budget"])


def heavy_sampler(cfg: dict[str, Any], gen: torch.Generator):
    """Mass ``heavy_mass`` on one image (exact copies), the rest jittered digits (atomless): not uniform."""
    law = image_law(cfg, "all")
    x0, _ = law.sample(1, generator=gen)

    def sample(s: int, g: torch.Generator) -> torch.Tensor:
        x, _ = law.sample(s, generator=g)
        on_x0 = torch.rand(s, generator=g, dtype=torch.float64) < cfg["heavy_mass"]
        return torch.where(on_x0[:, None], x0.expand(s, -1), x)

    return sample, x0[0]


def _attack(sample, cfg: dict[str, Any], gen: torch.Generator, coords=None):
    sizes = pilot_sizes(sample, threshold=cfg["threshold"], generator=gen, n_sizes=cfg["n_sizes"],
                        repeats=cfg["pilot_repeats"], coords=coords, max_size=cfg["max_size"])
    return birthday_test(sample, sizes=sizes, repeats=cfg["repeats"], threshold=cfg["threshold"], generator=gen,
                         coords=coords, nonuniform_alpha=cfg["nonuniform_alpha"],
                         calibration_draws=cfg["calibration_draws"])


def log_ratio_interval(est: dict[str, Any], claimed: float) -> tuple[float, float, float]:
    """``|log(N_hat / claimed)|`` and its interval from an interval ``[lo, hi]`` for ``N`` (if the interval
    for ``N`` covers the truth, this one covers ``|log(N / claimed)|``)."""
    a = np.log(_num(est["ci_low"], np.nan) / claimed)
    b = np.log(_num(est["ci_high"], np.inf) / claimed)
    e = abs(np.log(_num(est["estimate"], np.inf) / claimed))
    if not (np.isfinite(a) and b >= a):
        return e, 0.0, float("inf")  # an empty or undefined interval says nothing
    low = 0.0 if a <= 0 <= b else min(abs(a), abs(b))
    return float(e), float(low), float(max(abs(a), abs(b)))


def _num(v, default: float) -> float:
    return default if v is None else float(v)


def _summary(res, truth: float | None, claimed: float | None, log_factor: float) -> dict[str, Any]:
    """What the claim keeps of one test: the curve, every interval (with coverage of ``truth``), the flag."""
    out: dict[str, Any] = {"sizes": list(res.sizes), "counts": res.collision_counts.tolist(),
                           "repeats": res.repeats, "threshold": res.threshold, "fisher_width": res.fisher_width,
                           "nonuniform": res.nonuniform, "nonuniform_pvalue": res.nonuniform_pvalue,
                           "intervals": {k: v.to_dict() for k, v in res.support_intervals.items()},
                           "s_half": res.s_half.to_dict(), "support_estimate_paper": res.support_estimate_paper}
    if truth is not None:
        out["covered"] = {k: bool(v.ci_low <= truth <= v.ci_high) for k, v in res.support_intervals.items()}
    if claimed is not None:
        e, lo, hi = log_ratio_interval(res.support_estimate.to_dict(), claimed)
        out.update(claimed=claimed, log_ratio=e, log_ratio_low=lo, log_ratio_high=hi,
                   detected=bool(lo > log_factor))
    return out


def trial(cfg: dict[str, Any], seed: int) -> dict[str, Any]:
    """One case of the claim (pure: everything from ``cfg`` and ``seed``); returns a JSON-able dict."""
    with one_torch_thread():
        return _trial(cfg, seed)


def _trial(cfg: dict[str, Any], seed: int) -> dict[str, Any]:
    gen = torch.Generator().manual_seed(seed)
    kind = cfg["kind"]
    log_factor = float(np.log(cfg["factor"]))
    if kind == "memorized":  # uniform on m images; attacked as a claim that the support is cfg["claimed"]
        sample, memory = memorized_sampler(cfg["m"], cfg, gen)
        d_min, apart = atoms_apart(memory, cfg["threshold"])
        res = _attack(sample, cfg, gen)
        return {"kind": kind, "m": cfg["m"], "role": cfg.get("role"), "atoms_min_distance": d_min,
                "support_certified": apart, **_summary(res, cfg["m"], cfg["claimed"], log_factor)}
    if kind == "witness":
        G = witness(cfg, gen)
        sample = lambda s, g: G.fast(G.partition.sample_codes(s, generator=g))  # noqa: E731
        coords = G.noise.clean_positions if cfg["coords"] == "clean" else None
        res = _attack(sample, cfg, gen, coords)
        out = {"kind": kind, "m": G.m, "coords": cfg["coords"], "mismatch_probability": G.mismatch_probability(),
               **_summary(res, G.m if coords is not None else None, G.m, log_factor)}
        if coords is None:  # the duplicate rate of full vectors, by a large count of independent pairs
            n = cfg["witness_pairs"]
            a, b = sample(n, gen), sample(n, gen)
            hits = int(((a - b).norm(dim=1) < cfg["threshold"]).sum())
            q = clopper_pearson(hits, n)
            out["pair_rate"] = q.to_dict()
            out["effective_support"] = [1 / q.ci_high, 1 / q.estimate if hits else float("inf"),
                                        1 / q.ci_low if q.ci_low > 0 else float("inf")]
        return out
    if kind == "heavy":
        sample, x0 = heavy_sampler(cfg, gen)
        res = _attack(sample, cfg, gen)
        top = res.frequent[0] if res.frequent else None
        named = bool(top is not None and float((top.point - x0).norm()) < cfg["threshold"])
        return {"kind": kind, **_summary(res, None, None, log_factor), "top_is_heavy_point": named,
                "top_share": None if top is None else top.share}
    if kind == "control":  # false positives of the threshold rule on held-out images it was not set on
        clean = image_law(cfg, "held_out")
        law = noised_law(clean, cfg) if cfg["law"] == "noised" else clean
        dists = [float(closest_pairs(select_coordinates(law.sample(cfg["s"], generator=gen)[0]), 1)[1][0])
                 for _ in range(cfg["control_repeats"])]
        return {"kind": kind, "law": cfg["law"], "s": cfg["s"], "repeats": cfg["control_repeats"],
                "threshold": cfg["threshold"], "collisions": int(sum(d < cfg["threshold"] for d in dists)),
                "min_distance": min(dists), "median_min_distance": float(np.median(dists))}
    raise ValueError(f"unknown case kind {kind!r}")


def coverage_table(rows: list[dict[str, Any]], confidence: float) -> dict[str, Any]:
    """Coverage (Clopper-Pearson) and median width ``ci_high / ci_low`` of every interval type over trials on
    known uniform supports, per support and pooled, with the median efficient (Fisher) width."""
    by_m: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_m.setdefault(int(r["m"]), []).append(r)
    table: dict[str, Any] = {}
    for key, group in [*((str(m), g) for m, g in sorted(by_m.items())), ("pooled", rows)]:
        entry: dict[str, Any] = {"n": len(group),
                                 "fisher_width_median": float(np.median([g["fisher_width"] for g in group]))}
        for name in SUPPORT_INTERVALS:
            hits = sum(g["covered"][name] for g in group)
            widths = [_num(g["intervals"][name]["ci_high"], np.inf) / _num(g["intervals"][name]["ci_low"], np.nan)
                      for g in group]
            entry[name] = {"coverage": clopper_pearson(hits, len(group), confidence=confidence).to_dict(),
                           "median_width": float(np.median(widths))}
        table[key] = entry
    return table
