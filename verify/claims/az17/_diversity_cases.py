r"""The cases of claim ``az17-diversity``: the grid target, planted laws of exactly known birthday support, the
shared birthday measurement, and one pure trial per case (a trained generator, a planted law of the coverage check,
a planted hinge family of the control and the power curve).

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

import math
from typing import Any

import numpy as np
import torch
from scipy import stats

from ganlimits.constructions import GaussianMixtureTarget, gaussian_mixture

from ...estimators import birthday_test, pilot_sizes
from ...estimators.support import HEADLINE_INTERVAL
from ...lab import LabConfig, train_sized_gan
from ...lab.regime import SettleRule
from .._training import one_torch_thread
from ._diversity_fit import deviation_interval, hinge_bootstrap

__all__: list[str] = []


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
    (Neyman, likelihood-ordered) interval. When no pilot size up to ``max_size`` collides, the support is
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


# ---- trials ---------------------------------------------------------------------------------------------------


def trial(cfg: dict[str, Any], seed: int) -> dict[str, Any]:
    """One case of the claim (pure: everything from ``cfg`` and ``seed``), with one torch thread."""
    with one_torch_thread():
        if cfg["kind"] == "train":
            return _train(cfg, seed)
        if cfg["kind"] == "planted":
            return _planted(cfg, seed)
        if cfg["kind"] == "hinge":
            return hinge_trial(cfg, seed)
    raise ValueError(f"unknown case kind {cfg['kind']!r}")


def _train(cfg: dict[str, Any], seed: int) -> dict[str, Any]:
    """One trained generator: the sized GAN to its settled horizon (snapshots every ``eval_every`` steps, the
    lab's :class:`~ganlimits.verify.lab.regime.SettleRule` with the regime's floor, at most ``steps``), then the
    birthday measurement of its support."""
    target = fine_grid(cfg["side"], cfg["spacing"], cfg["std"])
    run = train_sized_gan(target, steps=cfg["steps"], seed=seed, d_width=cfg["d_width"], d_depth=cfg["d_depth"],
                          config=LabConfig(**cfg["lab"]), n_eval=cfg["n_eval"], eval_every=cfg["eval_every"],
                          settle=SettleRule(**cfg["settle"]))
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


# ---- the planted hinge family ------------------------------------------------------------------------------


def law_with_support(N: float, cfg: dict[str, Any]) -> tuple[GaussianMixtureTarget, float]:
    """A planted law of birthday support exactly ``N`` (to 1e-9 relative): ``k`` blobs on the first k lattice points
    (:func:`lattice`) with spread ``g`` times the target's std, ``k`` the most blobs whose support at g = 1 does not
    exceed N (at most ``cfg["max_blobs"]``), ``g`` found by bisection on :func:`exact_support` (increasing in g for
    blobs that do not overlap). Returns the law and its exact support."""
    K = int(cfg["max_blobs"])
    means_all = lattice(K, cfg["spacing"], cfg["side"])
    one = exact_support(means_all[:1], cfg["std"], cfg["threshold"])
    k = int(min(K, max(1, math.floor(N / one))))
    means = means_all[:k]

    def support(g: float) -> float:
        return exact_support(means, g * cfg["std"], cfg["threshold"])

    lo, hi = 0.05, 1.0
    while support(hi) < N:
        lo, hi = hi, hi * 2
        if hi > 64:
            raise ValueError(f"N: a planted support of {N:.4g} needs more than {K} blobs")
    for _ in range(100):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if support(mid) < N else (lo, mid)
        if hi / lo - 1 < 1e-12:
            break
    g = math.sqrt(lo * hi)
    return gaussian_mixture(means=means, std=g * cfg["std"]), support(g)


def hinge_supports(cfg: dict[str, Any], rng: np.random.Generator) -> list[tuple[float, float]]:
    """The planted family of a hinge trial: for every run of the verdict's design (``cfg["design"]``: log sizes,
    one entry per valid run), ``(log size, support)`` with support
    ``base (p / p_0)^beta e^(tau Z)`` up to the break ``cfg["break_log_size"]``, flat beyond (Z standard normal):
    log support is exactly the hinge with growth slope beta and plateau slope 0 plus the spread."""
    x = np.asarray(cfg["design"], dtype=np.float64)
    x0, xb = float(x.min()), float(cfg["break_log_size"])
    out = []
    for xi in x:
        log_n = math.log(cfg["base"]) + cfg["beta"] * (min(xi, xb) - x0) + cfg["tau"] * rng.standard_normal()
        out.append((float(xi), max(cfg["min_support"], math.exp(log_n))))
    return out


def hinge_trial(cfg: dict[str, Any], seed: int) -> dict[str, Any]:
    """One planted fit at the verdict's design: every planted law (:func:`law_with_support`) through
    :func:`measure_support`, then the hinge with its stratified bootstrap (:func:`~._diversity_fit.hinge_bootstrap`);
    ``detected`` when the lower limit of ``|growth slope - 1|`` exceeds the tolerance."""
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    xs, ys, truths = [], [], []
    for xi, N in hinge_supports(cfg, rng):
        law, exact = law_with_support(N, cfg)
        m = measure_support(lambda s, g, law=law: law.sample(s, generator=g)[0], cfg, gen)
        xs.append(xi)
        ys.append(math.log(m["support"]))
        truths.append(exact)
    sizes = sorted(set(xs))
    fit = hinge_bootstrap(xs, ys, sizes, B=cfg["bootstrap"], rng=rng, confidence=cfg["confidence"],
                          min_growth=cfg["min_growth"])
    fit.pop("growth_samples")
    dev, lo, hi = deviation_interval({"slope": fit["growth_slope"], "ci_low": fit["growth_ci"][0],
                                      "ci_high": fit["growth_ci"][1]})
    return {"kind": "hinge", "beta": cfg["beta"], "fit": fit, "deviation": dev, "deviation_low": lo,
            "deviation_high": hi, "detected": bool(lo > cfg["tolerance"]), "log_support": ys,
            "exact_support": truths}
