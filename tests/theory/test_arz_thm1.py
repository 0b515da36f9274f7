"""Theorem 1's support sizes, Hoeffding (Corollary A.1) and McDiarmid (Lemma A.2) of Arora, Risteski & Zhang
2017: the sympy bounds against closed forms written out independently, on known values and symbolically."""

import math

import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st

from ganlimits.theory import arz_thm1_support
from ganlimits.theory.arz17 import (
    ARZ_THM1_SUPPORT_PAPER,
    ARZ_THM1_SUPPORT_SPEC,
    EPS_NET_LOG_SIZE,
    EPS_NET_UNION_SUPPORT,
    HOEFFDING_HALF_WIDTH,
    HOEFFDING_TAIL,
    MCDIARMID_TAIL,
    hoeffding_half_width,
    mcdiarmid_sum_c_squared,
)

Delta, m, t = sp.symbols("phi_range m t", positive=True)


def _paper(p, eps, L, Lphi, D):
    return p * D**2 * math.log(p * D * L * Lphi / eps) ** 2 / eps**2


def _spec(p, eps, L, Lphi, D, eta):
    return 16 * D**2 / eps**2 * (p * math.log(1 + 16 * L * Lphi / eps) + math.log(16 * D / (eta * eps)))


def test_support_known_values():
    # p = 10, eps = 0.1, L = L_phi = Delta = 1, eta = 0.1:
    # paper = 10 * log(100)^2 / 0.01 = 1000 log(100)^2; spec = 1600 (10 log 161 + log 1600).
    out = arz_thm1_support(p=10, eps=0.1, lipschitz=1, phi_range=1, lphi=1, eta=0.1)
    assert out["paper"] == pytest.approx(1000 * math.log(100) ** 2, rel=1e-12)
    assert out["spec"] == pytest.approx(1600 * (10 * math.log(161) + math.log(1600)), rel=1e-12)
    assert out["paper"] == pytest.approx(21207.5, rel=1e-5)
    assert out["spec"] == pytest.approx(93107, rel=1e-4)


@given(
    st.integers(1, 10**6), st.floats(1e-3, 0.5), st.floats(0.1, 100), st.floats(0.1, 100), st.floats(0.1, 10),
    st.floats(1e-6, 0.5),
)
def test_support_matches_closed_forms(p, eps, L, Lphi, D, eta):
    assume(eps < 2 * D and p * D * L * Lphi / eps > 1 + 1e-9)  # Theorem 1's domain (outside it: a usage error)
    out = arz_thm1_support(p=p, eps=eps, lipschitz=L, phi_range=D, lphi=Lphi, eta=eta)
    assert out["paper"] == pytest.approx(_paper(p, eps, L, Lphi, D), rel=1e-9)
    assert out["spec"] == pytest.approx(_spec(p, eps, L, Lphi, D, eta), rel=1e-9)


def test_support_negative_control():
    # Control: the comparison above has power: halving eps changes both sizes by more than the tolerance.
    a = arz_thm1_support(p=10, eps=0.1, lipschitz=1, phi_range=1, lphi=1)
    b = arz_thm1_support(p=10, eps=0.05, lipschitz=1, phi_range=1, lphi=1)
    assert b["paper"] > 4 * a["paper"] and b["spec"] > 4 * a["spec"]
    assert a["paper"] != pytest.approx(_paper(10, 0.05, 1, 1, 1), rel=1e-9)


def test_support_expressions_symbolic():
    p, eps, L, L_phi, eta = sp.symbols("p eps L L_phi eta", positive=True)
    assert sp.simplify(ARZ_THM1_SUPPORT_PAPER.expr - p * Delta**2 * sp.log(p * Delta * L * L_phi / eps) ** 2
                       / eps**2) == 0
    spec = 16 * Delta**2 / eps**2 * (p * sp.log(1 + 16 * L * L_phi / eps) + sp.log(16 * Delta / (eta * eps)))
    assert sp.simplify(ARZ_THM1_SUPPORT_SPEC.expr - spec) == 0


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(p=0, eps=0.1, lipschitz=1, phi_range=1, lphi=1), "p"),
        (dict(p=10, eps=-0.1, lipschitz=1, phi_range=1, lphi=1), "eps"),
        (dict(p=10, eps=0.1, lipschitz=0, phi_range=1, lphi=1), "lipschitz"),
        (dict(p=10, eps=0.1, lipschitz=1, phi_range=float("nan"), lphi=1), "phi_range"),
        (dict(p=10, eps=0.1, lipschitz=1, phi_range=1, lphi=float("inf")), "lphi"),
        (dict(p=10, eps=0.1, lipschitz=1, phi_range=1, lphi=1, eta=1.0), "eta"),
    ],
)
def test_support_rejects(kwargs, name):
    with pytest.raises(ValueError, match=name):
        arz_thm1_support(**kwargs)


# ---- McDiarmid (Lemma A.2) --------------------------------------------------------------------------------


def test_mcdiarmid_sum_c_squared_symbolic():
    # 2m arguments, c_i = 2 Delta / m each: sum c_i^2 = 2m * 4 Delta^2 / m^2 = 8 Delta^2 / m.
    assert sp.simplify(mcdiarmid_sum_c_squared() - 8 * Delta**2 / m) == 0
    assert sp.simplify(mcdiarmid_sum_c_squared() - 4 * Delta**2 / m) != 0  # negative control


def test_mcdiarmid_tail_closed_form():
    assert sp.simplify(MCDIARMID_TAIL.expr - 2 * sp.exp(-m * t**2 / (4 * Delta**2))) == 0
    assert MCDIARMID_TAIL(m=100, t=0.2, phi_range=1.0) == pytest.approx(2 * math.exp(-1.0), rel=1e-14)


@given(st.floats(1, 1e4), st.floats(1e-3, 1), st.floats(0.1, 10), st.floats(1e-6, 0.5))
def test_union_support_gives_failure_eta(p, eps, D, eta):
    # At m = EPS_NET_UNION_SUPPORT the union over exp(EPS_NET_LOG_SIZE) net points of the McDiarmid tail at
    # t = eps/2 is exactly eta.
    L = Lphi = 1.0
    size = float(EPS_NET_UNION_SUPPORT(p=p, eps=eps, L=L, L_phi=Lphi, phi_range=D, eta=eta))
    log_n = float(EPS_NET_LOG_SIZE(p=p, eps=eps, L=L, L_phi=Lphi))
    log_tail = math.log(2) - size * (eps / 2) ** 2 / (4 * D**2)
    assert log_n + log_tail == pytest.approx(math.log(eta), abs=1e-8 * max(1.0, abs(math.log(eta)) + log_n))


# ---- Hoeffding (Corollary A.1) ----------------------------------------------------------------------------


@given(st.integers(1, 10**7), st.floats(0.01, 100), st.floats(1e-9, 0.5))
def test_hoeffding_half_width_closed_form(n, D, alpha):
    hw = hoeffding_half_width(n=n, phi_range=D, alpha=alpha)
    assert hw == pytest.approx(D * math.sqrt(2 * math.log(2 / alpha) / n), rel=1e-12)
    # the tail at the half-width is alpha; at 0.9 of it, the tail exceeds alpha (negative control)
    assert float(HOEFFDING_TAIL(n=n, t=hw, phi_range=D)) == pytest.approx(alpha, rel=1e-9)
    assert float(HOEFFDING_TAIL(n=n, t=0.9 * hw, phi_range=D)) > alpha


def test_hoeffding_symbolic():
    n, alpha = sp.symbols("n alpha", positive=True)
    assert sp.simplify(HOEFFDING_TAIL.expr.subs(t, HOEFFDING_HALF_WIDTH.expr) - alpha) == 0


@pytest.mark.parametrize(
    "kwargs, name",
    [(dict(n=0, phi_range=1, alpha=0.05), "n"), (dict(n=10, phi_range=-1, alpha=0.05), "phi_range"),
     (dict(n=10, phi_range=1, alpha=1.0), "alpha")],
)
def test_hoeffding_rejects(kwargs, name):
    with pytest.raises(ValueError, match=name):
        hoeffding_half_width(**kwargs)
