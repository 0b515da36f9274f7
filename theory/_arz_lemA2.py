"""Lemma A.2 of Arora, Risteski & Zhang (arXiv 1711.02651) in sub-Gaussian form, and the variance ceiling that
makes a too-tight tail bound provably false (the power control of the concentration check).

McDiarmid's inequality with bounded differences ``c_i`` is a sub-Gaussian tail with variance proxy
``s^2 = sum_i c_i^2 / 4``. A tail bound ``Pr[|X - E X| >= t] <= 2 exp(-t^2 / (2 s^2))`` for every t > 0 forces
``Var X = int_0^inf 2 t Pr[|X - E X| >= t] dt <= 4 s^2``; the ceiling below is that integral, computed
symbolically. Hence the tail ``2 exp(-kappa t^2 / (2 v))`` is false for every law of variance v once
``kappa > 4``: a bound that a correct tail measurement must flag.

The centre E f of the tail test is estimated from a large independent sample whose values span far less than
phi's range; its interval is the empirical Bernstein bound of Maurer & Pontil (2009, Theorem 4), whose width
scales with the sample standard deviation instead of the range.

Symbols: ``t`` deviation, ``s`` variance-proxy standard deviation, ``m`` support size (number of memorized
samples), ``Delta`` half-range of phi, ``V`` sample variance, ``n`` sample size, ``r`` length of the range of
the values, ``alpha`` error probability of one side.
"""

from __future__ import annotations

import sympy as sp

from ._arz_thm1 import MCDIARMID_BOUNDED_DIFFERENCE, alpha, m, n, t
from ._bound import Bound

__all__ = [
    "SUBGAUSSIAN_TAIL",
    "SUBGAUSSIAN_VARIANCE_CEILING",
    "MCDIARMID_VARIANCE_PROXY",
    "EMPIRICAL_BERNSTEIN_HALF_WIDTH",
    "NORMAL_HALF_WIDTH",
]

s, V, r = sp.symbols("s V r", positive=True)

SUBGAUSSIAN_TAIL = Bound(
    "subgaussian.tail",
    2 * sp.exp(-(t**2) / (2 * s**2)),
    "two-sided sub-Gaussian tail with variance proxy s^2 (the form of McDiarmid's and Hoeffding's "
    "inequalities)",
)

SUBGAUSSIAN_VARIANCE_CEILING = Bound(
    "subgaussian.variance_ceiling",
    sp.simplify(sp.integrate(2 * t * SUBGAUSSIAN_TAIL.expr, (t, 0, sp.oo))),
    "Var X = int_0^inf 2t Pr[|X - EX| >= t] dt <= int_0^inf 2t * 2exp(-t^2/(2s^2)) dt: the largest "
    "variance a law obeying SUBGAUSSIAN_TAIL can have",
)

MCDIARMID_VARIANCE_PROXY = Bound(
    "arz-lemA2.variance_proxy",
    sp.simplify(2 * m * MCDIARMID_BOUNDED_DIFFERENCE**2 / 4),
    "sum of c_i^2 / 4 over the 2m arguments of Lemma A.2 (c_i = 2 Delta / m): McDiarmid's tail is "
    "SUBGAUSSIAN_TAIL with s^2 = this (constants [spec])",
)

EMPIRICAL_BERNSTEIN_HALF_WIDTH = Bound(
    "empirical_bernstein.half_width",
    sp.sqrt(2 * V * sp.log(2 / alpha) / n) + 7 * r * sp.log(2 / alpha) / (3 * (n - 1)),
    "Maurer & Pontil 2009, Theorem 4 (scaled to values in an interval of length r): for n i.i.d. values with "
    "unbiased sample variance V, E X <= mean + this with probability >= 1 - alpha (one side; use alpha/2 per "
    "side for a two-sided interval)",
)

NORMAL_HALF_WIDTH = Bound(
    "clt.half_width",
    sp.sqrt(2) * sp.erfinv(1 - alpha) * sp.sqrt(V / n),
    "central limit theorem: the two-sided (1 - alpha) normal-approximation half-width of a mean of n i.i.d. values "
    "with sample variance V (asymptotic coverage only; use 2 alpha for one side)",
)
