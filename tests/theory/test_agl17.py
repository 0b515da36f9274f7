"""Theorem 3.1, Theorem 4.2/4.3 and Lemma 3 of Arora, Ge, Liang, Ma & Zhang 2017 as sympy bounds."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from ganlimits.theory import agl17_mixture_size, agl17_thm31_samples, equilibrium_value
from ganlimits.theory.agl17 import (
    AGL17_EQUILIBRIUM_VALUE,
    AGL17_SELECTOR_WIDTH,
    AGL17_THM31_SAMPLES,
    AGL17_THM31_SAMPLES_SPEC,
    AGL17_THM42_MIXTURE_SIZE,
    SELECTOR_RAMP_BOUND,
    agl17_selector_width,
    implied_constant,
    normal_quantile_thresholds,
    selector_ramp_bound,
    selector_ramp_mass,
)
from ganlimits.theory.arz17 import EPS_NET_LOG_SIZE, HOEFFDING_TAIL


def test_paper_form_is_the_restated_expression():
    p, eps, L, L_phi, Delta, C = sp.symbols("p eps L L_phi phi_range C", positive=True)
    restated = C * p * Delta**2 * sp.log(L * L_phi * p / eps) / eps**2
    assert sp.simplify(AGL17_THM31_SAMPLES.expr - restated) == 0
    assert AGL17_THM31_SAMPLES.parameters == ("C", "L", "L_phi", "eps", "p", "phi_range")


def test_numbers_come_from_the_bounds_and_match_a_hand_evaluation():
    # p = 65 (a 2-16-1 MLP), eps = 0.1, L = 3, L_phi = 1, Delta = 1/2, C = 1: 65/4 log(1950) / 0.01
    sizes = agl17_thm31_samples(p=65, eps=0.1, lipschitz=3.0, phi_range=0.5, lphi=1.0)
    assert sizes["paper"] == pytest.approx(65 * 0.25 * math.log(3 * 65 / 0.1) / 0.01, rel=1e-12)
    # spec: 8 Delta^2/eps^2 [p log(1 + 8 sqrt(p) L L_phi / eps) + log 2 + p]  (eta = exp(-p))
    spec = 8 * 0.25 / 0.01 * (65 * math.log(1 + 8 * math.sqrt(65) * 3 / 0.1) + math.log(2) + 65)
    assert sizes["spec"] == pytest.approx(spec, rel=1e-12)
    assert sizes["blog"] == pytest.approx(65 * math.log(65) / 0.01, rel=1e-12)


def test_spec_size_makes_the_union_bound_small_enough():
    # At m = spec size, (net size) x (Hoeffding tail at t = eps/2, range 2 Delta) equals eta exactly.
    p_, eps_, L_, Lphi_, D_, eta_ = 20.0, 0.2, 2.0, 1.0, 0.5, 1e-3
    m = agl17_thm31_samples(p=p_, eps=eps_, lipschitz=L_, phi_range=D_, lphi=Lphi_, eta=eta_)["spec"]
    log_net = float(EPS_NET_LOG_SIZE(p=p_, eps=eps_, L=L_, L_phi=Lphi_))  # arz's net of the sqrt(p) ball
    tail = float(HOEFFDING_TAIL(n=m, t=eps_ / 2, phi_range=D_))
    assert math.exp(log_net) * tail == pytest.approx(eta_, rel=1e-9)


def test_spec_evaluates_for_large_p_where_exp_minus_p_underflows():
    sizes = agl17_thm31_samples(p=5000, eps=0.1, lipschitz=3.0, phi_range=0.5, lphi=1.0)
    assert math.isfinite(sizes["spec"]) and sizes["spec"] > sizes["paper"] > 0


def test_implied_constant_is_spec_over_paper_and_in_a_sane_range():
    c = implied_constant(p=65, eps=0.1, lipschitz=3.0, phi_range=0.5, lphi=1.0)
    sizes = agl17_thm31_samples(p=65, eps=0.1, lipschitz=3.0, phi_range=0.5, lphi=1.0, C=c)
    assert sizes["paper"] == pytest.approx(sizes["spec"], rel=1e-12)
    assert 2 < c < 20


@given(p=st.integers(2, 10_000), eps=st.floats(0.01, 0.5), lip=st.floats(1.0, 100.0))
def test_sizes_grow_with_capacity_and_shrink_with_eps(p, eps, lip):
    a = agl17_thm31_samples(p=p, eps=eps, lipschitz=lip, phi_range=0.5, lphi=1.0)
    b = agl17_thm31_samples(p=p + 1, eps=eps, lipschitz=lip, phi_range=0.5, lphi=1.0)
    c = agl17_thm31_samples(p=p, eps=eps / 2, lipschitz=lip, phi_range=0.5, lphi=1.0)
    for key in ("spec", "blog"):
        assert b[key] > a[key] and c[key] > a[key]


def test_mixture_size_is_thm31_with_the_extra_lipschitz_factor():
    T = agl17_mixture_size(p=65, eps=0.1, lipschitz=3.0, generator_lipschitz=1.0, phi_range=0.5, lphi=1.0)
    m = agl17_thm31_samples(p=65, eps=0.1, lipschitz=3.0, phi_range=0.5, lphi=1.0)["paper"]
    assert T == pytest.approx(m, rel=1e-12)  # L' = 1 leaves the log unchanged
    T2 = agl17_mixture_size(p=65, eps=0.1, lipschitz=3.0, generator_lipschitz=math.e, phi_range=0.5, lphi=1.0)
    assert T2 - T == pytest.approx(65 * 0.25 / 0.01, rel=1e-12)  # log(e) = 1 more
    assert "L_G" in AGL17_THM42_MIXTURE_SIZE.parameters


def test_selector_width_and_ramp_bound():
    assert agl17_selector_width(tv_budget=0.5, T=10) == pytest.approx(5e-4, rel=1e-15)
    assert str(AGL17_SELECTOR_WIDTH.expr) == "tv_budget/(100*T)"
    assert selector_ramp_bound(q=9, w=0.01) == pytest.approx(0.09 / math.sqrt(2 * math.pi), rel=1e-14)
    assert selector_ramp_bound(q=0, w=0.01) == 0.0
    assert SELECTOR_RAMP_BOUND.parameters == ("q", "w")


@pytest.mark.parametrize("T", [1, 2, 3, 7, 100])
def test_quantile_thresholds_split_the_normal_into_equal_masses(T):
    tau = normal_quantile_thresholds(T=T)
    assert tau.shape == (T - 1,) and tau.dtype == np.float64
    edges = np.concatenate([[-np.inf], tau, [np.inf]])
    masses = np.diff(stats.norm.cdf(edges))
    np.testing.assert_allclose(masses, 1.0 / T, rtol=0, atol=1e-15)  # ndtri/ndtr round trip, float64


@pytest.mark.parametrize("T", [2, 5, 50, 1000])
def test_ramp_mass_is_below_lemma3_bound_and_close_to_it_for_narrow_ramps(T):
    tau = normal_quantile_thresholds(T=T)
    w = agl17_selector_width(tv_budget=0.1, T=T)
    exact = selector_ramp_mass(thresholds=tau, width=w)
    bound = selector_ramp_bound(q=T - 1, w=w)
    assert exact <= bound
    # narrow ramps: mass = w sum phi(tau_i) (1 + O(w^2)); a Riemann-sum oracle
    oracle = w * stats.norm.pdf(tau).sum()
    assert exact == pytest.approx(oracle, rel=1e-6)


def test_ramp_mass_negative_control_overlapping_ramps_are_refused():
    with pytest.raises(ValueError, match="width"):
        selector_ramp_mass(thresholds=[0.0, 0.1], width=0.2)


def test_ramp_mass_keeps_tail_accuracy():
    # a ramp at tau = 8: Phi(8.005) - Phi(7.995) is ~1e-17, lost to cancellation in a naive difference
    exact = selector_ramp_mass(thresholds=[8.0], width=0.01)
    assert exact == pytest.approx(stats.norm.sf(7.995) - stats.norm.sf(8.005), rel=1e-10)
    assert exact > 0


def test_equilibrium_values():
    assert equilibrium_value("identity") == 1.0
    assert equilibrium_value("log") == pytest.approx(-2 * math.log(2), rel=1e-15)
    assert AGL17_EQUILIBRIUM_VALUE["log"].parameters == ()


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: agl17_thm31_samples(p=0, eps=0.1, lipschitz=1, phi_range=0.5, lphi=1), "p must"),
        (lambda: agl17_thm31_samples(p=10, eps=-1, lipschitz=1, phi_range=0.5, lphi=1), "eps must"),
        (lambda: agl17_thm31_samples(p=10, eps=0.1, lipschitz=1, phi_range=0.5, lphi=1, eta=1.5), "eta must"),
        (lambda: agl17_selector_width(tv_budget=0.1, T=0), "T must"),
        (lambda: agl17_selector_width(tv_budget=0.1, T=2.5), "T must"),
        (lambda: normal_quantile_thresholds(T=0), "T must"),
        (lambda: selector_ramp_bound(q=-1, w=0.1), "q must"),
        (lambda: selector_ramp_mass(thresholds=[0.0, np.nan], width=0.1), "finite"),
        (lambda: equilibrium_value("tanh"), "phi must"),
    ],
)
def test_bad_input_names_the_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_spec_bound_is_one_definition():
    # the numeric value is the lambdified sympy expression, not a second formula
    vals = dict(p=65.0, eps=0.1, L=3.0, L_phi=1.0, phi_range=0.5, log_inv_eta=65.0, R=math.sqrt(65.0))
    expr = AGL17_THM31_SAMPLES_SPEC.subs(vals)
    assert float(expr) == pytest.approx(float(AGL17_THM31_SAMPLES_SPEC(**vals)), rel=1e-12)


def test_spec_uses_the_class_radius_when_given():
    base = agl17_thm31_samples(p=65, eps=0.1, lipschitz=3.0, phi_range=0.5, lphi=1.0)
    same = agl17_thm31_samples(p=65, eps=0.1, lipschitz=3.0, phi_range=0.5, lphi=1.0, radius=math.sqrt(65))
    wider = agl17_thm31_samples(p=65, eps=0.1, lipschitz=3.0, phi_range=0.5, lphi=1.0, radius=100.0)
    assert same["spec"] == base["spec"] and wider["spec"] > base["spec"]
    assert wider["paper"] == base["paper"]  # the paper's form has no radius
