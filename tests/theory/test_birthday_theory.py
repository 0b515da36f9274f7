"""The birthday-paradox formulas of docs/papers/az17.md: exact against enumeration, bounds against simulation,
the valid mass-on-a-set lower bound (sum over K ~ Bin(M, rho) and its closed form), and the rho^2 form kept only
as a labelled approximation."""

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
    beta_upper_bound,
    mass_set_collision_lower,
    s_half_uniform,
    support_from_s_half,
    uniform_collision_probability,
)
from ganlimits.theory._birthday import BETA_UPPER_DERIVED
from ganlimits.theory.az17 import (
    BETA_UPPER,
    MASS_SET_COLLISION_APPROX,
    MASS_SET_COLLISION_LOWER,
    MASS_SET_COLLISION_LOWER_CLOSED,
    MASS_SET_COLLISION_MISPRINT,
    NO_COLLISION_LOWER,
    S_HALF_UNIFORM,
    SUPPORT_FROM_S_HALF,
    UNIFORM_COLLISION_EXACT,
    UNIFORM_COLLISION_LOWER,
    beta_bound_hypotheses,
    mass_set_collision_approx,
    mass_set_collision_exact,
)


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
    corrected = mass_set_collision_approx(N=N, rho=rho, M=M)
    misprint = mass_set_collision_approx(N=N, rho=rho, M=M, misprint=True)
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
    corrected = mass_set_collision_approx(N=1000, rho=0.1, M=200)
    assert exact == pytest.approx(0.17864, abs=1e-5)
    assert 0 < corrected - exact < 0.011 * exact
    assert mass_set_collision_approx(N=1000, rho=0.1, M=200, misprint=True) / exact > 4.5


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
    assert hi < mass_set_collision_approx(N=1000, rho=0.1, M=200)


def test_bounds_are_sympy_expressions_of_the_stated_symbols():
    assert {s.name for s in UNIFORM_COLLISION_LOWER.symbols} == {"N", "s"}
    assert {s.name for s in MASS_SET_COLLISION_APPROX.symbols} == {"N", "rho", "M"}
    assert MASS_SET_COLLISION_LOWER.parameters == ("N", "rho", "M")
    assert MASS_SET_COLLISION_LOWER_CLOSED.parameters == ("N", "rho", "M", "k")
    rho = sp.Symbol("rho", positive=True)
    assert sp.simplify(MASS_SET_COLLISION_MISPRINT.expr.subs(rho, rho**2) - MASS_SET_COLLISION_APPROX.expr) == 0
    # the rho^2 form is labelled as what it is
    assert "APPROXIMATION, not a lower bound" in MASS_SET_COLLISION_APPROX.source


@pytest.mark.parametrize(
    "call",
    [
        lambda: uniform_collision_probability(N=0, s=3),
        lambda: uniform_collision_probability(N=10, s=0.5),
        lambda: uniform_collision_probability(N=10, s=float("nan")),
        lambda: s_half_uniform(N=-1),
        lambda: support_from_s_half(s_half=1.0),
        lambda: mass_set_collision_approx(N=10, rho=1.5, M=3),
        lambda: mass_set_collision_exact(N=10, rho=0.0, M=3),
        lambda: mass_set_collision_lower(N=10.5, rho=0.5, M=3),
        lambda: mass_set_collision_lower(N=10, rho=0.5, M=3, k=4),
        lambda: mass_set_collision_lower(N=10, rho=0.5, M=3, k=1),
        lambda: beta_upper_bound(M=10, gamma=1.0),
        lambda: beta_upper_bound(M=1, gamma=0.5),
    ],
)
def test_bad_input_raises(call):
    with pytest.raises(ValueError):
        call()


# ---- the valid mass-on-a-set lower bound --------------------------------------------------------------------


def _distinct_probability(p: np.ndarray, k: int) -> float:
    """Exact probability that k i.i.d. draws from the law p are all distinct: k! e_k(p) (elementary symmetric
    polynomial by the usual recursion)."""
    e = np.zeros(k + 1)
    e[0] = 1.0
    for q in p:
        e[1:] = e[1:] + q * e[:-1]
    return math.factorial(k) * e[k]


@given(weights=st.lists(st.floats(0.01, 1.0), min_size=2, max_size=8), k=st.integers(2, 8))
@example(weights=[1.0, 1.0, 1.0, 0.01], k=3)
def test_uniform_law_collides_least(weights, k):
    """The step behind the bound: among laws on N points, the uniform one has the smallest chance of a
    collision among k draws (Schur-concavity of e_k), exact arithmetic in float64."""
    p = np.array(weights) / sum(weights)
    N = len(p)
    uniform = uniform_collision_probability(N=N, s=k)
    assert 1 - _distinct_probability(p, k) >= uniform - 1e-12


@pytest.mark.parametrize("N,rho,M", [(2, Fraction(1, 2), 3), (3, Fraction(1, 3), 4), (4, Fraction(9, 10), 4)])
def test_lower_bound_sympy_expression_is_exact(N, rho, M):
    """The sympy sum, evaluated exactly, is the enumerated collision probability of rho Uniform(S) + atomless."""
    value = sp.nsimplify(sp.simplify(MASS_SET_COLLISION_LOWER.subs({"N": N, "rho": sp.Rational(rho.numerator,
                                                                                                  rho.denominator),
                                                                    "M": M}).doit()))
    truth = _enumerated_mass_set(N, rho, M)
    assert value == sp.Rational(truth.numerator, truth.denominator)


@given(N=st.integers(1, 5000), rho=st.floats(0.01, 0.99), M=st.integers(2, 300), frac=st.floats(0, 1))
@example(N=1000, rho=0.1, M=200, frac=0.1)
def test_closed_form_is_below_the_sum(N, rho, M, frac):
    k = 2 + round(frac * (M - 2))
    assert mass_set_collision_lower(N=N, rho=rho, M=M, k=k) <= mass_set_collision_lower(N=N, rho=rho, M=M) + 1e-12


def test_bound_numbers_of_the_example():
    """N = 1000, rho = 0.1, M = 200: the tight sum 0.1786; 1 - E exp(-K(K-1)/2N) (a weaker valid form) 0.1775;
    the best closed form 0.1014; the rho^2 approximation 0.1805 lies above the tight value."""
    from scipy import stats

    tight = mass_set_collision_lower(N=1000, rho=0.1, M=200)
    K = np.arange(201)
    weaker = 1 - float(np.sum(stats.binom.pmf(K, 200, 0.1) * np.exp(-K * (K - 1) / 2000)))
    best = mass_set_collision_lower(N=1000, rho=0.1, M=200, k="best")
    assert tight == pytest.approx(0.17864, abs=1e-5) and weaker == pytest.approx(0.1775, abs=1e-4)
    assert best == pytest.approx(0.10145, abs=1e-5)
    assert best <= weaker <= tight < mass_set_collision_approx(N=1000, rho=0.1, M=200)
    assert mass_set_collision_lower(N=1000, rho=1.0, M=200) == uniform_collision_probability(N=1000, s=200)


def _simulate_law(p: np.ndarray, M: int, n: int, seed: int) -> int:
    """Trials (of n) in which M draws collide; p lists the atoms' masses, the rest (1 - sum p) is atomless."""
    rng = np.random.default_rng(seed)
    cum = np.cumsum(p)
    hits = 0
    for start in range(0, n, 5000):
        b = min(5000, n - start)
        u = rng.random((b, M))
        v = np.searchsorted(cum, u, side="right")  # index len(p) = the atomless part
        v = np.where(v < len(p), v, -1 - np.arange(M)[None, :])  # atomless draws never repeat
        v.sort(axis=1)
        hits += int((v[:, 1:] == v[:, :-1]).any(axis=1).sum())
    return hits


@pytest.mark.parametrize(
    "name,law,N,rho,M",
    [
        # S = 200 points carrying 0.3 unevenly (Zipf weights), nothing else atomic
        ("zipf on S", 0.3 * (1 / np.arange(1, 201)) / np.sum(1 / np.arange(1, 201)), 200, 0.3, 40),
        # S = 500 points with mass 0.2 uniformly, plus 300 further atoms of mass 0.001 each
        ("uniform on S plus atoms", np.concatenate([np.full(500, 0.2 / 500), np.full(300, 0.001)]), 500, 0.2, 80),
        # S = 50 points of which one holds half of S's mass 0.4
        ("one heavy point in S", np.concatenate([[0.2], np.full(49, 0.2 / 49)]), 50, 0.4, 15),
        # the tight case: rho Uniform(S) and an atomless rest
        ("tight", np.full(1000, 0.1 / 1000), 1000, 0.1, 200),
    ],
)
def test_lower_bound_holds_in_simulation(name, law, N, rho, M):
    """Laws with P(S) >= rho on |S| = N: n = 20,000 trials each (numpy seed 1711), one-sided Clopper-Pearson at
    alpha = 1e-3: the simulated collision rate is not below the valid bound (sum form, hence the closed form);
    in the tight case the bound also lies inside the two-sided interval. Fixed seed: cannot flake."""
    from scipy import stats

    n, alpha = 20_000, 1e-3
    assert abs(law[:N].sum() - rho) < 1e-12
    hits = _simulate_law(law, M, n, 1711)
    upper = stats.beta.ppf(1 - alpha, hits + 1, n - hits)
    lower = stats.beta.ppf(alpha, hits, n - hits + 1)
    bound = mass_set_collision_lower(N=N, rho=rho, M=M)
    msg = f"{name}: {hits}/{n} collided, one-sided limits [{lower:.4f}, {upper:.4f}], bound {bound:.4f}"
    assert bound <= upper, msg
    assert mass_set_collision_lower(N=N, rho=rho, M=M, k="best") <= bound
    if name == "tight":
        assert lower <= bound <= upper, msg
    else:  # non-uniform on S or atoms elsewhere: strictly more collisions than the worst case
        assert lower > bound, msg


def test_rho_squared_form_is_not_a_bound_in_exact_arithmetic():
    """Negative control for the bound's direction: the rho^2 approximation exceeds the exact worst case at several
    settings (Jensen), so it could not be kept as a lower bound."""
    for N, rho, M in [(1000, 0.1, 200), (100, 0.3, 30), (10_000, 0.05, 1500)]:
        assert mass_set_collision_approx(N=N, rho=rho, M=M) > mass_set_collision_lower(N=N, rho=rho, M=M), (N, rho, M)
