"""The birthday-paradox support test of Arora & Zhang (2017), as sympy bounds.

Symbols (declared once): ``N`` support size, ``s`` sample size, ``rho`` mass of a set of ``N`` points,
``M`` sample size at which a collision probability ``gamma`` was observed, ``beta`` the effective support
``1 / sum_x P(x)^2`` (equal to ``N`` for the uniform distribution on ``N`` points).

Statements (Arora & Zhang 2017, birthday paradox test; ``docs/papers/az17.md``):

- uniform on ``N`` points: ``Pr[collision among s] = 1 - prod_{i=1}^{s-1} (1 - i/N) >= 1 -
  exp(-s(s-1)/(2N))``, which is 1/2 at ``s ~ sqrt(2 ln 2 N) ~ 1.18 sqrt(N)``;
- mass on a set (corrected): if ``P(S) >= rho`` for a set of ``N`` points and ``K ~ Bin(M, rho)`` counts the
  draws in ``S``, then ``Pr[collision among M] >= E_K[1 - prod_{i<K}(1 - i/N)] >= P(K >= k)(1 -
  exp(-k(k-1)/(2N)))`` for every ``k`` (:data:`MASS_SET_COLLISION_LOWER`, tight, and its closed form
  :data:`MASS_SET_COLLISION_LOWER_CLOSED`). The restated ``1 - exp(-M(M-1) rho^2 / (2N))`` is only a Poisson
  approximation that sits slightly above the worst case (:data:`MASS_SET_COLLISION_APPROX`, labelled so);
  two restatements print ``rho`` for ``rho^2``, which a simulation refutes (kept as
  :data:`MASS_SET_COLLISION_MISPRINT` so that a test can show it fails);
- support bound: ``Pr[no collision in M] >= exp(-M^2/(2 beta) - M^3/(6 beta^2))`` for ``beta >= 1000`` and
  ``M <= 2 sqrt(beta log beta)``; inverting at an observed collision probability ``gamma`` gives
  ``beta <= 2M / (-3 + sqrt(9 + (24/M) log(1/(1-gamma))))``.
"""

from __future__ import annotations

from functools import cache

import mpmath
import numpy as np
import sympy as sp
from scipy import optimize

from ._bound import Bound, float64_form
from ._validate import check_number, check_positive

__all__ = [
    "MAX_SUM_TERMS",
    "UNIFORM_COLLISION_EXACT",
    "UNIFORM_COLLISION_LOWER",
    "S_HALF_UNIFORM",
    "SUPPORT_FROM_S_HALF",
    "MASS_SET_COLLISION_LOWER",
    "MASS_SET_COLLISION_LOWER_CLOSED",
    "MASS_SET_COLLISION_APPROX",
    "MASS_SET_COLLISION_MISPRINT",
    "NO_COLLISION_LOWER",
    "BETA_UPPER",
    "uniform_collision_probability",
    "s_half_uniform",
    "support_from_s_half",
    "mass_set_collision_lower",
    "mass_set_collision_approx",
    "mass_set_collision_exact",
    "beta_upper_bound",
    "beta_bound_hypotheses",
]

N, s, rho, M, gamma, beta = sp.symbols("N s rho M gamma beta", positive=True)

UNIFORM_COLLISION_EXACT = Bound(
    "az17-birthday.uniform.exact",
    # prod_{i=1}^{s-1} (1 - i/N) = N! / ((N - s)! N^s), written with log-gamma so that it evaluates for large
    # N and for real s (the interpolated s_half); equal to the product for integers 1 <= s <= N.
    1 - sp.exp(sp.loggamma(N + 1) - sp.loggamma(N - s + 1) - s * sp.log(N)),
    "Birthday problem, uniform distribution on N points: 1 - prod_{i=1}^{s-1} (1 - i/N) "
    "(standard; docs/papers/az17.md)",
    (N, s),
)

UNIFORM_COLLISION_LOWER = Bound(
    "az17-birthday.uniform.lower",
    1 - sp.exp(-s * (s - 1) / (2 * N)),
    "Birthday problem: 1 - prod (1 - i/N) >= 1 - exp(-s(s-1)/(2N)) since 1 - x <= exp(-x) "
    "(standard; docs/papers/az17.md)",
    (N, s),
)

# s at which 1 - exp(-s^2/(2N)) = 1/2 (the paper's "s ~ 1.18 sqrt(N)" rule), solved symbolically.
_s_half = [r for r in sp.solve(sp.Eq(1 - sp.exp(-s**2 / (2 * N)), sp.Rational(1, 2)), s) if r.is_positive]
S_HALF_UNIFORM = Bound(
    "az17-birthday.s_half",
    sp.simplify(_s_half[0]),
    "Arora & Zhang 2017: collisions reach probability 1/2 at s = sqrt(2 ln 2 N) ~ 1.18 sqrt(N) (s^2 form)",
    (N,),
)

_n_half = [r for r in sp.solve(sp.Eq(S_HALF_UNIFORM.expr, s), N) if r.is_positive]
SUPPORT_FROM_S_HALF = Bound(
    "az17-birthday.support_from_s_half",
    sp.simplify(_n_half[0]),
    "Arora & Zhang 2017: support ~ s_half^2 / (2 ln 2) = (s_half / 1.18)^2 (the s^2 form inverted)",
    (s,),
)

_K = sp.Symbol("K", nonnegative=True)  # draws in S, K ~ Binomial(M, rho) (no integer flag: keeps loggamma)
_k = sp.Symbol("k", positive=True)  # the cut of the closed form
# log of the Binomial(M, rho) probability of K (log-gamma form: no overflow for large M)
_LOG_PMF = (sp.loggamma(M + 1) - sp.loggamma(_K + 1) - sp.loggamma(M - _K + 1) + _K * sp.log(rho)
            + (M - _K) * sp.log(1 - rho))

MASS_SET_COLLISION_LOWER = Bound(
    "az17-birthday.mass_set.lower",
    sp.Sum(sp.exp(_LOG_PMF) * UNIFORM_COLLISION_EXACT.expr.subs(s, _K), (_K, 2, M)),
    "Arora & Zhang 2017, mass on a set, corrected: if P(S) >= rho for a set S of N points, M draws collide "
    "with probability >= E_K [1 - prod_{i<K} (1 - i/N)], K ~ Bin(M, rho) (the K draws in S collide at least "
    "as often as K uniform draws on S; tight for rho Uniform(S) plus an atomless rest)",
    (N, rho, M),
)

MASS_SET_COLLISION_LOWER_CLOSED = Bound(
    "az17-birthday.mass_set.lower_closed",
    sp.Sum(sp.exp(_LOG_PMF), (_K, _k, M)) * (1 - sp.exp(-_k * (_k - 1) / (2 * N))),
    "Arora & Zhang 2017, mass on a set, corrected, closed form: P(collision among M) >= P(K >= k) (1 - "
    "exp(-k(k-1)/(2N))) for every k, K ~ Bin(M, rho) (the sum form keeps only K >= k and bounds the rest by "
    "its value at K = k)",
    (N, rho, M, _k),
)

MASS_SET_COLLISION_APPROX = Bound(
    "az17-birthday.mass_set.rho_squared_approx",
    1 - sp.exp(-M * (M - 1) * rho**2 / (2 * N)),
    "Arora & Zhang 2017, mass on a set as restated (rho^2 form): a Poisson APPROXIMATION, not a lower bound "
    "(it exceeds the true worst case, e.g. 0.1805 against 0.1786 at N = 1000, rho = 0.1, M = 200; "
    "docs/papers/az17.md)",
    (N, rho, M),
)

MASS_SET_COLLISION_MISPRINT = Bound(
    "az17-birthday.mass_set.rho_misprint",
    1 - sp.exp(-M * (M - 1) * rho / (2 * N)),
    "The same statement with rho in place of rho^2, as two restatements print it: refuted by simulation "
    "(docs/papers/az17.md); kept only so that a test can show that it fails",
    (N, rho, M),
)

NO_COLLISION_LOWER = Bound(
    "az17-birthday.no_collision.lower",
    sp.exp(-M**2 / (2 * beta) - M**3 / (6 * beta**2)),
    "Arora & Zhang 2017 [restated]: Pr[no collision in M] >= exp(-M^2/(2 beta) - M^3/(6 beta^2)), "
    "beta = 1/sum P(x)^2 >= 1000, M <= 2 sqrt(beta log beta)",
    (beta, M),
)

# Inverting NO_COLLISION_LOWER at Pr[no collision] = 1 - gamma: the positive root in beta.
_beta_roots = sp.solve(sp.Eq(sp.log(NO_COLLISION_LOWER.expr), sp.log(1 - gamma)), beta)
_beta_root = [r for r in _beta_roots if sp.simplify(r.subs({M: 10, gamma: sp.Rational(1, 2)})).is_positive][0]
BETA_UPPER = Bound(
    "az17-birthday.beta_upper",
    2 * M / (-3 + sp.sqrt(9 + (24 / M) * sp.log(1 / (1 - gamma)))),
    "Arora & Zhang 2017 [restated]: an observed collision probability gamma at sample size M gives "
    "beta <= 2M / (-3 + sqrt(9 + (24/M) log(1/(1 - gamma)))) (NO_COLLISION_LOWER inverted)",
    (M, gamma),
)
BETA_UPPER_DERIVED = _beta_root
"""The root of NO_COLLISION_LOWER = 1 - gamma found by sympy (tests check it equals BETA_UPPER)."""


def _check_sample_size(name: str, value, low: float = 1.0):
    arr = np.asarray(value, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < low):
        raise ValueError(f"{name} must be finite and >= {low:g}, got {value!r}")
    return arr if arr.ndim else float(arr)


def uniform_collision_probability(*, N: float, s, exact: bool = True):
    """Probability that ``s`` independent draws from the uniform distribution on ``N`` points collide.

    Arora & Zhang (2017), birthday-paradox test (``docs/papers/az17.md``):

    .. math::
        \\Pr[\\text{collision}] = 1 - \\prod_{i=1}^{s-1}\\Bigl(1 - \\frac{i}{N}\\Bigr)
        \\;\\ge\\; 1 - e^{-s(s-1)/(2N)}.

    ``exact=True`` evaluates the product (:data:`UNIFORM_COLLISION_EXACT`, log-gamma form, valid for real
    ``s``), ``exact=False`` the exponential lower bound (:data:`UNIFORM_COLLISION_LOWER`). ``s`` may be an
    array; for ``s > N`` the probability is 1 (pigeonhole). Absolute accuracy of the exact form is about
    ``1e-15 N ln N`` (cancellation of the log-gamma terms): ``2e-8`` at ``N = 1e6``, ample near probability
    1/2 for ``N <= 1e9``; at tiny probabilities the lower bound (``exact=False``) is accurate relatively.

    >>> round(uniform_collision_probability(N=365, s=23), 4)  # 23 people, 365 birthdays
    0.5073
    """
    N = check_positive("N", N)
    s_arr = _check_sample_size("s", s)
    bound = UNIFORM_COLLISION_EXACT if exact else UNIFORM_COLLISION_LOWER
    if exact and N > PRECISE_ABOVE:
        value = np.vectorize(lambda x: 1.0 if x > N else _exact_precise(N, x), otypes=[np.float64])(s_arr)
        return float(value) if np.ndim(value) == 0 else value
    with np.errstate(invalid="ignore", over="ignore"):
        value = np.where(np.asarray(s_arr) > N, 1.0, bound(N=N, s=np.minimum(s_arr, N)))
    return float(value) if np.ndim(value) == 0 else value


PRECISE_ABOVE = 1e6
"""Above this support the exact collision probability is evaluated with mpmath (float64 log-gamma terms of size
N log N would cancel to an absolute error of about 1e-15 N ln N)."""


def _exact_precise(N: float, s: float) -> float:
    """UNIFORM_COLLISION_EXACT at (N, s) with mpmath: the log-gamma difference keeps its digits at any N."""
    digits = 30 + int(np.log10(max(N, 10.0)))
    with mpmath.workdps(digits):
        Nm, sm = mpmath.mpf(N), mpmath.mpf(s)
        log_none = mpmath.loggamma(Nm + 1) - mpmath.loggamma(Nm - sm + 1) - sm * mpmath.log(Nm)
        return float(-mpmath.expm1(log_none))


def s_half_uniform(*, N: float, exact: bool = False) -> float:
    """The sample size at which collisions reach probability 1/2 for the uniform distribution on ``N`` points.

    .. math::
        s_{1/2} = \\sqrt{2 \\ln 2 \\, N} \\approx 1.18 \\sqrt{N}

    (``exact=False``: :data:`S_HALF_UNIFORM`, the paper's rule). ``exact=True`` solves
    ``uniform_collision_probability(N=N, s=s) = 1/2`` for real ``s`` instead (about ``1/2`` larger).

    >>> round(s_half_uniform(N=1e6)), round(s_half_uniform(N=1e6, exact=True), 1)
    (1177, 1177.7)
    """
    N = check_positive("N", N)
    if not exact:
        return float(S_HALF_UNIFORM(N=N))
    if N <= 1:
        raise ValueError(f"N must be > 1 for a collision to be possible, got {N!r}")
    if N > PRECISE_ABOVE:  # s_half ~ 1.18 sqrt(N): bracket it closely, evaluate precisely
        lo, hi = 0.9 * np.sqrt(2 * np.log(2) * N), 1.1 * np.sqrt(2 * np.log(2) * N) + 2
        return float(optimize.brentq(lambda x: _exact_precise(N, x) - 0.5, lo, hi, xtol=1e-12, rtol=1e-15))
    return float(optimize.brentq(lambda x: UNIFORM_COLLISION_EXACT(N=N, s=x) - 0.5, 1.0, N + 1.0, xtol=1e-12))


def support_from_s_half(*, s_half: float, exact: bool = True) -> float:
    """Support size of the uniform distribution whose collision probability is 1/2 at sample size ``s_half``.

    .. math::
        \\hat N:\\;\\; 1 - \\prod_{i=1}^{s_{1/2}-1}\\Bigl(1 - \\frac{i}{\\hat N}\\Bigr) = \\tfrac12
        \\qquad\\text{(paper's rule: } \\hat N = s_{1/2}^2 / (2\\ln 2)\\text{)}

    Deviation: ``exact=True`` (default) inverts the exact product in ``N``, for real ``s_half > 1``; the
    paper's ``s^2`` rule (``exact=False``, :data:`SUPPORT_FROM_S_HALF`) overestimates small supports, e.g. by
    6% at ``N = 64`` (the exact crossing is ``s = 9.70`` there, against ``sqrt(2 ln 2 64) = 9.42``).
    """
    s_half = check_positive("s_half", s_half)
    if not exact:
        return float(SUPPORT_FROM_S_HALF(s=s_half))
    if s_half <= 1:
        raise ValueError(f"s_half must be > 1 (one draw never collides), got {s_half!r}")

    def excess(log_n: float) -> float:
        return float(UNIFORM_COLLISION_EXACT(N=np.exp(log_n), s=s_half)) - 0.5

    lo = np.log(s_half - 1 + 1e-9)
    hi = np.log(max(10.0 * s_half**2, 100.0))
    return float(np.exp(optimize.brentq(excess, lo, hi, xtol=1e-13)))


MAX_SUM_TERMS = 10**6
"""The sums over ``K ~ Binomial(M, rho)`` (:func:`mass_set_collision_lower`) are evaluated for ``M`` up to this many
draws (vectors of ``M`` float64 values); beyond it they are refused by name."""


def _mass_set_args(N, rho, M) -> tuple[int, float, int]:
    N = check_number("N", N, low=1, integer=True)
    rho = check_number("rho", rho, low=0, high=1, low_open=True)
    M = check_number("M", M, low=1, integer=True)
    return N, rho, M


@cache
def _log_pmf_numeric():
    """``_LOG_PMF`` as a vectorised float64 function of ``(K, M, rho)`` (the summand's weight, from the same
    expression)."""
    return sp.lambdify((_K, M, rho), float64_form(_LOG_PMF), modules=["numpy", "scipy"])


def _mass_set_terms(N: int, rho: float, M: int) -> tuple[np.ndarray, np.ndarray]:
    """For ``K = 2..M``: the Binomial(M, rho) probability of ``K`` and the uniform collision probability of ``K``
    draws on ``N`` points, ``1 - prod_{i<K} (1 - i/N)``, as ``-expm1(cumsum(log1p(-i/N)))`` (no cancellation at
    any ``N``: the log-gamma form of :data:`UNIFORM_COLLISION_EXACT` loses every digit in float64 beyond
    ``N ~ 1e12``)."""
    if M > MAX_SUM_TERMS:
        raise ValueError(f"M = {M}: the sum over K ~ Binomial(M, rho) has M - 1 terms; it is evaluated for "
                         f"M <= {MAX_SUM_TERMS:.0e} draws")
    K = np.arange(2, M + 1, dtype=np.float64)
    with np.errstate(under="ignore"):
        pmf = np.exp(_log_pmf_numeric()(K, float(M), float(rho)))
    i = np.arange(1, M, dtype=np.float64)
    with np.errstate(divide="ignore"):
        log_none = np.cumsum(np.where(i < N, np.log1p(-np.minimum(i, N - 1) / N), -np.inf))
    return pmf, -np.expm1(log_none)


def mass_set_collision_lower(*, N: int, rho: float, M: int, k: int | str | None = None) -> float:
    """Valid lower bound on the collision probability of ``M`` draws from any law that puts mass at least
    ``rho`` on a set ``S`` of ``N`` points (Arora & Zhang 2017, mass on a set; ``docs/papers/az17.md``).

    Let ``K ~ Binomial(M, rho)`` count the draws that land in ``S``. Among ``K`` draws on ``N`` points the
    uniform law collides least, and the chance rises with ``K``, so

    .. math::
        \\Pr[\\text{collision among } M] \\;\\ge\\; \\sum_{K=2}^{M} \\binom{M}{K}\\rho^K(1-\\rho)^{M-K}
        \\Bigl[1 - \\prod_{i=1}^{K-1}\\Bigl(1 - \\frac iN\\Bigr)\\Bigr]
        \\;\\ge\\; \\Pr[K \\ge k]\\,\\bigl(1 - e^{-k(k-1)/(2N)}\\bigr) \\quad\\text{for every } k.

    ``k=None`` evaluates the sum (:data:`MASS_SET_COLLISION_LOWER`; tight: it is the exact probability for
    ``rho Uniform(S)`` plus an atomless rest, :func:`mass_set_collision_exact`); an integer ``k`` in
    ``[2, M]`` the closed form (:data:`MASS_SET_COLLISION_LOWER_CLOSED`); ``k="best"`` the closed form at its
    best ``k``. At ``N = 1000, rho = 0.1, M = 200`` the sum is 0.1786 and the best closed form 0.1014.
    The terms are evaluated as vectors over ``K`` (``M <=`` :data:`MAX_SUM_TERMS`; a larger ``M`` is refused by
    name), the collision factor in product form so that any ``N`` keeps its digits.

    >>> round(mass_set_collision_lower(N=1000, rho=0.1, M=200), 4)
    0.1786
    """
    N, rho, M = _mass_set_args(N, rho, M)
    if k is not None and not (isinstance(k, str) and k == "best"):
        k = check_number("k", k, low=2, high=max(M, 2), integer=True)
    if M < 2:
        return 0.0
    if k is None and rho == 1:  # every draw lands in S: the uniform law on S is the worst case
        return float(uniform_collision_probability(N=N, s=M))
    if k is not None and rho == 1:
        ks = np.arange(2, M + 1, dtype=np.float64) if k == "best" else np.array([float(k)])
        return float(np.max(-np.expm1(-ks * (ks - 1) / (2 * N))))
    pmf, collide = _mass_set_terms(N, rho, M)
    if k is None:
        return float(np.sum(pmf * collide))
    tail = np.cumsum(pmf[::-1])[::-1]  # P(K >= k), k = 2..M
    ks = np.arange(2, M + 1, dtype=np.float64)
    closed = np.minimum(tail, 1.0) * -np.expm1(-ks * (ks - 1) / (2 * N))
    return float(np.max(closed)) if k == "best" else float(closed[int(k) - 2])


def mass_set_collision_approx(*, N: float, rho: float, M: float, misprint: bool = False) -> float:
    """The restated "mass on a set" formula: an APPROXIMATION of the collision probability, not a bound.

    .. math::
        \\Pr[\\text{collision}] \\approx 1 - \\exp\\Bigl(-\\frac{M(M-1)\\rho^2}{2N}\\Bigr)

    (:data:`MASS_SET_COLLISION_APPROX`, a Poisson approximation). It lies slightly ABOVE the true worst case
    (by Jensen, ``E[1 - exp(-K(K-1)/2N)] <= 1 - exp(-E[K(K-1)]/2N)`` for ``K ~ Bin(M, rho)``): 0.1805 against
    the exact 0.1786 at ``N = 1000, rho = 0.1, M = 200``; the valid bound is :func:`mass_set_collision_lower`.
    ``misprint=True`` evaluates the ``rho`` version two restatements print
    (:data:`MASS_SET_COLLISION_MISPRINT`, 0.863 there: badly wrong).
    """
    values = dict(N=check_positive("N", N), rho=check_number("rho", rho, low=0, high=1, low_open=True),
                  M=float(_check_sample_size("M", M)))
    bound = MASS_SET_COLLISION_MISPRINT if misprint else MASS_SET_COLLISION_APPROX
    return float(bound(**values))


def mass_set_collision_exact(*, N: int, rho: float, M: int) -> float:
    """Exact collision probability of ``M`` draws from ``rho * Uniform(S) + (1 - rho) * (an atomless law)``,
    ``|S| = N``: only the ``K ~ Binomial(M, rho)`` draws in ``S`` can collide, so it is the sum form of
    :func:`mass_set_collision_lower` (:data:`MASS_SET_COLLISION_LOWER`), which this law attains.

    .. math::
        \\Pr[\\text{collision}] = \\sum_{K=0}^{M} \\binom{M}{K}\\rho^K(1-\\rho)^{M-K}
        \\Bigl[1 - \\prod_{i=1}^{K-1}\\bigl(1 - \\tfrac{i}{N}\\bigr)\\Bigr]
    """
    return mass_set_collision_lower(N=N, rho=rho, M=M)


def beta_upper_bound(*, M: float, gamma):
    """Upper bound on the effective support ``beta = 1/sum P(x)^2`` from a collision probability ``gamma`` at
    sample size ``M``.

    .. math::
        \\beta \\le \\frac{2M}{-3 + \\sqrt{9 + \\frac{24}{M}\\log\\frac{1}{1-\\gamma}}}

    (:data:`BETA_UPPER`; valid where :func:`beta_bound_hypotheses` holds). ``gamma = 0`` gives ``inf`` (no
    information); ``gamma`` may be an array in ``[0, 1)``.
    """
    M = float(_check_sample_size("M", M, low=2.0))
    g = np.asarray(gamma, dtype=np.float64)
    if not np.all(np.isfinite(g)) or np.any(g < 0) or np.any(g >= 1):
        raise ValueError(f"gamma must lie in [0, 1), got {gamma!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.asarray(np.where(g > 0, BETA_UPPER(M=M, gamma=np.maximum(g, 1e-300)), np.inf), dtype=np.float64)
    lost = (g > 0) & ~np.isfinite(value)  # sqrt(9 + x) - 3 cancels to 0 when 24 log(1/(1-gamma)) / M < 1e-16
    if np.any(lost):
        digits = 30 + int(np.log10(M))
        fix = np.vectorize(lambda x: float(BETA_UPPER.precise(dps=digits, M=M, gamma=float(x))), otypes=[float])
        value = np.where(lost, fix(np.where(lost, g, 0.5)), value)
    return float(value) if value.ndim == 0 else value


def beta_bound_hypotheses(*, beta: float, M: float) -> dict[str, bool]:
    """The hypotheses under which :data:`NO_COLLISION_LOWER` (and so :data:`BETA_UPPER`) is stated:
    ``beta >= 1000`` and ``M <= 2 sqrt(beta log beta)``."""
    beta = check_positive("beta", beta)
    M = check_positive("M", M)
    large = beta >= 1000
    small_sample = bool(M <= 2 * np.sqrt(beta * np.log(beta))) if beta > 1 else False
    return {"beta_at_least_1000": bool(large), "M_at_most_2_sqrt_beta_log_beta": small_sample,
            "all": bool(large and small_sample)}
