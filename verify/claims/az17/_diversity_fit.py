r"""The fits of claim ``az17-diversity``: the pre-registered hinge (near-linear growth, then a plateau) of log support
on log discriminator size, its stratified bootstrap, and the ordinary least-squares line reported beside it
(Arora & Zhang 2017, diversity vs discriminator size; ``docs/papers/az17.md``).

The statement, fixed before any generator is trained. With :math:`x = \log p` (discriminator parameters) and
:math:`y = \log \hat N` (birthday support) over the valid runs (in regime, not flagged non-uniform, within the test's
budget),

.. math::

    y = a + \beta_1 \min(x - x_b, 0) + \beta_2 \max(x - x_b, 0),

a *hinge*: growth of slope :math:`\beta_1` over the growth region :math:`x \le x_b`, slope :math:`\beta_2` beyond.
The break :math:`x_b` is one of the measured sizes with at least ``min_growth`` measured sizes at or below it (the
largest size: no plateau in range), chosen by least squares. The claim is that the growth is near-linear,
:math:`|\beta_1 - 1| \le \delta`; the plateau (:math:`\beta_2`, whether the break is interior) is measured and
reported beside it.

Robust errors: the stratified bootstrap — runs resampled with replacement within each size, the break chosen again
in every resample — gives percentile intervals for :math:`\beta_1` and :math:`\beta_2` that carry the selection of
the break and make no assumption of normal, equal-variance residuals (a failed or odd run moves the resamples that
hold it, not a variance formula). Its coverage at the verdict's design is what the claim's planted families measure.

Shape letters: ``n`` runs, ``W`` sizes, ``B`` bootstrap resamples.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

__all__ = ["ols_slope", "deviation_interval", "hinge_fit", "hinge_bootstrap"]


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
    covers ``beta``).

    >>> deviation_interval({"slope": 0.5, "ci_low": 0.3, "ci_high": 0.7})
    (0.5, 0.30000000000000004, 0.7)
    """
    lo, hi = fit["ci_low"] - 1, fit["ci_high"] - 1
    low = 0.0 if lo <= 0 <= hi else min(abs(lo), abs(hi))
    return abs(fit["slope"] - 1), float(low), float(max(abs(lo), abs(hi)))


def _design(x: np.ndarray, xb: float, plateau: bool) -> np.ndarray:
    cols = [np.ones_like(x), np.minimum(x - xb, 0.0)]
    if plateau:
        cols.append(np.maximum(x - xb, 0.0))
    return np.stack(cols, axis=1)


def hinge_fit(x, y, sizes, *, min_growth: int = 3) -> dict[str, Any] | None:
    r"""The least-squares hinge of the module docstring over runs at ``x`` (log sizes) with values ``y``; ``sizes``
    the sorted distinct log sizes that count as measured. Every break :math:`x_b` = ``sizes[i]`` with
    ``i + 1 >= min_growth`` is fitted (the last without a plateau column) and the smallest residual sum of squares
    wins (ties: the later break). None when fewer than ``min_growth`` sizes are measured.

    >>> x = np.log([10.0, 100, 1000, 10000, 100000]).repeat(2)
    >>> y = np.minimum(x, np.log(1000.0)) + np.tile([0.01, -0.01], 5)
    >>> f = hinge_fit(x, y, np.log([10.0, 100, 1000, 10000, 100000]))
    >>> round(f["growth_slope"], 6), round(f["plateau_slope"], 6), f["break_index"]
    (1.0, 0.0, 2)
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    sizes = np.asarray(sizes, dtype=np.float64)
    if sizes.size < min_growth:
        return None
    best = None
    for i in range(min_growth - 1, sizes.size):
        plateau = i < sizes.size - 1
        X = _design(x, sizes[i], plateau)
        coef, *_ = np.linalg.lstsq(X, y, rcond=None)
        rss = float(((y - X @ coef) ** 2).sum())
        if best is None or rss <= best["rss"] + 1e-12:
            best = {"break_index": i, "break_log_size": float(sizes[i]), "break_size": float(math.exp(sizes[i])),
                    "intercept": float(coef[0]), "growth_slope": float(coef[1]),
                    "plateau_slope": float(coef[2]) if plateau else None, "rss": rss, "n": int(x.size),
                    "interior_break": plateau}
    dof = max(1, best["n"] - (3 if best["interior_break"] else 2))
    best["residual_sd"] = math.sqrt(best["rss"] / dof)
    return best


def hinge_bootstrap(x, y, sizes, *, B: int, rng: np.random.Generator, confidence: float,
                    min_growth: int = 3) -> dict[str, Any] | None:
    """The hinge fit with its stratified-bootstrap percentile intervals (module docstring): ``B`` resamples of the
    runs within each size (``x`` takes the values of ``sizes``), the break chosen again in each. Returns the fit with
    ``growth_ci``, ``plateau_ci`` (over the resamples whose break is interior; None when fewer than half are),
    ``interior_share``, ``B`` and the resampled growth slopes ``growth_samples``; None when fewer than
    ``min_growth`` sizes are measured."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    fit = hinge_fit(x, y, sizes, min_growth=min_growth)
    if fit is None:
        return None
    groups = [np.flatnonzero(np.isclose(x, s)) for s in sizes]
    growth, plateau = [], []
    for _ in range(B):
        idx = np.concatenate([rng.choice(g, size=g.size, replace=True) for g in groups])
        f = hinge_fit(x[idx], y[idx], sizes, min_growth=min_growth)
        growth.append(f["growth_slope"])
        if f["plateau_slope"] is not None:
            plateau.append(f["plateau_slope"])
    a = (1 - confidence) / 2
    lo, hi = np.quantile(growth, [a, 1 - a])
    fit["growth_ci"] = [float(lo), float(hi)]
    fit["plateau_ci"] = ([float(v) for v in np.quantile(plateau, [a, 1 - a])] if len(plateau) >= B / 2 else None)
    fit["interior_share"] = len(plateau) / B
    fit["growth_samples"] = [float(g) for g in growth]
    fit["B"] = int(B)
    fit["confidence"] = confidence
    return fit
