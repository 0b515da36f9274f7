"""Confidence intervals with a stated inequality: Hoeffding, Clopper-Pearson, Bonferroni, empirical Bernstein, the
normal approximation, and a log-log slope of variances; p-values of the matching one-sided tests.

Each function returns an :class:`~ganlimits.verify.Estimate` whose ``method`` names the inequality. ``sides=2`` (the
default): [ci_low, ci_high] covers the true value with probability >= ``confidence``; ``sides=1``: each limit alone
is a one-sided bound at level ``confidence`` (``Estimate.sides = 1``), what a one-sided claim is decided on. Every
half-width comes from a bound of :mod:`ganlimits.theory`, written once (a one-sided level alpha is the two-sided
formula at 2 alpha).

Shape letters: ``n`` samples, ``K`` simultaneous means, ``J`` points of a fit.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import stats

from ganlimits.theory import check_choice, check_number, check_open_unit, check_positive
from ganlimits.theory.arz17 import EMPIRICAL_BERNSTEIN_HALF_WIDTH, NORMAL_HALF_WIDTH, hoeffding_half_width

from .._results import Estimate

__all__ = ["hoeffding_interval", "clopper_pearson", "bonferroni_max", "mean_interval", "empirical_bernstein_interval",
           "normal_interval", "loglog_slope", "hoeffding_pvalue", "binomial_pvalue"]


def _as_numpy(values) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        values = values.detach().to(torch.float64).cpu().numpy()
    arr = np.asarray(values, dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError("values must not be empty")
    if not np.all(np.isfinite(arr)):
        raise ValueError("values contain NaN or infinity")
    return arr


def _two_sided_alpha(confidence: float, sides: int) -> float:
    """The alpha to give a two-sided formula: 1 - confidence, or 2 (1 - confidence) for a one-sided bound."""
    if isinstance(sides, bool) or sides not in (1, 2):
        raise ValueError(f"sides must be 1 or 2, got {sides!r}")
    if not 0 < confidence < 1 or (sides == 1 and confidence <= 0.5):
        raise ValueError(f"confidence must lie in ({0.5 if sides == 1 else 0}, 1), got {confidence!r}")
    return (1 - confidence) * (2 if sides == 1 else 1)


def _tag(method: str, sides: int) -> str:
    return method + (", one-sided" if sides == 1 else "")


def hoeffding_interval(
    mean: float, *, n: int, value_range: float, confidence: float = 0.95, seed: int | None = None, sides: int = 2
) -> Estimate:
    """Hoeffding interval for a mean of ``n`` independent values in an interval of length ``value_range``
    (= 2 Delta): half-width ``Delta sqrt(2 log(2/alpha) / n)`` (two-sided), ``Delta sqrt(2 log(1/alpha) / n)``
    for each one-sided limit.
    """
    mean = check_number("mean", mean)
    n = check_number("n", n, low=0, low_open=True)
    value_range = check_positive("value_range", value_range)
    confidence = check_open_unit("confidence", confidence)
    half = hoeffding_half_width(n=n, phi_range=value_range / 2, alpha=_two_sided_alpha(confidence, sides))
    return Estimate(float(mean), float(mean) - half, float(mean) + half, confidence, int(n),
                    _tag("hoeffding", sides), seed, sides)


def _check_span(arr: np.ndarray, value_range: float) -> None:
    spread = float(arr.max() - arr.min())
    if spread > value_range * (1 + 1e-12):
        raise ValueError(f"values span {spread:.6g}, more than the declared value_range {value_range:.6g}")


def mean_interval(values, *, value_range: float, confidence: float = 0.95, seed: int | None = None,
                  sides: int = 2) -> Estimate:
    """Hoeffding interval for the mean of ``values`` (which must lie in a range of length ``value_range``)."""
    arr = _as_numpy(values)
    _check_span(arr, value_range)
    return hoeffding_interval(float(arr.mean()), n=arr.size, value_range=value_range,
                              confidence=confidence, seed=seed, sides=sides)


def clopper_pearson(successes: int, n: int, *, confidence: float = 0.95, seed: int | None = None,
                    sides: int = 2) -> Estimate:
    """Exact (Clopper-Pearson) interval for a binomial proportion: beta quantiles at alpha/2 (two-sided) or alpha
    (each one-sided limit)."""
    n = check_number("n", n, low=1, integer=True)
    successes = check_number("successes", successes, low=0, high=n, integer=True)
    confidence = check_open_unit("confidence", confidence)
    a = _two_sided_alpha(confidence, sides) / 2
    lo = 0.0 if successes == 0 else float(stats.beta.ppf(a, successes, n - successes + 1))
    hi = 1.0 if successes == n else float(stats.beta.ppf(1 - a, successes + 1, n - successes))
    return Estimate(successes / n, lo, hi, confidence, int(n), _tag("clopper-pearson", sides), seed, sides)


def bonferroni_max(
    means, *, n: int, value_range: float, confidence: float = 0.95, seed: int | None = None, sides: int = 2
) -> Estimate:
    """The largest of K means, with a simultaneous Hoeffding interval (Bonferroni: level alpha/K each).

    The interval covers the true value of the arg-max member with probability >= ``confidence``; as an
    estimate of the sup over the class it is a lower bound (``docs/design.md``). With ``sides=1`` each member's
    bound is one-sided at alpha/K: the upper limit bounds every member's mean from above at once, the lower limit
    bounds the arg-max member's mean from below.
    """
    arr = _as_numpy(means)
    n = check_number("n", n, low=0, low_open=True)
    value_range = check_positive("value_range", value_range)
    confidence = check_open_unit("confidence", confidence)
    K = arr.size
    half = hoeffding_half_width(n=n, phi_range=value_range / 2, alpha=_two_sided_alpha(confidence, sides) / K)
    best = float(arr.max())
    return Estimate(best, best - half, best + half, confidence, int(n), _tag(f"bonferroni-hoeffding(K={K})", sides),
                    seed, sides)


def empirical_bernstein_interval(values, *, value_range: float, confidence: float = 0.95, seed: int | None = None,
                                 sides: int = 2) -> Estimate:
    r"""Empirical Bernstein interval for the mean of n i.i.d. ``values`` in a range of length ``value_range`` (r):
    Maurer & Pontil (2009), Theorem 4, whose width scales with the sample standard deviation, not the range.

    .. math::

        \big|\bar X - \mathbb E X\big| \le \sqrt{\frac{2 V \log(2/a)}{n}} + \frac{7 r \log(2/a)}{3 (n - 1)}
        \quad\text{per side, } a = \alpha/2 \text{ (two-sided) or } \alpha \text{ (one side)},

    with V the unbiased sample variance (``ganlimits.theory.arz17.EMPIRICAL_BERNSTEIN_HALF_WIDTH``). Needs n >= 2.
    """
    arr = _as_numpy(values)
    if arr.size < 2:
        raise ValueError(f"values must hold at least 2 entries, got {arr.size}")
    _check_span(arr, value_range)
    per_side = _two_sided_alpha(confidence, sides) / 2
    var = float(arr.var(ddof=1))
    half = float(EMPIRICAL_BERNSTEIN_HALF_WIDTH(V=max(var, 1e-300), n=arr.size, r=value_range, alpha=per_side))
    mean = float(arr.mean())
    return Estimate(mean, mean - half, mean + half, confidence, arr.size,
                    _tag("empirical-bernstein (Maurer-Pontil)", sides), seed, sides)


def normal_interval(values, *, confidence: float = 0.95, seed: int | None = None, sides: int = 2) -> Estimate:
    """Normal-approximation (central limit theorem) interval for the mean of n i.i.d. ``values``:
    mean +- z sd / sqrt(n) (``ganlimits.theory.arz17.NORMAL_HALF_WIDTH``). Its coverage is asymptotic, not guaranteed:
    use it where n is large and the values' law is not extremely skewed (the coverage tests state where)."""
    arr = _as_numpy(values)
    if arr.size < 2:
        raise ValueError(f"values must hold at least 2 entries, got {arr.size}")
    var = float(arr.var(ddof=1))
    half = float(NORMAL_HALF_WIDTH(V=max(var, 1e-300), n=arr.size, alpha=_two_sided_alpha(confidence, sides)))
    mean = float(arr.mean())
    return Estimate(mean, mean - half, mean + half, confidence, arr.size, _tag("normal (CLT)", sides), seed, sides)


def loglog_slope(x, samples, *, confidence: float = 0.95, seed: int | None = None) -> Estimate:
    r"""Slope of the least-squares line of log Var against log x, with a delta-method normal interval.

    .. math::

        \hat b = \sum_j c_j v_j,\quad c_j = \frac{u_j - \bar u}{\sum_i (u_i - \bar u)^2},\ u_j = \log x_j,\
        v_j = \log s_j^2,\qquad
        \widehat{\mathrm{Var}}(\hat b) = \sum_j c_j^2\, \frac{\hat\kappa_j - 1 + 2/(n_j - 1)}{n_j},

    the delta method on ``Var(s^2) = sigma^4 (kappa - (n - 3)/(n - 1)) / n`` with kappa the (non-excess) kurtosis
    estimated from each sample. ``x`` (J,) positive, ``samples`` J arrays of i.i.d. draws (at least 4 each,
    independent across j). Asymptotic coverage (stated where it is checked, ``tests/verify/estimators``). Lemma
    A.2's f has slope -1.
    """
    x = _as_numpy(x)
    if np.any(x <= 0):
        raise ValueError(f"x must be positive (its log is fitted), got {float(x.min())!r}")
    logx = np.log(x)
    if logx.size < 2 or len(samples) != logx.size:
        raise ValueError("x and samples must have the same length >= 2")
    arrays = [_as_numpy(s) for s in samples]
    if min(a.size for a in arrays) < 4:
        raise ValueError("every entry of samples must hold at least 4 draws")
    xc = logx - logx.mean()
    c = xc / float(xc @ xc)
    logv = np.log([a.var(ddof=1) for a in arrays])
    kappa = np.array([stats.kurtosis(a, fisher=False, bias=False) for a in arrays])
    n = np.array([a.size for a in arrays], dtype=np.float64)
    se = math.sqrt(float((c**2) @ ((kappa - 1 + 2 / (n - 1)) / n)))
    slope = float(c @ logv)
    half = float(stats.norm.ppf(1 - (1 - confidence) / 2)) * se
    return Estimate(slope, slope - half, slope + half, confidence, int(n.sum()),
                    "delta-method normal (sample kurtosis) slope of log variance", seed)


def hoeffding_pvalue(distance: float, *, n: float, value_range: float, K: int = 1) -> float:
    """p-value of the one-sided Hoeffding test that a mean of n values (range ``value_range``) lies ``distance``
    beyond its estimate, Bonferroni over K: ``min(1, K exp(-2 n distance^2 / value_range^2))`` (1 when
    ``distance <= 0``). A NaN distance, a non-positive ``n`` or ``value_range`` or a ``K`` below 1 is an error.

    >>> round(hoeffding_pvalue(0.1, n=100, value_range=1), 4)
    0.1353
    """
    if not (isinstance(distance, (float, np.floating)) and math.isinf(distance)):  # +-inf has a p-value: 0 or 1
        distance = check_number("distance", distance)
    n = check_number("n", n, low=0, low_open=True)
    value_range = check_positive("value_range", value_range)
    K = check_number("K", K, low=1, integer=True)
    if distance <= 0:
        return 1.0
    return float(min(1.0, K * math.exp(-2.0 * n * distance**2 / value_range**2)))



def binomial_pvalue(successes: int, n: int, p0: float, *, alternative: str) -> float:
    """Exact one-sided binomial p-value of ``successes`` out of ``n`` against the proportion ``p0``:
    ``alternative="greater"`` is Pr[X >= successes], ``"less"`` is Pr[X <= successes], X ~ Bin(n, p0). ``n`` is an
    integer >= 1, ``successes`` an integer in [0, n] and ``p0`` a probability in [0, 1] (else ``ValueError``).

    >>> round(binomial_pvalue(9, 10, 0.5, alternative="greater"), 4)
    0.0107
    """
    check_choice("alternative", alternative, ("greater", "less"))
    n = check_number("n", n, low=1, integer=True)
    successes = check_number("successes", successes, low=0, high=n, integer=True)
    p0 = check_number("p0", p0, low=0, high=1)
    if alternative == "greater":
        return float(stats.binom.sf(successes - 1, n, p0))
    return float(stats.binom.cdf(successes, n, p0))
