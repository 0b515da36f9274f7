"""Confidence intervals with a stated inequality: Hoeffding, Clopper-Pearson, Bonferroni.

Each function returns an :class:`~ganlimits.verify.Estimate` whose ``method`` names the inequality.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats

from ganlimits.theory import check_number, check_open_unit, check_positive, hoeffding_half_width

from .._results import Estimate

__all__ = ["hoeffding_interval", "clopper_pearson", "bonferroni_max", "mean_interval"]


def _as_numpy(values) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().to(torch.float64).cpu().numpy()
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError("values must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError("values contain NaN or infinity")
    return arr


def hoeffding_interval(
    mean: float, *, n: int, value_range: float, confidence: float = 0.95, seed: int | None = None
) -> Estimate:
    """Two-sided Hoeffding interval for a mean of ``n`` independent values in an interval of length
    ``value_range`` (= 2 Delta): half-width ``Delta sqrt(2 log(2/alpha) / n)``.
    """
    mean = check_number("mean", mean)
    n = check_number("n", n, low=0, low_open=True)
    value_range = check_positive("value_range", value_range)
    confidence = check_open_unit("confidence", confidence)
    half = hoeffding_half_width(n=n, phi_range=value_range / 2, alpha=1 - confidence)
    return Estimate(float(mean), float(mean) - half, float(mean) + half, confidence, int(n), "hoeffding", seed)


def mean_interval(values, *, value_range: float, confidence: float = 0.95, seed: int | None = None) -> Estimate:
    """Hoeffding interval for the mean of ``values`` (which must lie in a range of length ``value_range``)."""
    arr = _as_numpy(values)
    spread = float(arr.max() - arr.min())
    if spread > value_range * (1 + 1e-12):
        raise ValueError(f"values span {spread:.6g}, more than the declared value_range {value_range:.6g}")
    return hoeffding_interval(float(arr.mean()), n=arr.size, value_range=value_range,
                              confidence=confidence, seed=seed)


def clopper_pearson(successes: int, n: int, *, confidence: float = 0.95, seed: int | None = None) -> Estimate:
    """Exact (Clopper-Pearson) two-sided interval for a binomial proportion."""
    n = check_number("n", n, low=1, integer=True)
    successes = check_number("successes", successes, low=0, high=n, integer=True)
    confidence = check_open_unit("confidence", confidence)
    a = 1 - confidence
    lo = 0.0 if successes == 0 else float(stats.beta.ppf(a / 2, successes, n - successes + 1))
    hi = 1.0 if successes == n else float(stats.beta.ppf(1 - a / 2, successes + 1, n - successes))
    return Estimate(successes / n, lo, hi, confidence, int(n), "clopper-pearson", seed)


def bonferroni_max(
    means, *, n: int, value_range: float, confidence: float = 0.95, seed: int | None = None
) -> Estimate:
    """The largest of K means, with a simultaneous Hoeffding interval (Bonferroni: level alpha/K each).

    The interval covers the true value of the arg-max member with probability >= ``confidence``; as an
    estimate of the sup over the class it is a lower bound (DESIGN.md).
    """
    arr = _as_numpy(means)
    n = check_number("n", n, low=0, low_open=True)
    value_range = check_positive("value_range", value_range)
    confidence = check_open_unit("confidence", confidence)
    K = arr.size
    alpha_each = (1 - confidence) / K
    half = hoeffding_half_width(n=n, phi_range=value_range / 2, alpha=alpha_each)
    best = float(arr.max())
    return Estimate(best, best - half, best + half, confidence, int(n), f"bonferroni-hoeffding(K={K})", seed)
