"""The sympy side of lecture 9: the optimal discriminator and the two-Gaussian model's closed forms."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from ganlimits.theory import derive_optimal_discriminator, li17_loss_expr
from ganlimits.theory.li17 import (
    LECTURE_JS_INTEGRAND,
    LECTURE_LOSS_AT_OPTIMUM,
    LECTURE_OPTIMAL_D,
    LI17_SYMBOLS,
    li17_gradient_exprs,
    li17_numeric,
)

mu_1, mu_2, ms_1, ms_2, l_1, r_1, l_2, r_2 = LI17_SYMBOLS
P_D, P_S = LECTURE_OPTIMAL_D.symbols


def test_derivation_holds_exactly():
    d = derive_optimal_discriminator()
    assert d.critical_points == (P_D / (P_D + P_S),)
    assert sp.simplify(d.second_derivative_at_optimum + (P_D + P_S) ** 3 / (P_D * P_S)) == 0
    assert d.concave is True
    assert d.identity_residual == 0
    assert d.holds


def test_wrong_candidates_are_caught():
    """Negative controls: a wrong optimum is not a critical point, and 2 JS without -log 4 leaves a residual."""
    d = derive_optimal_discriminator()
    V = sp.Symbol("V", positive=True)
    first = sp.diff(d.objective, V)
    assert sp.simplify(first.subs(V, P_D / (P_D + 2 * P_S))) != 0
    wrong = sp.simplify(sp.expand_log(d.value_at_optimum - 2 * LECTURE_JS_INTEGRAND.expr, force=True))
    assert wrong != 0
    assert sp.simplify(wrong + (P_D + P_S) * sp.log(2)) == 0  # exactly the missing -log 4 density


def test_bounds_evaluate_exactly():
    assert LECTURE_OPTIMAL_D(P_D=1.0, P_S=3.0) == 0.25
    v = LECTURE_LOSS_AT_OPTIMUM(P_D=1.0, P_S=1.0)
    assert v == pytest.approx(-2 * math.log(2), abs=1e-15)  # equal densities: -log 4 per unit of P_D
    assert LECTURE_JS_INTEGRAND(P_D=2.0, P_S=2.0) == pytest.approx(0.0, abs=1e-15)


@given(
    pd=st.floats(1e-3, 10.0),
    ps=st.floats(1e-3, 10.0),
    v=st.floats(1e-4, 1 - 1e-4),
)
def test_pointwise_maximum_bounds_every_discriminator(pd, ps, v):
    """Domain: densities in [1e-3, 10], V in [1e-4, 1 - 1e-4]; the bound's numeric form comes from sympy."""
    objective = pd * math.log(v) + ps * math.log(1 - v)
    assert objective <= LECTURE_LOSS_AT_OPTIMUM(P_D=pd, P_S=ps) + 1e-12 * (pd + ps)


def _phi(x):
    return sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi)


def test_sympy_gradients_match_the_stated_formulas():
    """docs/papers/li17.md: dL/dmu_i = 1/2 sum_j [phi(r_j - mu_i) - phi(l_j - mu_i)], dL/dr_j = p*(r_j) - p_mu(r_j),
    dL/dl_j = -(p*(l_j) - p_mu(l_j)) - compared with sympy's own derivative of L, exactly."""
    g = li17_gradient_exprs()

    def p(x, a, b):
        return (_phi(x - a) + _phi(x - b)) / 2

    stated = {
        "mu_1": (_phi(r_1 - mu_1) - _phi(l_1 - mu_1) + _phi(r_2 - mu_1) - _phi(l_2 - mu_1)) / 2,
        "mu_2": (_phi(r_1 - mu_2) - _phi(l_1 - mu_2) + _phi(r_2 - mu_2) - _phi(l_2 - mu_2)) / 2,
        "r_1": p(r_1, ms_1, ms_2) - p(r_1, mu_1, mu_2),
        "r_2": p(r_2, ms_1, ms_2) - p(r_2, mu_1, mu_2),
        "l_1": -(p(l_1, ms_1, ms_2) - p(l_1, mu_1, mu_2)),
        "l_2": -(p(l_2, ms_1, ms_2) - p(l_2, mu_1, mu_2)),
    }
    for name, expr in stated.items():
        assert sp.simplify(g[name] - expr) == 0, name
    # negative control: the generator gradient with the opposite sign is not the derivative
    assert sp.simplify(g["mu_1"] + stated["mu_1"]) != 0


def test_numeric_forms_agree_with_the_expression():
    f = li17_numeric()
    point = (0.1, 0.7, -0.5, 0.5, -1.3, -0.2, 0.4, 2.2)
    exact = li17_loss_expr().subs(dict(zip(LI17_SYMBOLS, point, strict=True))).evalf(30)
    assert f["L"](*point) == pytest.approx(float(exact), abs=1e-14)
    # with no discriminator (empty intervals) L = 1: the model term cancels exactly
    assert f["L"](0.3, 0.9, -0.5, 0.5, 0.0, 0.0, 1.0, 1.0) == pytest.approx(1.0, abs=1e-15)
    assert np.isfinite(f["mu_1"](*point))
