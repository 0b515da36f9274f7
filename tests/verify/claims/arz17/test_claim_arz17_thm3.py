"""Claim arz-thm3: the exact mismatch probability by two routes (sympy statement, network behaviour), the weight
count and largest weight against formulas derived from the statement alone, perturbed networks that must fail, and
the run's records. Procedure, not outcome: no assertion on the verdict string."""

import dataclasses
import math

import pytest
import sympy as sp
import torch
from hypothesis import given
from hypothesis import strategies as st

from ganlimits.constructions import GaussianBlockPartition, MemorizingGenerator, NoiseModel
from ganlimits.theory.arz17 import (
    GENERATOR_MAX_WEIGHT,
    GENERATOR_MAX_WEIGHT_FOR_TV,
    GENERATOR_NUM_WEIGHTS,
    GENERATOR_NUM_WEIGHTS_FROM_STATEMENT,
    mismatch_probability,
    ramp_width_for_tv,
    weights_per_memory_entry_limit,
)
from ganlimits.verify import RunConfig, run_claim
from ganlimits.verify.claims.arz17.thm3 import Settings, behavioural_mismatch, generic_weight_stats


def _gen(k, code_dim, dim, delta, seed=0, width=None):
    p = GaussianBlockPartition(k=k, code_dim=code_dim)
    mem = torch.rand(p.m, dim, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) + 0.5
    return MemorizingGenerator(memory=mem, partition=p, noise=NoiseModel(dim=dim, code_dim=code_dim),
                               tv_budget=delta, width=width)


# ---- theory: the statement's formulas --------------------------------------------------------------------


def test_statement_count_equals_the_stage_table_and_is_o_of_m_d():
    assert sp.simplify(GENERATOR_NUM_WEIGHTS_FROM_STATEMENT.expr - GENERATOR_NUM_WEIGHTS.expr) == 0
    d = sp.Symbol("d", positive=True)
    assert sp.simplify(weights_per_memory_entry_limit() - (1 + 6 / d)) == 0


def test_largest_weight_in_terms_of_delta_is_the_largest_weight_at_the_chosen_width():
    for k, dc, delta in [(10, 2, 0.05), (32, 2, 0.02), (3, 4, 0.5), (2, 1, 0.9)]:
        w = ramp_width_for_tv(tv_budget=delta, k=k, code_dim=dc)
        a = float(GENERATOR_MAX_WEIGHT_FOR_TV(k=k, d_code=dc, tv_budget=delta, sigma=1.0))
        assert a == pytest.approx(float(GENERATOR_MAX_WEIGHT(k=k, d_code=dc, w=w)), rel=1e-12)


# ---- two routes to the mismatch probability ---------------------------------------------------------------


@given(k=st.integers(2, 6), code_dim=st.integers(1, 3), delta=st.floats(0.001, 0.9))
def test_behaviour_and_statement_agree_on_the_mismatch_probability(k, code_dim, delta):
    gen = _gen(k, code_dim, code_dim + 2, delta)
    beh = behavioural_mismatch(gen)
    exact = mismatch_probability(k=k, code_dim=code_dim, width=gen.width)
    assert beh["probability"] == pytest.approx(exact, rel=1e-9, abs=1e-15)
    if gen.width < float(gen.step_layer.thresholds[0]):  # the first ramp lies above 0: every slope is visible
        assert beh["max_slope"] == pytest.approx(1 / gen.width, rel=1e-6)


def test_overlapping_ramps_are_merged_as_the_statement_says():
    gen = _gen(6, 2, 5, 0.5, width=0.6)  # wider than the gaps between thresholds: ramps overlap and reach 0
    exact = mismatch_probability(k=6, code_dim=2, width=0.6)
    assert behavioural_mismatch(gen)["probability"] == pytest.approx(exact, rel=1e-9)


def test_a_perturbed_network_fails_the_checks():
    gen = _gen(5, 2, 6, 0.1)
    stats = generic_weight_stats(gen)
    assert stats["num_nonzero_weights"] == int(GENERATOR_NUM_WEIGHTS_FROM_STATEMENT(k=5, d_code=2, d=6, m=25))
    with torch.no_grad():
        gen.hat_layer.out_weight[0, 3] = 0.0  # one edge dropped
        gen.step_layer.scale_weight[1, 0] *= 2.0  # one ramp twice as steep
    bad = generic_weight_stats(gen)
    assert bad["num_nonzero_weights"] == stats["num_nonzero_weights"] - 1
    assert bad["max_abs_circuit_weight"] == pytest.approx(2 * stats["max_abs_circuit_weight"], rel=1e-12)
    exact = mismatch_probability(k=5, code_dim=2, width=gen.width)
    assert behavioural_mismatch(gen)["probability"] < exact * (1 - 1e-6)  # a narrower ramp is seen


# ---- the claim ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quick_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("arz-thm3")
    return run_claim("arz-thm3", RunConfig(quick=True, seed=0, out_dir=out, progress=False))


def test_the_run_records_both_routes_and_the_exact_control(quick_result):
    r, m, s = quick_result, quick_result.measurements, Settings.quick()
    assert r.measured.method == "exact" and r.measured.ci_low == r.measured.ci_high
    assert m["mismatch_behaviour"]["probability"] == pytest.approx(m["mismatch_exact"], rel=1e-9)
    assert m["num_nonzero_weights"] == m["num_nonzero_weights_statement"]
    assert math.isclose(m["max_abs_circuit_weight"], m["max_weight_statement"], rel_tol=1e-12)
    # The control's exact mismatch is control_factor x delta, and the exact check flags it.
    assert m["control_exact"] == pytest.approx(s.control_factor * s.tv_budget, rel=1e-9)
    assert r.control_caught is True and r.control_true_value == m["control_exact"]
    ctrl = m["near_boundary_control"]  # an exact truth: both certificates are the same computation
    assert ctrl["truth_low"] == ctrl["truth_high"] == m["control_exact"]
    assert ctrl["lower_certificate"] == ctrl["upper_certificate"] and ctrl["lower_certificate"].startswith("exact")
    # The Monte-Carlo consistency check (Clopper-Pearson 95%, n = 20000, seed 0) and the sweep (n = 5000 each).
    assert m["mismatch_exact_in_mc_interval"]
    for row in m["tv_sweep"]:
        assert row["exact"] <= row["delta"]
        assert row["mc"]["ci_low"] <= row["exact"] <= row["mc"]["ci_high"]
    assert r.figures == ["arz-thm3_tv.png"] and r.verdict_reason


def test_another_seed_draws_another_memory_but_the_same_exact_numbers(quick_result, tmp_path):
    other = run_claim("arz-thm3", RunConfig(quick=True, seed=1, out_dir=tmp_path, progress=False, figures=False))
    assert other.measurements["mismatch_exact"] == quick_result.measurements["mismatch_exact"]
    assert other.measurements["monte_carlo"] != quick_result.measurements["monte_carlo"]


@pytest.mark.parametrize("change,match", [({"control_factor": 1.2}, "control_factor"),
                                          ({"tv_budget": 0.4, "control_factor": 3.0}, "control_factor")])
def test_impossible_settings_fail_before_any_computation(change, match):
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(Settings.quick(), **change)
