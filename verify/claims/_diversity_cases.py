r"""The cases of claim ``az17-diversity``: the fine-grid target, planted laws of exactly known birthday support, the
shared birthday measurement, the slope fit, and one pure trial per case.

Shape letters: ``K`` target modes, ``k`` modes of a planted law, ``p`` discriminator parameters, ``W`` widths,
``S`` seeds per width, ``s`` sample size.

Birthday support of a continuous law (Arora & Zhang 2017, birthday paradox test; ``docs/papers/az17.md``). With a
duplicate rule "distance below ``t``", a sample of size ``s`` collides with probability close to
``1 - exp(-C(s, 2) q)``, ``q = Pr[|X - X'| < t]`` for two independent draws: the uniform law on ``N = 1/q`` points
has the same curve. For an equal mixture of ``k`` Gaussian blobs ``N(a_i, g^2 I_2)`` the pair probability is exact:
``X_a - X'_b ~ N(a_a - a_b, 2 g^2 I_2)``, so

.. math::
    q = \frac1{k^2} \sum_{a, b} F_{\chi'^2_2(\lambda_{ab})}\Bigl(\frac{t^2}{2 g^2}\Bigr),
    \qquad \lambda_{ab} = \frac{|a_a - a_b|^2}{2 g^2}, \qquad N = 1/q

(non-central chi-square with 2 degrees of freedom; :func:`exact_support`). The target itself is such a law
(``k = K``, ``g`` = its std), and so are the planted generators: blobs on the first ``k`` points of the target's
lattice (ordered outwards from the centre, so a disc of modes that extends beyond the target's square for large
``k``), with spread ``g`` a multiple
of the target's std — a generator collapsed onto a known block of modes, with known mass and known blur.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np
import torch
from scipy import stats

from ganlimits.constructions import GaussianMixtureTarget, gaussian_mixture

from ..estimators import HEADLINE_INTERVAL, birthday_test, pilot_sizes
from ..lab import LabConfig, train_sized_gan

__all__: list[str] = []


@contextlib.contextmanager
def one_torch_thread():
    """Small products: one torch thread per worker (the sweep's rule)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ---- laws ----------------------------------------------------------------------------------------------------


def lattice(n_points: int, spacing: float, side: int) -> torch.Tensor:
    """The first ``n_points`` points ``(n_points, 2)`` of the square lattice of ``spacing`` that holds the
    ``side x side`` target grid, ordered by distance from the centre (ties by angle): a compact, disc-shaped block
    of modes, the target's own near the centre, extending beyond the target's square as ``n_points`` grows."""
    reach = int(math.ceil(math.sqrt(n_points))) + side + 2
    ticks = torch.arange(-reach, reach + 1, dtype=torch.float64)
    pts = torch.cartesian_prod(ticks, ticks)
    centre = 0.5 if side % 2 == 0 else 0.0  # an even grid has its centre between lattice points
    pts = pts + centre
    r = pts.norm(dim=1)
    ang = torch.atan2(pts[:, 1], pts[:, 0])
    order = np.lexsort((ang.numpy(), np.round(r.numpy(), 9)))
    return pts[torch.from_numpy(order[:n_points])] * spacing


def fine_grid(side: int, spacing: float, std: float) -> GaussianMixtureTarget:
    """The target: ``side^2`` equally weighted Gaussians of std ``std`` on a square grid of ``spacing``, centred at 0
    (a parameterised :func:`~ganlimits.constructions.gaussian_mixture`)."""
    ticks = (torch.arange(side, dtype=torch.float64) - (side - 1) / 2) * spacing
    return gaussian_mixture(means=torch.cartesian_prod(ticks, ticks), std=std)


def planted_weights(k: int, uneven: bool) -> np.ndarray | None:
    """Equal weights (None), or uneven ones ``w_i`` proportional to ``1/(i + 1)`` (Zipf): a generator that puts most
    of its mass on a few of its modes, as collapsing generators do."""
    return None if not uneven else 1.0 / np.arange(1, k + 1)


def blob_law(k: int, spread: float, cfg: dict[str, Any], uneven: bool = False) -> GaussianMixtureTarget:
    """A planted generator: a mixture of ``k`` blobs of std ``spread * std`` on the first ``k`` lattice points
    (:func:`lattice`), with the weights of :func:`planted_weights`."""
    w = planted_weights(k, uneven)
    return gaussian_mixture(means=lattice(k, cfg["spacing"], cfg["side"]), std=spread * cfg["std"],
                            weights=None if w is None else torch.from_numpy(w))


def exact_support(means: torch.Tensor, g: float, t: float, weights: np.ndarray | None = None) -> float:
    """``N = 1 / Pr[|X - X'| < t]`` for the mixture of blobs ``N(means_i, g^2 I_2)`` with ``weights`` (equal when
    None): the formula of the module docstring, summed over the distinct pair distances.

    >>> round(exact_support(torch.zeros(1, 2), 1.0, 100.0), 6)
    1.0
    """
    a = np.asarray(means, dtype=np.float64)
    w = np.full(len(a), 1.0 / len(a)) if weights is None else np.asarray(weights, float) / np.sum(weights)
    d2 = ((a[:, None, :] - a[None, :, :]) ** 2).sum(-1)
    key = np.round(d2, 9)
    uniq, inv = np.unique(key, return_inverse=True)
    x = t**2 / (2 * g**2)
    probs = np.where(uniq == 0, stats.chi2.cdf(x, 2), stats.ncx2.cdf(x, 2, np.maximum(uniq, 1e-300) / (2 * g**2)))
    q = float((w[:, None] * w[None, :] * probs[inv.reshape(key.shape)]).sum())
    return 1.0 / q


# ---- the measurement ----------------------------------------------------------------------------------------


def measure_support(sample, cfg: dict[str, Any], gen: torch.Generator) -> dict[str, Any]:
    """The claim's birthday measurement on full vectors: pilot sizes, then the test with the headline
    (calibrated likelihood-ratio) interval. When no pilot size up to ``max_size`` collides, the support is
    censored: ``support`` is then the budget's reach ``(max_size / 1.18)^2`` and ``censored`` is True."""
    try:
        sizes = pilot_sizes(sample, threshold=cfg["threshold"], generator=gen, n_sizes=cfg["n_sizes"],
                            repeats=cfg["pilot_repeats"], max_size=cfg["max_size"])
    except ValueError:
        reach = (cfg["max_size"] / 1.18) ** 2
        return {"support": reach, "ci_low": reach, "ci_high": math.inf, "censored": True, "sizes": [],
                "counts": [], "nonuniform": False}
    res = birthday_test(sample, sizes=sizes, repeats=cfg["repeats"], threshold=cfg["threshold"], generator=gen,
                        calibration_draws=cfg["calibration_draws"], nonuniform_alpha=cfg["nonuniform_alpha"])
    e = res.support_intervals[HEADLINE_INTERVAL]
    return {"support": e.estimate, "ci_low": e.ci_low, "ci_high": e.ci_high, "censored": False,
            "sizes": list(res.sizes), "counts": res.collision_counts.tolist(), "nonuniform": res.nonuniform,
            "support_paper": res.support_estimate_paper}


# ---- the slope fit --------------------------------------------------------------------------------------------


def ols_slope(x, y, confidence: float) -> dict[str, float]:
    r"""Ordinary least squares ``y = a + b x`` with the Student interval of the slope:

    .. math::
        \hat b = \frac{S_{xy}}{S_{xx}}, \qquad \hat b \pm t_{n-2, (1+c)/2} \sqrt{\frac{RSS / (n - 2)}{S_{xx}}}

    (exact for independent normal errors of equal variance). Returns slope, its limits, intercept, the residual
    s.d. and n.

    >>> f = ols_slope([0, 1, 2, 3], [1, 3, 5, 7], 0.95)
    >>> f["slope"], f["ci_low"], f["ci_high"], f["intercept"]
    (2.0, 2.0, 2.0, 1.0)
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    n = x.size
    if n < 3 or y.shape != x.shape:
        raise ValueError(f"ols_slope needs at least 3 points of equal-length x and y, got {x.shape} and {y.shape}")
    xm, ym = x.mean(), y.mean()
    sxx = float(((x - xm) ** 2).sum())
    if sxx == 0:
        raise ValueError("ols_slope needs at least two distinct x values")
    b = float(((x - xm) * (y - ym)).sum() / sxx)
    a = float(ym - b * xm)
    rss = float(((y - a - b * x) ** 2).sum())
    sd = math.sqrt(rss / (n - 2))
    half = float(stats.t.ppf((1 + confidence) / 2, n - 2)) * sd / math.sqrt(sxx)
    return {"slope": b, "ci_low": b - half, "ci_high": b + half, "intercept": a, "residual_sd": sd, "n": int(n),
            "se": sd / math.sqrt(sxx)}


def deviation_interval(fit: dict[str, float]) -> tuple[float, float, float]:
    """``|b - 1|`` and its interval from the slope's interval (it covers ``|beta - 1|`` whenever the slope's
    covers ``beta``)."""
    lo, hi = fit["ci_low"] - 1, fit["ci_high"] - 1
    low = 0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi))
    return abs(fit["slope"] - 1), float(low), float(max(abs(lo), abs(hi)))


# ---- trials ---------------------------------------------------------------------------------------------------


def trial(cfg: dict[str, Any], seed: int) -> dict[str, Any]:
    """One case of the claim (pure: everything from ``cfg`` and ``seed``), with one torch thread."""
    with one_torch_thread():
        if cfg["kind"] == "train":
            return _train(cfg, seed)
        if cfg["kind"] == "planted":
            return _planted(cfg, seed)
        if cfg["kind"] == "slope":
            return slope_trial(cfg, seed)
    raise ValueError(f"unknown case kind {cfg['kind']!r}")


def _train(cfg: dict[str, Any], seed: int) -> dict[str, Any]:
    target = fine_grid(cfg["side"], cfg["spacing"], cfg["std"])
    run = train_sized_gan(target, steps=cfg["steps"], seed=seed, d_width=cfg["d_width"], d_depth=cfg["d_depth"],
                          config=LabConfig(**cfg["lab"]), n_eval=cfg["n_eval"])
    G = run.generator
    gen = torch.Generator().manual_seed(seed)
    m = measure_support(lambda s, g: G.sample(s, generator=g)[0], cfg, gen)
    pts = G.sample(cfg["figure_points"], generator=gen)[0].tolist() if cfg["figure_points"] else []
    return {"kind": "train", **run.to_dict(), **m, "figure_samples": pts}


def _planted(cfg: dict[str, Any], seed: int) -> dict[str, Any]:
    uneven = bool(cfg.get("uneven", False))
    law = blob_law(cfg["k"], cfg["spread"], cfg, uneven)
    truth = exact_support(law.means, cfg["spread"] * cfg["std"], cfg["threshold"], planted_weights(cfg["k"], uneven))
    gen = torch.Generator().manual_seed(seed)
    m = measure_support(lambda s, g: law.sample(s, generator=g)[0], cfg, gen)
    return {"kind": "planted", "k": cfg["k"], "spread": cfg["spread"], "uneven": uneven, "truth": truth, **m,
            "covered": bool(m["ci_low"] <= truth <= m["ci_high"])}


def planted_supports(cfg: dict[str, Any], rng: np.random.Generator) -> list[tuple[int, int, float]]:
    """The planted family of a slope trial: for width i and seed j the law of :func:`blob_law` with
    ``k_ij`` blobs of the target's std, ``k_ij`` the randomised rounding of
    ``q_1 N_0 (p_i / p_0)^beta exp(tau e_ij)`` (``e_ij`` standard normal, ``q_1`` the one-blob pair probability),
    so that ``N`` grows like ``p^beta`` with seed-to-seed spread ``tau`` on the log scale."""
    p = np.asarray(cfg["params"], dtype=np.float64)
    q1 = 1.0 / exact_support(torch.zeros(1, 2), cfg["std"], cfg["threshold"])
    out = []
    for i, pi in enumerate(p):
        for j in range(cfg["seeds"]):
            v = q1 * cfg["base"] * (pi / p[0]) ** cfg["beta"] * math.exp(cfg["tau"] * rng.standard_normal())
            k = int(math.floor(v)) + int(rng.random() < v - math.floor(v))
            out.append((i, j, max(1, k)))
    return out


def slope_trial(cfg: dict[str, Any], seed: int) -> dict[str, Any]:
    """One planted fit at the verdict's widths and seeds: every planted law through :func:`measure_support`, then
    :func:`ols_slope`; ``detected`` when the lower limit of ``|b - 1|`` exceeds the tolerance."""
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    xs, ys, ks = [], [], []
    for i, _j, k in planted_supports(cfg, rng):
        law = blob_law(k, 1.0, cfg)
        m = measure_support(lambda s, g, law=law: law.sample(s, generator=g)[0], cfg, gen)
        xs.append(math.log(cfg["params"][i]))
        ys.append(math.log(m["support"]))
        ks.append(k)
    fit = ols_slope(xs, ys, cfg["confidence"])
    dev, lo, hi = deviation_interval(fit)
    return {"kind": "slope", "beta": cfg["beta"], "fit": fit, "deviation": dev, "deviation_low": lo,
            "deviation_high": hi, "detected": bool(lo > cfg["tolerance"]), "k": ks, "log_support": ys}
