"""The birthday-paradox formulas of docs/papers/az17.md: exact against enumeration, bounds against simulation,
and the rho -> rho^2 correction of the mass-on-a-set statement."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given
from hypothesis import strategies as st

from ganlimits.theory import (
    BETA_UPPER,
    MASS_SET_COLLISION,
    MASS_SET_COLLISION_MISPRINT,
    NO_COLLISION_LOWER,
    S_HALF_UNIFORM,
    SUPPORT_FROM_S_HALF,
    UNIFORM_COLLISION_EXACT,
    UNIFORM_COLLISION_LOWER,
    beta_bound_hypotheses,
    beta_upper_bound,
    mass_set_collision_bound,
    mass_set_collision_exact,
    s_half_uniform,
    support_from_s_half,
    uniform_collision_probability,
)
from ganlimits.theory._birthday import BETA_UPPER_DERIVED


def _enumerated_collision(N: int, s: int) -> Fraction:
    """Fraction of the N^s equally likely draws with a repeated value (brute force)."""
    hits = sum(len(set(t)) < s for t in itertools.product(range(N), repeat=s))
    return Fraction(hits, N**s)


@pytest.mark.parametrize("N,s", [(2, 2), (3, 2), (3, 3), (4, 3), (5, 3), (6, 4), (7, 5), (4, 5)])
def test_uniform_collision_exact_equals_enumeration(N, s):
    truth = _enumerated_collision(N, s)
    # the sympy expression is exact: it evaluates to the same rational number
    symbolic = sp.nsimplify(sp.simplify(UNIFORM_COLLISION_EXACT.subs({"N": N, "s": s})))
    if s <= N:
        assert symbolic == sp.Rational(truth.numerator, truth.denominator)
    # the product form (docs/papers/az17.md) agrees too
    i = sp.Symbol("i", integer=True, positive=True)
    product = 1 - sp.Product(1 - sp.Rational(1, N) * i, (i, 1, s - 1)).doit()
    assert product == sp.Rational(truth.numerator, truth.denominator)
    # and the numeric form (derived by lambdify, rtol from log-gamma rounding)
    assert uniform_collision_probability(N=N, s=s) == pytest.approx(float(truth), rel=1e-12, abs=1e-15)


@given(N=st.integers(2, 10**6), frac=st.floats(0.0, 1.0))
@example(N=365, frac=22 / 363)
def test_exponential_form_is_a_lower_bound(N, frac):
    s = 2 + round(frac * (min(N, 5000) - 2))
    exact = uniform_collision_probability(N=N, s=s)
    lower = uniform_collision_probability(N=N, s=s, exact=False)
    # 1 - x <= exp(-x); the tolerance is the log-gamma form's absolute accuracy 1e-15 N ln N
    assert lower <= exact + 1e-15 * N * math.log(N)


def test_exponential_form_is_not_an_upper_bound():
    # negative control: the inequality has a direction; at s = 23, N = 365 the exact value is strictly larger
    exact = uniform_collision_probability(N=365, s=23)
    assert exact - uniform_collision_probability(N=365, s=23, exact=False) > 5e-3


def test_birthday_numbers():
    assert uniform_collision_probability(N=365, s=23) == pytest.approx(0.507297234, abs=1e-9)
    assert uniform_collision_probability(N=365, s=22) < 0.5
    assert uniform_collision_probability(N=10, s=11) == 1.0  # pigeonhole
    assert s_half_uniform(N=1) == pytest.approx(math.sqrt(2 * math.log(2)))


def test_s_half_symbolic_forms():
    N = sp.Symbol("N", positive=True)
    assert sp.simplify(S_HALF_UNIFORM.expr - sp.sqrt(2 * sp.log(2) * N)) == 0
    s = sp.Symbol("s", positive=True)
    assert sp.simplify(SUPPORT_FROM_S_HALF.expr - s**2 / (2 * sp.log(2))) == 0
    # 1.18 sqrt(N) is the rounded constant
    assert math.sqrt(2 * math.log(2)) == pytest.approx(1.1774, abs=1e-4)
    # the s^2 form is exactly 1/2 at s_half
    s_half = S_HALF_UNIFORM.expr
    assert sp.simplify(1 - sp.exp(-s_half**2 / (2 * N))) == sp.Rational(1, 2)


@pytest.mark.parametrize("N", [2, 10, 64, 365, 1000, 10**6])
def test_support_from_s_half_inverts_the_exact_curve(N):
    s_star = s_half_uniform(N=N, exact=True)
    assert uniform_collision_probability(N=N, s=s_star) == pytest.approx(0.5, abs=1e-10)
    assert support_from_s_half(s_half=s_star) == pytest.approx(N, rel=1e-8)
    # the paper's s^2 rule overestimates every support (6% at N = 64, shrinking like 1/sqrt(N))
    paper = support_from_s_half(s_half=s_star, exact=False)
    assert paper > N


def test_paper_rule_bias_at_64():
    s_star = s_half_uniform(N=64, exact=True)
    assert support_from_s_half(s_half=s_star, exact=False) / 64 == pytest.approx(1.0602, abs=1e-4)


def test_beta_bound_is_the_inverted_no_collision_bound():
    for M, g in [(10, 0.5), (37, 0.49), (200, 0.1), (1000, 0.99)]:
        syms = {x.name: x for x in BETA_UPPER_DERIVED.free_symbols}
        a = float(BETA_UPPER_DERIVED.subs({syms["M"]: M, syms["gamma"]: g}).evalf())
        b = float(BETA_UPPER(M=M, gamma=g))
        assert a == pytest.approx(b, rel=1e-12)
        # plugging beta back gives exactly 1 - gamma
        assert float(NO_COLLISION_LOWER(beta=b, M=M)) == pytest.approx(1 - g, rel=1e-12)


@pytest.mark.parametrize("N", [1000, 5000, 10**5])
def test_beta_bound_holds_for_uniform_laws(N):
    # beta = N for the uniform law; at every M allowed by the hypotheses the bound must not fall below N
    for M in np.unique(np.geomspace(10, 2 * math.sqrt(N * math.log(N)), 25).astype(int)):
        assert beta_bound_hypotheses(beta=N, M=M)["all"]
        gamma = uniform_collision_probability(N=N, s=M)
        if gamma < 1 - 1e-12:
            assert beta_upper_bound(M=M, gamma=gamma) >= N * (1 - 1e-9)


def test_beta_bound_is_about_beta_not_support():
    # negative control: 10% mass on one point, the rest uniform on 10^4 points. The support is 10^4 + 1 but
    # beta = 1 / sum p^2 is ~ 99, and the observed collision rate yields a bound far below the support.
    p_heavy, n_rest = 0.1, 10**4
    beta = 1 / (p_heavy**2 + n_rest * ((1 - p_heavy) / n_rest) ** 2)
    assert beta == pytest.approx(99.2, abs=0.1)
    M = 30
    # collisions of the heavy point alone: a lower bound on the law's collision probability
    gamma = mass_set_collision_exact(N=1, rho=p_heavy, M=M)
    assert beta_upper_bound(M=M, gamma=gamma) < n_rest / 10


def _enumerated_mass_set(N: int, rho: Fraction, M: int) -> Fraction:
    """Exact collision probability of rho * Uniform(N points) + (1 - rho) * atomless, by enumeration of which
    draws land in S and where."""
    total = Fraction(0)
    for inside in itertools.product([False, True], repeat=M):
        K = sum(inside)
        w = rho**K * (1 - rho) ** (M - K)
        total += w * (_enumerated_collision(N, K) if K >= 2 else 0)
    return total


@pytest.mark.parametrize("N,rho,M", [(2, Fraction(1, 2), 3), (3, Fraction(1, 3), 4), (4, Fraction(9, 10), 4)])
def test_mass_set_exact_equals_enumeration(N, rho, M):
    truth = _enumerated_mass_set(N, rho, M)
    assert mass_set_collision_exact(N=N, rho=float(rho), M=M) == pytest.approx(float(truth), rel=1e-12)


def _simulate_mass_set(N: int, rho: float, M: int, n: int, seed: int) -> int:
    """Number of the n trials of M draws that collide: each draw is one of N points with probability rho,
    else a value no other draw can share."""
    rng = np.random.default_rng(seed)
    hits = 0
    for start in range(0, n, 20000):
        b = min(20000, n - start)
        v = rng.integers(0, N, size=(b, M))
        unique = -1 - np.arange(M)[None, :]
        v = np.where(rng.random((b, M)) < rho, v, unique)
        v.sort(axis=1)
        hits += int((v[:, 1:] == v[:, :-1]).any(axis=1).sum())
    return hits


def test_mass_set_rho_squared_holds_rho_fails_in_simulation():
    """docs/papers/az17.md, "Mass on a set": N = 1000, rho = 0.1, M = 200. Simulation: n = 20,000 trials, numpy
    seed 20170707; Clopper-Pearson at alpha = 1e-3 (two-sided). The exact value must lie inside; the rho^2
    statement must not be refuted; the misprinted rho statement must be refuted (it claims 0.863)."""
    from scipy import stats

    N, rho, M, n, seed, alpha = 1000, 0.1, 200, 20000, 20170707, 1e-3
    hits = _simulate_mass_set(N, rho, M, n, seed)
    lo = stats.beta.ppf(alpha / 2, hits, n - hits + 1)
    hi = stats.beta.ppf(1 - alpha / 2, hits + 1, n - hits)
    exact = mass_set_collision_exact(N=N, rho=rho, M=M)
    corrected = mass_set_collision_bound(N=N, rho=rho, M=M)
    misprint = mass_set_collision_bound(N=N, rho=rho, M=M, corrected=False)
    msg = f"seed {seed}: {hits}/{n} -> [{lo:.4f}, {hi:.4f}], exact {exact:.4f}"
    assert lo <= exact <= hi, msg
    assert corrected <= hi, msg  # rho^2: not refuted at this n
    assert misprint > hi, msg  # rho: refuted (0.863 against ~0.18)
    assert corrected == pytest.approx(0.1805, abs=1e-4) and misprint == pytest.approx(0.8633, abs=1e-4)


def test_rho_squared_is_an_approximation_not_a_strict_lower_bound():
    # Exact arithmetic: at N = 1000, rho = 0.1, M = 200 the corrected form overshoots the true probability by
    # 1% (Jensen: E[1 - exp(-K(K-1)/2N)] <= 1 - exp(-E[K(K-1)]/2N) for K ~ Bin(M, rho)). It is a close
    # approximation; the misprint is off by a factor 4.8.
    exact = mass_set_collision_exact(N=1000, rho=0.1, M=200)
    corrected = mass_set_collision_bound(N=1000, rho=0.1, M=200)
    assert exact == pytest.approx(0.17864, abs=1e-5)
    assert 0 < corrected - exact < 0.011 * exact
    assert mass_set_collision_bound(N=1000, rho=0.1, M=200, corrected=False) / exact > 4.5


@pytest.mark.slow
def test_rho_squared_overshoot_is_visible_in_a_large_simulation():
    """n = 10^6 trials (numpy seed 1706), Clopper-Pearson alpha = 1e-3: the simulated rate is consistent with
    the exact 0.17864 and its upper limit lies below the rho^2 value 0.18045 (so rho^2 is not a strict
    bound)."""
    from scipy import stats

    n, seed, alpha = 10**6, 1706, 1e-3
    hits = _simulate_mass_set(1000, 0.1, 200, n, seed)
    lo = stats.beta.ppf(alpha / 2, hits, n - hits + 1)
    hi = stats.beta.ppf(1 - alpha / 2, hits + 1, n - hits)
    assert lo <= mass_set_collision_exact(N=1000, rho=0.1, M=200) <= hi
    assert hi < mass_set_collision_bound(N=1000, rho=0.1, M=200)


def test_bounds_are_sympy_expressions_of_the_stated_symbols():
    assert {s.name for s in UNIFORM_COLLISION_LOWER.symbols} == {"N", "s"}
    assert {s.name for s in MASS_SET_COLLISION.symbols} == {"N", "rho", "M"}
    rho = sp.Symbol("rho", positive=True)
    assert sp.simplify(MASS_SET_COLLISION_MISPRINT.expr.subs(rho, rho**2) - MASS_SET_COLLISION.expr) == 0


@pytest.mark.parametrize(
    "call",
    [
        lambda: uniform_collision_probability(N=0, s=3),
        lambda: uniform_collision_probability(N=10, s=0.5),
        lambda: uniform_collision_probability(N=10, s=float("nan")),
        lambda: s_half_uniform(N=-1),
        lambda: support_from_s_half(s_half=1.0),
        lambda: mass_set_collision_bound(N=10, rho=1.5, M=3),
        lambda: mass_set_collision_exact(N=10, rho=0.0, M=3),
        lambda: beta_upper_bound(M=10, gamma=1.0),
        lambda: beta_upper_bound(M=1, gamma=0.5),
    ],
)
def test_bad_input_raises(call):
    with pytest.raises(ValueError):
        call()
