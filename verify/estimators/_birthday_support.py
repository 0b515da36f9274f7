"""Support intervals from a collision curve: the statistics of the birthday-paradox test.

Shape letters: ``S`` sample sizes tested, ``R`` samples (repeats) per size, ``G`` grid points in ``log N``,
``B`` simulated curves.

Arora & Zhang (2017), "Do GANs learn the distribution?", birthday paradox test (``docs/papers/az17.md``). Under
the uniform model on ``N`` points the collision counts ``c_j`` at the sizes ``s_j`` are independent
``Binomial(R, P_N(s_j))`` with

.. math::
    P_N(s) = 1 - \\prod_{i=1}^{s-1}\\Bigl(1 - \\frac iN\\Bigr), \\qquad
    \\ell(N) = \\sum_j c_j \\log P_N(s_j) + (R - c_j) \\log(1 - P_N(s_j)).

Four intervals for ``N`` (:data:`SUPPORT_INTERVALS`), all at level ``confidence``:

- ``"neyman"`` (the headline, :data:`HEADLINE_INTERVAL`): the Neyman interval ordered by the maximum likelihood
  ``N_hat``, each tail at most ``(1 - confidence)/2``. Its lower end is the smallest ``N`` whose simulated curves
  have a maximum likelihood at least the observed ``N_hat`` with probability above ``(1 - confidence)/2``, its
  upper end the largest whose curves have one at most ``N_hat`` with that probability. The probabilities are
  Monte-Carlo p-values ``(1 + #)/(B + 1)`` over ``B`` simulated curves, an exact test at every ``N`` over the data
  and the simulated curves together (the truth lies below the interval only when the test at the truth rejects:
  probability at most ``(1 - confidence)/2``; likewise above; for one fixed set of simulated curves a curve at the
  edge may fall either way, so tiny designs want a large ``B``). ``\\ell`` is concave in ``\\theta = \\log N``,
  so a curve's maximum likelihood is at least ``N_hat`` exactly when its score at ``N_hat`` is at most 0, i.e. when
  its weighted count is at most the observed one:

  .. math::
      \\hat N(c') \\ge \\hat N \\iff \\sum_j a_j c'_j \\le \\sum_j a_j c_j, \\qquad
      a_j = \\frac{|\\partial P_N(s_j)/\\partial\\theta|}{P_N(s_j)(1 - P_N(s_j))}\\Big|_{N = \\hat N};

  the simulated curves share their uniforms across ``N`` (inverse binomial CDF), so both probabilities are
  monotone in ``N`` and the ends are found by bisection. A curve without a collision (``N_hat = inf``) or with a
  collision in every sample is handled by the exact probability of that curve; an ``N_hat`` below the largest
  size (pigeonhole) by computing the simulated curves' maximum likelihoods on a grid;
- ``"lr"``: the likelihood-ratio set ``{N : 2(\\ell(\\hat N) - \\ell(N)) <= chi^2_1(confidence)}`` (Wilks's
  asymptotic cut; with few repeats a tail can exceed its share);
- ``"cp"``: Clopper-Pearson inversion: at each size the exact interval for ``P_N(s_j)`` at level
  ``1 - (1 - confidence)/S`` (Bonferroni), turned into an interval for ``N`` (``P_N(s)`` decreases in ``N``),
  intersected over the sizes;
- ``"cp_crossing"``: the crossing of 1/2 bracketed by simultaneous Clopper-Pearson bands with grid sizes as
  endpoints, converted to ``N`` (valid for any increasing curve; very wide).

Coverage and width of each are measured on known uniform supports (tests/verify/estimators and the claim
``az17-birthday``); :func:`support_fisher_width` gives the width an efficient interval would have.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import optimize, stats

from ganlimits.theory import check_number, check_open_unit, support_from_s_half
from ganlimits.theory.az17 import UNIFORM_COLLISION_EXACT

from .._results import Estimate

__all__ = ["SUPPORT_INTERVALS", "HEADLINE_INTERVAL", "support_intervals", "support_fisher_width",
           "support_lr_pvalue"]

SUPPORT_INTERVALS = ("neyman", "lr", "cp", "cp_crossing")
"""The support intervals a birthday test reports, by name."""

HEADLINE_INTERVAL = "neyman"
"""The interval reported as ``support_estimate``: the one whose tails hold their nominal shares (by construction, and
measured on known supports)."""

_FLOOR = -1e9  # log of a zero probability: finite, so that 0 * log 0 = 0 in the matrix products
_GRID_STEP = 0.004  # spacing of the observed data's grid in log N
_SIM_STEP = 0.02  # spacing of the simulation grid in log N (maxima refined by a parabola)
_SIM_HALF = 2.5  # the simulation grid spans log N0 +- this (about 12 times the width of a 1.5x interval)
_BISECT_TOL = 1e-4  # the Neyman interval's ends are bracketed to this width in log N (the outer bracket is kept)
_DERIV_STEP = 1e-5  # step in log N of the central difference for dP_N(s)/dlog N


def _uniform_curve(N: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """``P_N(s)`` for every ``N`` (``(G,)``) and size (``(S,)``), ``(G, S)``, from
    :data:`~ganlimits.theory.az17.UNIFORM_COLLISION_EXACT`; 1 where ``s > N`` (pigeonhole)."""
    Nc, sr = N[:, None], sizes[None, :]
    with np.errstate(invalid="ignore", over="ignore"):
        P = UNIFORM_COLLISION_EXACT(N=Nc, s=np.minimum(sr, Nc))
    return np.clip(np.where(sr > Nc, 1.0, P), 0.0, 1.0)


def _log_tables(log_n: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    P = _uniform_curve(np.exp(log_n), sizes)
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(P), _FLOOR), np.maximum(np.log1p(-P), _FLOOR)


def _loglik(log_n, sizes: np.ndarray, counts: np.ndarray, repeats: int) -> np.ndarray:
    """``l(N)`` on ``log_n`` (``(G,)``) for one curve ``counts`` ``(S,)`` or many ``(B, S)``."""
    log_p, log_q = _log_tables(np.atleast_1d(np.asarray(log_n, dtype=np.float64)), sizes)
    c = np.asarray(counts, dtype=np.float64)
    return c @ log_p.T + (repeats - c) @ log_q.T


def _grid(sizes: np.ndarray) -> np.ndarray:
    top = np.log(1e4 * sizes.max() ** 2)
    return np.arange(0.0, top + _GRID_STEP, _GRID_STEP)


def _lr_set(log_n, ll, best: float, cut: float, best_x: float, sizes, counts, repeats) -> tuple[float, float]:
    """Endpoints of ``{N : 2(best - l(N)) <= cut}`` (a connected set on the grid; refined by root finding)."""
    half = cut / 2
    f = lambda v: _loglik(v, sizes, counts, repeats)[0] - (best - half)  # noqa: E731
    inside = np.nonzero(ll >= best - half)[0]
    i0, i1 = int(inside[0]), int(inside[-1])
    left = 1.0 if i0 == 0 else float(np.exp(optimize.brentq(f, log_n[i0 - 1], min(log_n[i0], best_x),
                                                            xtol=1e-10)))
    # P_N(s) jumps to 1 below N = s (pigeonhole): a left end at such a jump is the integer s itself
    near = [v for v in sizes if abs(np.log(v) - np.log(left)) < 1e-6 and f(np.log(v)) >= 0]
    left = float(min(near)) if near else left
    right = (float("inf") if i1 == len(log_n) - 1
             else float(np.exp(optimize.brentq(f, max(log_n[i1], best_x), log_n[i1 + 1], xtol=1e-10))))
    return left, right


def _mle(log_n, ll, sizes, counts, repeats) -> tuple[float, float]:
    """(log N_hat, l(N_hat)); ``log N_hat = inf`` when nothing collided (the likelihood then rises with N)."""
    j = int(np.argmax(ll))
    if not np.any(counts) or j == len(log_n) - 1:
        return float("inf"), float(ll.max())
    a, b = log_n[max(j - 1, 0)], log_n[min(j + 1, len(log_n) - 1)]
    res = optimize.minimize_scalar(lambda v: -_loglik(v, sizes, counts, repeats)[0], bounds=(a, b),
                                   method="bounded", options={"xatol": 1e-9})
    return (float(res.x), float(-res.fun)) if -res.fun >= ll[j] else (float(log_n[j]), float(ll[j]))


def _grid_max(ll: np.ndarray) -> np.ndarray:
    """Row maxima of ``ll`` (``(B, G)`` on an evenly spaced grid), refined by the parabola through the best grid
    point and its neighbours (error third order in the step)."""
    j = np.clip(ll.argmax(axis=1), 1, ll.shape[1] - 2)
    rows = np.arange(ll.shape[0])
    a, b, c = ll[rows, j - 1], ll[rows, j], ll[rows, j + 1]
    curv = a - 2 * b + c
    smooth = (curv < 0) & (np.minimum(a, c) > _FLOOR / 2)  # no parabola across a pigeonhole jump (P = 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        peak = np.where(smooth, b - (c - a) ** 2 / (8 * np.where(smooth, curv, -1.0)), b)
    return np.maximum(np.minimum(peak, b + np.abs(c - a)), ll.max(axis=1))


def _simulated_curves(log_n0: float, sizes: np.ndarray, repeats: int, draws: int,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``draws`` curves simulated under ``N0`` with their log-likelihood on a grid around ``log N0``:
    (grid ``(G,)``, counts ``(B, S)``, log-likelihood ``(B, G)``)."""
    grid = np.arange(max(0.0, log_n0 - _SIM_HALF), log_n0 + _SIM_HALF + _SIM_STEP, _SIM_STEP)
    p0 = _uniform_curve(np.array([np.exp(log_n0)]), sizes)[0]
    counts = rng.binomial(repeats, p0, size=(draws, len(sizes)))
    return grid, counts, _loglik(grid, sizes, counts, repeats)


def _curve_max(ll: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Row maxima of the log-likelihood over the grid and ``N = inf`` (where a curve without a collision has
    log-likelihood 0, its supremum)."""
    best = _grid_max(ll)
    return np.where(counts.sum(axis=1) == 0, np.maximum(best, 0.0), best)


def _simulated_statistic(log_n0: float, sizes: np.ndarray, repeats: int, draws: int, rng: np.random.Generator,
                         region: tuple[float, float]) -> np.ndarray:
    """The likelihood-ratio statistic ``2(max l - max_{region} l)`` (``region`` a log N interval) of ``draws``
    curves simulated under ``N0``. Maximised on a grid around ``N0`` (and at ``N = inf``)."""
    grid, counts, ll = _simulated_curves(log_n0, sizes, repeats, draws, rng)
    inside = (grid >= region[0]) & (grid <= region[1])
    null = ll[:, inside].max(axis=1) if inside.any() else _loglik(np.array([log_n0]), sizes, counts, repeats)[:, 0]
    return 2 * np.maximum(_curve_max(ll, counts) - null, 0.0)


def _check_curve(sizes, counts, repeats) -> tuple[np.ndarray, np.ndarray, int]:
    sz = np.asarray(sizes, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    if sz.ndim != 1 or sz.size == 0 or c.shape != sz.shape:
        raise ValueError(f"sizes and counts must be 1-D of equal length, got {sz.shape} and {c.shape}")
    if np.any(sz < 2) or np.any(sz != np.round(sz)):
        raise ValueError(f"sizes must be integers >= 2, got {list(sizes)}")
    repeats = check_number("repeats", repeats, low=1, integer=True)
    if np.any(c < 0) or np.any(c > repeats) or np.any(c != np.round(c)):
        raise ValueError(f"counts must be integers in [0, repeats = {repeats}], got {list(counts)}")
    return sz, c, repeats


def support_intervals(sizes: Sequence[int], counts: Sequence[int], repeats: int, *, confidence: float = 0.95,
                      calibration_draws: int = 1000, generator: np.random.Generator | None = None,
                      seed: int | None = None) -> dict[str, Estimate]:
    """The support intervals of a collision curve (``counts[j]`` of ``repeats`` samples of size ``sizes[j]``
    collided), keyed by :data:`SUPPORT_INTERVALS`; every point estimate is the uniform-model maximum likelihood
    ``N_hat`` (``inf`` when nothing collided).

    ``generator`` (a ``numpy.random.Generator``) drives the ``calibration_draws`` simulated curves of
    ``"neyman"``; ``seed`` is recorded in the estimates. The mathematics is in the module docstring.

    >>> est = support_intervals([10, 20, 30], [9, 29, 47], 60, generator=np.random.default_rng(0))
    >>> round(est["lr"].estimate), [round(est[k].ci_low) for k in ("lr", "cp")]
    (293, [237, 203])
    """
    sz, c, repeats = _check_curve(sizes, counts, repeats)
    confidence = check_open_unit("confidence", confidence)
    draws = check_number("calibration_draws", calibration_draws, low=100, integer=True)
    if generator is None:
        raise ValueError("generator must be a numpy.random.Generator for the calibration draws, got None")
    n = int(repeats * len(sz))
    log_n = _grid(sz)
    log_p, log_q = _log_tables(log_n, sz)
    ll = c @ log_p.T + (repeats - c) @ log_q.T
    best_x, best = _mle(log_n, ll, sz, c, repeats)
    est = float(np.exp(best_x))
    wilks = float(stats.chi2.ppf(confidence, 1))
    lo, hi = _lr_set(log_n, ll, best, wilks, best_x, sz, c, repeats)
    out = {"lr": Estimate(est, min(lo, est), max(hi, est), confidence, n, "likelihood ratio, chi2 cut (uniform "
                          "model)", seed)}
    lo_n, hi_n = _neyman(sz, c, repeats, confidence, draws, generator, best_x, log_n)
    out["neyman"] = Estimate(est, min(lo_n, est), max(hi_n, est), confidence, n,
                             f"Neyman, ordered by the maximum likelihood, each tail at most {(1 - confidence) / 2:g} "
                             f"(Monte-Carlo p-values over {draws} simulated curves, uniform model)", seed)
    out["cp"] = _cp_inversion(sz, c, repeats, confidence, est, seed, log_n, log_q)
    out["cp_crossing"] = _cp_crossing(sz, c, repeats, confidence, est, seed)
    return out


def _bisect(f, inside: float, outside: float) -> float:
    """For ``f`` monotone between ``inside`` (``f`` true) and ``outside`` (false): the end of the bracket on the
    ``outside`` side once it is narrower than :data:`_BISECT_TOL` (the conservative end)."""
    while abs(outside - inside) > _BISECT_TOL:
        mid = 0.5 * (inside + outside)
        inside, outside = (mid, outside) if f(mid) else (inside, mid)
    return outside


def _neyman(sz: np.ndarray, c: np.ndarray, repeats: int, confidence: float, draws: int,
            rng: np.random.Generator, best_x: float, log_n: np.ndarray) -> tuple[float, float]:
    """Ends of the Neyman interval ordered by the maximum likelihood (module docstring)."""
    half = (1 - confidence) / 2
    top = float(log_n[-1])

    def curve(theta: float) -> np.ndarray:
        return _uniform_curve(np.array([np.exp(theta)]), sz)[0]

    if not np.any(c):  # N_hat = inf: the only curve with N_hat >= inf is this one; its probability is exact
        def p_none(t: float) -> bool:
            with np.errstate(divide="ignore"):
                return float(repeats * np.sum(np.log1p(-np.minimum(curve(t), 1.0)))) > np.log(half)

        return (1.0 if p_none(0.0) else float(np.exp(_bisect(p_none, top, 0.0)))), float("inf")
    if np.all(c == repeats):  # the smallest N_hat: the only curve with N_hat this small; its probability is exact
        p_all = lambda t: float(repeats * np.sum(np.log(np.maximum(curve(t), 1e-300)))) > np.log(half)  # noqa: E731
        return 1.0, (float("inf") if p_all(top) else float(np.exp(_bisect(p_all, 0.0, top))))
    uniforms = rng.random((draws, sz.size))  # common random numbers: simulated counts grow as N shrinks
    ks = np.arange(repeats + 1)

    def counts(theta: float) -> np.ndarray:
        cdf = stats.binom.cdf(ks[None, :], repeats, curve(theta)[:, None])
        return np.minimum(np.stack([np.searchsorted(cdf[j], uniforms[:, j]) for j in range(sz.size)], axis=1),
                          repeats)

    P = _uniform_curve(np.exp(best_x + np.array([-_DERIV_STEP, 0.0, _DERIV_STEP])), sz)
    if np.all((P[1] > 0) & (P[1] < 1)):  # the score at N_hat orders the curves by their maximum likelihood
        a = -(P[2] - P[0]) / (2 * _DERIV_STEP) / (P[1] * (1 - P[1]))
        observed, tol = float(a @ c), 1e-9 * float(a.sum()) * repeats
        above = lambda t: counts(t) @ a <= observed + tol  # noqa: E731  (maximum likelihood >= N_hat)
        below = lambda t: counts(t) @ a >= observed - tol  # noqa: E731
    else:  # N_hat below a size (pigeonhole): the simulated curves' maximum likelihoods on a grid
        grid = log_n[::5]
        log_p, log_q = _log_tables(grid, sz)
        x = grid[int(np.argmax(c @ log_p.T + (repeats - c) @ log_q.T))]
        mle = lambda t: grid[np.argmax((k := counts(t)) @ log_p.T + (repeats - k) @ log_q.T, axis=1)]  # noqa: E731
        above = lambda t: mle(t) >= x  # noqa: E731
        below = lambda t: mle(t) <= x  # noqa: E731
    p_above = lambda t: (1 + np.sum(above(t))) / (draws + 1) > half  # noqa: E731  (increases with N)
    p_below = lambda t: (1 + np.sum(below(t))) / (draws + 1) > half  # noqa: E731  (decreases with N)
    x0 = min(best_x, top)
    lower = 1.0 if p_above(0.0) else float(np.exp(_bisect(p_above, x0 if p_above(x0) else top, 0.0)))
    upper = float("inf") if p_below(top) else float(np.exp(_bisect(p_below, x0 if p_below(x0) else 0.0, top)))
    return lower, upper


def _invert(p: float, j: int, log_n: np.ndarray, log_q: np.ndarray) -> float:
    """The ``N`` with ``P_N(s_j) = p``, interpolated on the grid table ``log_q = log(1 - P)`` (``P_N(s)``
    falls from 1 to 0 as ``N`` grows; the grid step is 0.004 in ``log N``)."""
    if p >= 1:
        return 1.0
    if p <= 0:
        return float("inf")
    target = np.log1p(-p)
    col = log_q[:, j]  # increases with N
    if target >= col[-1]:
        return float("inf")
    return float(np.exp(np.interp(target, col, log_n)))


def _bands(counts: np.ndarray, repeats: int, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson limits at ``level`` for every count at once (the formula of
    :func:`~ganlimits.verify.clopper_pearson`, vectorised)."""
    a = (1 - level) / 2
    k = np.asarray(counts, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        lo = np.where(k == 0, 0.0, stats.beta.ppf(a, np.maximum(k, 1), repeats - k + 1))
        hi = np.where(k == repeats, 1.0, stats.beta.ppf(1 - a, k + 1, np.maximum(repeats - k, 1)))
    return lo, hi


def _cp_inversion(sz, c, repeats, confidence, est, seed, log_n, log_q) -> Estimate:
    p_lo, p_hi = _bands(c, repeats, 1 - (1 - confidence) / len(sz))
    lo = max(_invert(p, j, log_n, log_q) for j, p in enumerate(p_hi))
    hi = min(_invert(p, j, log_n, log_q) for j, p in enumerate(p_lo))
    if lo > hi:  # the sizes disagree beyond their bands: no uniform law fits; the empty set has NaN limits
        nan = float("nan")
        return Estimate(nan, nan, nan, confidence, int(repeats * len(sz)), f"clopper-pearson inversion "
                        f"(Bonferroni over sizes; empty: the curve is not uniform, limits crossed at {lo:.6g} > "
                        f"{hi:.6g})", seed)
    return Estimate(float(np.clip(est, lo, hi)), lo, hi, confidence, int(repeats * len(sz)),
                    "clopper-pearson inversion (Bonferroni over sizes, uniform model)", seed)


def crossing(sizes, counts, repeats: int, confidence: float) -> tuple[float, float, float]:
    """``s_half`` where the monotone (isotonic) fit of the curve crosses 1/2 (linear interpolation), and its
    interval from Clopper-Pearson bands simultaneous over the sizes (Bonferroni): the largest size whose upper
    band is below 1/2 and the smallest whose lower band is at least 1/2 (``inf`` if none)."""
    sizes = tuple(int(v) for v in sizes)
    counts = np.asarray(counts, dtype=np.float64)
    s = np.array((1,) + sizes, dtype=np.float64)  # anchor: one point never collides
    p = np.concatenate([[0.0], counts / repeats])
    w = np.concatenate([[1e12], np.full(len(sizes), float(repeats))])
    fit = optimize.isotonic_regression(p, weights=w, increasing=True).x
    above = np.nonzero(fit >= 0.5)[0]
    if above.size:
        j = int(above[0])
        s_half = s[j - 1] + (0.5 - fit[j - 1]) / (fit[j] - fit[j - 1]) * (s[j] - s[j - 1])
    else:
        s_half = float("nan")
    lower, upper = _bands(counts, repeats, 1 - (1 - confidence) / len(sizes))
    sz = np.array(sizes, dtype=np.float64)
    hi_cands = sz[lower >= 0.5]
    hi = float(hi_cands.min()) if hi_cands.size else float("inf")
    lo_cands = sz[(upper < 0.5) & (sz < hi)]
    lo = float(lo_cands.max()) if lo_cands.size else 1.0
    return float(s_half), lo, hi


def _cp_crossing(sz, c, repeats, confidence, est, seed) -> Estimate:
    _, lo, hi = crossing(sz, c, repeats, confidence)

    def inv(v: float) -> float:
        if not np.isfinite(v):
            return float("inf")
        return support_from_s_half(s_half=v) if v > 1 else 1.0

    low, high = inv(lo), inv(hi)
    return Estimate(float(np.clip(est, low, high)), low, high, confidence, int(repeats * len(sz)),
                    "clopper-pearson bands at the crossing of 1/2 (Bonferroni, grid endpoints)", seed)


def support_fisher_width(sizes: Sequence[int], repeats: int, N: float, *, confidence: float = 0.95) -> float:
    """The width ``ci_high / ci_low`` of an efficient interval for ``N`` from this design, by the Fisher
    information of the uniform model:

    .. math::
        I(N) = R \\sum_j \\frac{(\\partial P_N(s_j) / \\partial \\log N)^2}{P_N(s_j)(1 - P_N(s_j))},
        \\qquad \\text{width} = \\exp\\bigl(2 z_{(1+c)/2} / \\sqrt{I(N)}\\bigr).

    The benchmark a support interval's median width is compared with (``inf`` when the design carries no
    information at ``N``).

    >>> round(support_fisher_width([20, 30, 40], 100, 400.0), 2)
    1.35
    """
    sz = np.asarray(sizes, dtype=np.float64)
    repeats = check_number("repeats", repeats, low=1, integer=True)
    N = check_number("N", N, low=1, low_open=True)
    confidence = check_open_unit("confidence", confidence)
    h = 1e-4
    logs = np.log(N) + np.array([-h, 0.0, h])
    P = _uniform_curve(np.exp(logs), sz)
    dP = (P[2] - P[0]) / (2 * h)
    var = P[1] * (1 - P[1])
    info = repeats * float(np.sum(np.where(var > 0, dP**2 / np.where(var > 0, var, 1.0), 0.0)))
    if info <= 0:
        return float("inf")
    return float(np.exp(2 * stats.norm.ppf((1 + confidence) / 2) / np.sqrt(info)))


def support_lr_pvalue(sizes: Sequence[int], counts: Sequence[int], repeats: int, *, low: float, high: float,
                      generator: np.random.Generator, draws: int = 1000) -> float:
    """p-value of the hypothesis ``low <= N <= high`` (uniform model) against the collision curve: the
    likelihood-ratio statistic ``2(max l - max_{[low, high]} l)`` compared with its simulated law at the end of
    ``[low, high]`` nearest the maximum likelihood ``N_hat`` (1 when ``N_hat`` lies inside). Used for the
    p-value behind a verdict "the support lies within a factor of the truth".
    """
    sz, c, repeats = _check_curve(sizes, counts, repeats)
    low = check_number("low", low, low=1)
    high = check_number("high", high, low=low)
    draws = check_number("draws", draws, low=100, integer=True)
    log_n = _grid(sz)
    ll = _loglik(log_n, sz, c, repeats)
    best_x, best = _mle(log_n, ll, sz, c, repeats)
    a, b = np.log(low), np.log(high)
    if a <= best_x <= b:
        return 1.0
    inside = np.concatenate([np.array([a, b]), log_n[(log_n > a) & (log_n < b)]])
    observed = 2 * (best - float(_loglik(inside, sz, c, repeats).max()))
    boundary = b if best_x > b else a
    sim = _simulated_statistic(boundary, sz, repeats, draws, generator, region=(a, b))
    return float((1 + np.sum(sim >= observed - 1e-9)) / (draws + 1))
