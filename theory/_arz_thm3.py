"""Theorem 3 of Arora, Risteski & Zhang (arXiv 1711.02651): the memorizing generator as a ReLU network.

Every formula here is written once as a sympy expression (a :class:`Bound`); numbers come from calling it.

Symbols (declared once): ``k`` intervals per code coordinate, ``d_code`` code dimension d', ``d`` image
dimension, ``m`` support size (= k**d'), ``sigma`` code standard deviation, ``delta`` total-variation budget,
``w`` ramp width of the step circuits, ``q`` number of thresholds of a selector (Lemma 3 of Arora et al.
2017).

The network counted here is the one built by ``ganlimits.constructions.MemorizingGenerator``
(``docs/papers/arz17.md``, Theorem 3, stages 1-7); its per-stage counts are:

======================  ==============================================  =====================
stage                   what the weights are                            non-zero weights
======================  ==============================================  =====================
2 ``AbsLayer``          ReLU(z), ReLU(-z) (+-1); ``|z|`` = sum (1, 1)   4 d'
3 ``StepLayer``         shift (1), scale (1/w), flip (-1), sum (-1)      4 d' (k - 1)
4 ``IndexLayer``        num = sum_i k**i digit_i                         d'
5 ``HatLayer``          3 hidden ReLUs per l from num (1); (1, -2, 1)    6 m
6 ``MemoryLayer``       fan-out of e_l with edge weights x*_l           m d
7 ``MergeLayer``        A at clean positions (1); ReLU(z) - ReLU(-z)    (d - d') + 2 d'
======================  ==============================================  =====================

Weights are edges; biases are not counted. The memory count ``m d`` assumes memory rows without zero entries;
a memory with ``Z`` zero entries has ``Z`` fewer non-zero weights (the network drops those edges).
"""

from __future__ import annotations

import itertools
import math
from functools import cache

import numpy as np
import sympy as sp
from scipy import special

from ._bound import Bound, float64_form
from ._validate import check_count, check_number, check_open_unit, check_positive

__all__ = [
    "MAX_EXACT_INDEX",
    "MAX_RAMP_TERMS",
    "RAMP_MASS_PER_COORDINATE",
    "MISMATCH_PROBABILITY",
    "TV_BOUND_FOR_WIDTH",
    "RAMP_WIDTH_FOR_TV",
    "GENERATOR_LAYER_WEIGHTS",
    "GENERATOR_NUM_WEIGHTS",
    "GENERATOR_MAX_WEIGHT",
    "GENERATOR_NUM_WEIGHTS_FROM_STATEMENT",
    "GENERATOR_MAX_WEIGHT_FOR_TV",
    "STEP_SLOPE_FOR_TV",
    "weights_per_memory_entry_limit",
    "ENCODER_NUM_WEIGHTS",
    "SELECTOR_NUM_WEIGHTS",
    "arz_thm3_block_count",
    "arz_thm3_weight_counts",
    "arz_thm3_summary",
    "ramp_width_for_tv",
    "mismatch_probability",
    "cell_measure_symbolic",
]

k, d_code, d, m, sigma, delta, w, q = sp.symbols("k d_code d m sigma tv_budget w q", positive=True)
_j = sp.Symbol("j", integer=True, positive=True)

MAX_EXACT_INDEX = 2**53
"""Largest m for which every block index and every step sum is an exact float64 integer."""


def _phi(x: sp.Expr) -> sp.Expr:
    """Standard normal CDF, written with erf."""
    return (1 + sp.erf(x / sp.sqrt(2))) / 2


def _phi_inv(p_: sp.Expr) -> sp.Expr:
    """Standard normal quantile, written with erfinv."""
    return sp.sqrt(2) * sp.erfinv(2 * p_ - 1)


def _abs_cdf(t: sp.Expr) -> sp.Expr:
    """F(t) = 2 Phi(t / sigma) - 1, the CDF of |z_i| for z_i ~ N(0, sigma^2), t >= 0."""
    return 2 * _phi(t / sigma) - 1


def _threshold(j: sp.Expr, k_: sp.Expr) -> sp.Expr:
    """tau_j = sigma Phi^-1((1 + j/k) / 2)."""
    return sigma * _phi_inv((1 + j / k_) / 2)


# ---- total variation: ramp masses ------------------------------------------------------------------------

# Mass under |z_i| of the union of the left ramps (tau_j - w, tau_j), j = 1..k-1, intersected with [0, inf).
# Inside [tau_{j-1}, tau_j) the union is (max(tau_{j-1}, tau_j - w), tau_j) (ramps to the right start later,
# ramps to the left end at tau_{j-1}), so the mass is F(tau_j) - F(max(tau_{j-1}, tau_j - w)) with F monotone;
# F(tau_j) = j/k is exact. This is exact for every w > 0, also when ramps overlap or reach below 0. The Sum is
# evaluated as a Python loop over j, so k must be passed as an int.
RAMP_MASS_PER_COORDINATE = Bound(
    "arz-thm3.ramp_mass",
    sp.Sum(
        _j / k - sp.Max((_j - 1) / k, sp.erf(sp.erfinv(_j / k) - w / (sigma * sp.sqrt(2)))),
        (_j, 1, k - 1),
    ),
    "Arora, Risteski & Zhang 2017, Theorem 3 [spec]: q = sum_j [F(tau_j) - F(tau_j - w)], "
    "exact mass of the union of the ramps under the law of |z_i|",
    symbols=(k, w, sigma),
)

MISMATCH_PROBABILITY = Bound(
    "arz-thm3.mismatch_probability",
    1 - (1 - RAMP_MASS_PER_COORDINATE.expr) ** d_code,
    "Arora, Risteski & Zhang 2017, Theorem 3 [spec]: Pr[z on a ramp in some coordinate] = 1 - (1 - q)^d' "
    "(coordinates independent); d_TV(G_hat(nu), G(nu)) <= this",
    symbols=(k, d_code, w, sigma),
)

TV_BOUND_FOR_WIDTH = Bound(
    "arz-thm3.tv_bound",
    d_code * (k - 1) * w * sp.sqrt(2 / sp.pi) / sigma,
    "Arora, Risteski & Zhang 2017, Theorem 3 [spec]: 1 - (1 - q)^d' <= d' q "
    "<= d' (k - 1) w sqrt(2/pi) / sigma, since the density of |z_i| is at most sqrt(2/pi)/sigma "
    "(docs/papers/arz17.md, Theorem 3)",
)

RAMP_WIDTH_FOR_TV = Bound(
    "arz-thm3.ramp_width",
    sp.solve(sp.Eq(TV_BOUND_FOR_WIDTH.expr, delta), w)[0],
    "Arora, Risteski & Zhang 2017, Theorem 3 [spec]: the ramp width w at which the TV bound equals delta",
)

# ---- weight counts ---------------------------------------------------------------------------------------

GENERATOR_LAYER_WEIGHTS: dict[str, sp.Expr] = {
    "abs": 4 * d_code,
    "step": 4 * d_code * (k - 1),
    "index": d_code,
    "hat": 6 * m,
    "memory": m * d,
    "merge": (d - d_code) + 2 * d_code,
}
"""Exact non-zero weight count of each stage of ``MemorizingGenerator`` (memory rows without zero entries)."""

GENERATOR_NUM_WEIGHTS = Bound(
    "arz-thm3.num_weights",
    sp.expand(sum(GENERATOR_LAYER_WEIGHTS.values())),
    "Arora, Risteski & Zhang 2017, Theorem 3: O(m d) non-zero weights; exact count of this project's network "
    "(memory rows without zero entries)",
)

GENERATOR_MAX_WEIGHT = Bound(
    "arz-thm3.max_weight",
    sp.Max(1 / w, k ** (d_code - 1), 2),
    "Arora, Risteski & Zhang 2017, Theorem 3, footnote: weights grow like 1/w (steps), the index layer's "
    "k^(d'-1) and the hat's -2; the memory's own entries (data values) are not included",
    symbols=(k, d_code, w),
)

# ---- the same two numbers derived from the statement alone (docs/papers/arz17.md, Theorem 3), not from the network --
# Count by units and their fan-in, for the literal form of each step of the statement:
#   |z_i| = ReLU(z_i) + ReLU(-z_i): 2 units of fan-in 1 and |z_i| of fan-in 2, per coordinate;
#   step_j(t) = (ReLU(t - tau_j + w) - ReLU(t - tau_j)) / w: 2 units of fan-in 1 per threshold, and
#   digit_i = sum_j step_j(|z_i|) reads those 2 (k - 1) units (edge weights +-1/w);
#   num = sum_i digit_i k^i: one unit of fan-in d'; e_l = ReLU(u+1) - 2 ReLU(u) + ReLU(u-1): 3 units of fan-in 1
#   and e_l of fan-in 3, per l; A = sum_l e_l x*_l: d outputs of fan-in m; the output keeps A at the d - d' clean
#   positions (fan-in 1) and puts z_j = ReLU(z_j) - ReLU(-z_j) at the d' noise positions (fan-in 2).
_UNITS_AND_FAN_IN = [
    (2 * d_code, 1), (d_code, 2),                   # |z|
    (2 * (k - 1) * d_code, 1), (d_code, 2 * (k - 1)),  # steps and digits
    (1, d_code),                                     # num
    (3 * m, 1), (m, 3),                              # hats
    (d, m),                                          # memory
    (d - d_code, 1), (d_code, 2),                    # merge
]
GENERATOR_NUM_WEIGHTS_FROM_STATEMENT = Bound(
    "arz-thm3.num_weights_from_statement",
    sp.expand(sum(units * fan_in for units, fan_in in _UNITS_AND_FAN_IN)),
    "Arora, Risteski & Zhang 2017, Theorem 3 [spec]: non-zero weights of the network exactly as "
    "docs/papers/arz17.md (Theorem 3) writes it, counted unit by unit (fan-in), independently of the "
    "network-building code",
)

STEP_SLOPE_FOR_TV = Bound(
    "arz-thm3.step_slope_for_tv",
    d_code * (k - 1) / (delta * sigma * sp.sqrt(sp.pi / 2)),
    "Arora, Risteski & Zhang 2017, Theorem 3 [spec]: the slope 1/w of a step's ramp, with w such that "
    "d' (k - 1) w sqrt(2/pi) / sigma = delta (the density of |z_i| is at most sqrt(2/pi)/sigma)",
    symbols=(k, d_code, delta, sigma),
)

GENERATOR_MAX_WEIGHT_FOR_TV = Bound(
    "arz-thm3.max_weight_for_tv",
    sp.Max(STEP_SLOPE_FOR_TV.expr, k ** (d_code - 1), 2),
    "Arora, Risteski & Zhang 2017, Theorem 3 [spec]: the largest circuit weight in terms of the TV budget: the "
    "steps' slope 1/w with w chosen so that d' (k - 1) w sqrt(2/pi) / sigma = delta, the index's k^(d'-1), the "
    "hat's 2",
    symbols=(k, d_code, delta, sigma),
)


def weights_per_memory_entry_limit() -> sp.Expr:
    """The O(m d) of Theorem 3, symbolically: lim_{m -> oo} (number of weights) / (m d) = 1 + 6 / d."""
    return sp.limit(GENERATOR_NUM_WEIGHTS_FROM_STATEMENT.expr / (m * d), m, sp.oo)


ENCODER_NUM_WEIGHTS = Bound(
    "arz-thm1.encoder_weights",
    d_code,
    "Arora, Risteski & Zhang 2017, Theorem 1: the encoder has d' non-zero weights (value 1)",
)

SELECTOR_NUM_WEIGHTS = Bound(
    "agl17-lemma3.selector_weights",
    5 * q,
    "Arora et al. 2017, Lemma 3 (as used in Theorem 3): shift (1), scale (1/w), flip (-1) per threshold and "
    "2q output weights; 2q hidden ReLUs (its ramp bound q w / sqrt(2 pi) is SELECTOR_RAMP_BOUND in _agl17)",
)


# ---- numeric helpers (all evaluate the Bounds above) ------------------------------------------------------


def arz_thm3_block_count(*, k: int, code_dim: int) -> int:
    """m = k**code_dim, after checking k >= 2, code_dim >= 1 and m <= 2**53 (float64-exact indexing).

    The practical limit is lower: the memory of the generator holds ``m * d`` float64 values.
    """
    k_ = check_count("k", k, low=2)
    dc = check_count("code_dim", code_dim, low=1)
    if dc * math.log2(k_) > 54 or k_**dc > MAX_EXACT_INDEX:  # no huge integer power for absurd inputs
        raise ValueError(
            f"code_dim: m = k**code_dim = {k_}**{dc} exceeds 2**53, beyond float64-exact block indexing; "
            f"need k**code_dim <= 2**53"
        )
    return k_**dc


def ramp_width_for_tv(*, tv_budget: float, k: int, code_dim: int, sigma: float = 1.0) -> float:
    """The ramp width w = delta sigma sqrt(pi/2) / (d' (k - 1)) that keeps d_TV <= delta = ``tv_budget``
    (``docs/papers/arz17.md``, Theorem 3).

    >>> round(ramp_width_for_tv(tv_budget=0.01, k=10, code_dim=2), 6)
    0.000696
    """
    tv_budget = check_open_unit("tv_budget", tv_budget)
    arz_thm3_block_count(k=k, code_dim=code_dim)
    sigma = check_positive("sigma", sigma)
    return RAMP_WIDTH_FOR_TV.value("ramp_width", tv_budget=tv_budget, sigma=sigma, d_code=int(code_dim), k=int(k))


MAX_RAMP_TERMS = 10**7
"""The exact ramp mass :data:`RAMP_MASS_PER_COORDINATE` is a sum of ``k - 1`` terms, evaluated as vectors for ``k - 1``
up to this many (about a second); a larger ``k`` is refused by name (the TV bound still holds there)."""

_CHUNK = 2**20
_q = sp.Symbol("q", positive=True)


@cache
def _ramp_terms_numeric():
    """The summand of :data:`RAMP_MASS_PER_COORDINATE` as a vectorised float64 function of ``(j, k, w, sigma)``, and
    :data:`MISMATCH_PROBABILITY` as a function of the ramp mass ``q`` and ``d_code`` (``-expm1(d' log1p(-q))``)."""
    term = sp.lambdify((_j, k, w, sigma), float64_form(RAMP_MASS_PER_COORDINATE.expr.function),
                       modules=["numpy", "scipy"])
    outer = MISMATCH_PROBABILITY.expr.subs(RAMP_MASS_PER_COORDINATE.expr, _q).rewrite(sp.exp)
    return term, sp.lambdify((_q, d_code), float64_form(outer), modules=["numpy", "scipy"])


def _narrow_ramp_terms(j: np.ndarray, k_: int, h: float) -> np.ndarray:
    """The summand of :data:`RAMP_MASS_PER_COORDINATE` for ramps narrower than ``1e-7 sigma`` (``h = w / (sigma
    sqrt 2)``): ``j/k - max((j-1)/k, erf(a_j - h))`` with ``erf(a_j) = j/k`` is ``1/k`` when the ramp reaches the
    previous threshold (or 0), else ``erf(a_j) - erf(a_j - h)``, evaluated as the integral of ``2 exp(-u^2) /
    sqrt(pi)`` over ``[a_j - h, a_j]`` by 3-point Gauss-Legendre (error ``O(h^6)`` relative: exact in float64 here)
    instead of a difference of two erf values that agree in all but their last digits."""
    a = special.erfinv(j / k_)
    reaches = a - h <= special.erfinv((j - 1) / k_)
    nodes, weights = np.polynomial.legendre.leggauss(3)
    mid = a - h / 2
    inner = sum(wt * np.exp(-((mid + (h / 2) * x) ** 2)) for x, wt in zip(nodes, weights, strict=True))
    return np.where(reaches, 1.0 / k_, inner * h / math.sqrt(math.pi))


def mismatch_probability(*, k: int, code_dim: int, width: float, sigma: float = 1.0) -> float:
    """Exact Pr[some coordinate of z ~ N(0, sigma^2 I) lies on a ramp] for ramps of width ``width``
    (:data:`MISMATCH_PROBABILITY`, ``docs/papers/arz17.md``, Theorem 3).

    The ``k - 1`` terms of the ramp mass are evaluated as float64 vectors (``k - 1 <=`` :data:`MAX_RAMP_TERMS`; a
    larger ``k`` is refused by name). Ramps narrower than 1e-7 sigma are integrated over the ramp instead of
    taking a difference of two erf values (float64 would lose every digit of F(tau_j) - F(tau_j - w) as w / sigma
    nears the float64 epsilon).

    >>> round(mismatch_probability(k=10, code_dim=2, width=0.000696), 4)
    0.0073
    """
    arz_thm3_block_count(k=k, code_dim=code_dim)
    width = check_positive("width", width)
    sigma = check_positive("sigma", sigma)
    k_, dc = int(k), int(code_dim)
    if k_ - 1 > MAX_RAMP_TERMS:
        raise ValueError(f"k = {k_}: the exact ramp mass is a sum of k - 1 terms, evaluated for k <= "
                         f"{MAX_RAMP_TERMS + 1:.0e}; the TV bound d' (k - 1) w sqrt(2/pi) / sigma bounds it above")
    term, outer = _ramp_terms_numeric()
    parts = []
    for start in range(1, k_, _CHUNK):
        j = np.arange(start, min(start + _CHUNK, k_), dtype=np.float64)
        if width >= 1e-7 * sigma:
            parts.append(float(np.sum(term(j, float(k_), width, sigma))))
        else:
            parts.append(float(np.sum(_narrow_ramp_terms(j, k_, width / (sigma * math.sqrt(2))))))
    q = min(math.fsum(parts), 1.0)
    with np.errstate(divide="ignore"):
        return float(outer(q, dc))


def arz_thm3_weight_counts(*, m: int, dim: int, code_dim: int, k: int) -> dict[str, int]:
    """Exact non-zero weight count of every stage and the total (``"total"``), as Python ints."""
    values = {"m": check_number("m", m, low=1, integer=True), "d": check_number("dim", dim, low=2, integer=True),
              "d_code": check_number("code_dim", code_dim, low=1, integer=True),
              "k": check_number("k", k, low=2, integer=True)}
    out = {
        name: int(expr.subs({s: values[s.name] for s in expr.free_symbols}))
        for name, expr in GENERATOR_LAYER_WEIGHTS.items()
    }
    out["total"] = int(GENERATOR_NUM_WEIGHTS.subs(values))
    return out


def arz_thm3_summary(*, k: int, code_dim: int, dim: int, tv_budget: float, sigma: float = 1.0) -> dict:
    """Theorem 3 evaluated: m, the ramp width for TV budget ``tv_budget``, the exact weight count, the largest
    weight, the TV bound at that width and the exact ramp probability.

    .. math::
        w = \\frac{\\delta \\sigma \\sqrt{\\pi/2}}{d'(k-1)}, \\qquad
        \\#W = m d + 6 m + d + 4 k d' + 2 d', \\qquad
        \\max|W| = \\max(1/w, k^{d'-1}, 2).

    Deviation: the paper states O(m d) weights and TV <= delta; the constants are this project's ([spec]).
    Raises ``ValueError`` naming the parameter for k < 2, code_dim < 1 or >= dim, m > 2**53, tv_budget outside (0, 1)
    or sigma <= 0. For ``k - 1 >`` :data:`MAX_RAMP_TERMS` the exact ramp probability is not computed (``None``, and
    ``"mismatch_probability_note"`` says why); everything else is closed-form and returned at any ``k``.

    >>> s = arz_thm3_summary(k=10, code_dim=2, dim=64, tv_budget=0.01)
    >>> s["m"], s["num_nonzero_weights"], round(s["ramp_width"], 6), round(s["mismatch_probability"], 4)
    (100, 7148, 0.000696, 0.0073)
    """
    blocks = arz_thm3_block_count(k=k, code_dim=code_dim)
    dim_ = check_count("dim", dim, low=2)
    k, code_dim = int(k), int(code_dim)
    if code_dim >= dim_:
        raise ValueError(f"code_dim must be < dim = {dim_} (Theorem 3 keeps d - d' clean coordinates), "
                         f"got {code_dim}")
    tv_budget = check_open_unit("tv_budget", tv_budget)
    sigma = check_positive("sigma", sigma)
    width = ramp_width_for_tv(tv_budget=tv_budget, k=k, code_dim=code_dim, sigma=sigma)
    counts = arz_thm3_weight_counts(m=blocks, dim=dim_, code_dim=code_dim, k=k)
    exact = None if k - 1 > MAX_RAMP_TERMS else mismatch_probability(k=k, code_dim=code_dim, width=width, sigma=sigma)
    out = {
        "m": blocks,
        "ramp_width": width,
        "num_nonzero_weights": counts["total"],
        "max_weight": GENERATOR_MAX_WEIGHT.value("max_weight", k=k, d_code=code_dim, w=width),
        "tv_bound": TV_BOUND_FOR_WIDTH.value("tv_bound", d_code=code_dim, k=k, w=width, sigma=sigma),
        "mismatch_probability": exact,
    }
    if exact is None:
        out["mismatch_probability_note"] = (f"not computed: the exact ramp mass is a sum of k - 1 = {k - 1} terms "
                                            f"(evaluated up to {MAX_RAMP_TERMS:.0e}); tv_bound bounds it above")
    return out


# ---- symbolic check: every cell has measure 1/m ------------------------------------------------------------


def cell_measure_symbolic(k: int, code_dim: int) -> dict:
    """Symbolic measure of every cell of the partition of Theorem 3 under N(0, sigma^2 I_{d'}) (sympy on Phi).

    .. math::
        \\nu(\\mathrm{cell}(j_1..j_{d'})) = \\prod_i [F(\\tau_{j_i+1}) - F(\\tau_{j_i})], \\quad
        F(t) = 2\\Phi(t/\\sigma) - 1, \\quad \\tau_j = \\sigma \\Phi^{-1}((1 + j/k)/2).

    Returns ``{"interval_masses": [k sympy expressions, j = 0..k-1], "cell_measures": frozenset of the
    distinct simplified cell measures over all digit tuples, "m": k**code_dim}``. Since a cell measure is a
    product of interval masses, the distinct values are enumerated over multisets of digits (C(k+d'-1, d') of
    them), not over all m cells. The theorem holds when ``cell_measures == {Rational(1, m)}``.
    """
    blocks = arz_thm3_block_count(k=k, code_dim=code_dim)
    k_ = int(k)
    # F(tau_k) = F(inf) = 1
    edges = [_abs_cdf(_threshold(sp.Integer(j), sp.Integer(k_))) for j in range(k_)] + [sp.Integer(1)]
    masses = [sp.simplify(edges[j + 1] - edges[j]) for j in range(k_)]
    measures = frozenset(
        sp.simplify(sp.Mul(*(masses[j] for j in combo)))
        for combo in itertools.combinations_with_replacement(range(k_), int(code_dim))
    )
    return {"interval_masses": masses, "cell_measures": measures, "m": blocks}

