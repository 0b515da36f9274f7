"""Claims agl17-thm31 and agl17-equilibrium: their controls, their measurement helpers, and (slow) full quick
runs through the registry."""

import math

import numpy as np
import pytest
import torch

from ganlimits.verify import Estimate, RunConfig, nearest_distance_bound, run_claim, verdict_upper, wasserstein1
from ganlimits.verify.claims._agl17 import make_target
from ganlimits.verify.claims.agl17_equilibrium import Settings as EqSettings
from ganlimits.verify.claims.agl17_equilibrium import payoff_trial
from ganlimits.verify.claims.agl17_equilibrium import verdict_trials as eq_verdict_trials
from ganlimits.verify.claims.agl17_thm31 import Settings, _slope, distance_trial, verdict_trials


# ---- the controls of the quick forms ----------------------------------------------------------------------
def test_thm31_quick_control_is_caught():
    # The m = 1 trial exactly as the quick run draws it (same config, same seed 0): the attacker's lower
    # confidence limit (Bonferroni-Hoeffding, 95%) must exceed eps, else the claim would have no power.
    s = Settings.quick()
    need, trials = verdict_trials(s, 0)
    control_config, control_seed = trials[1]
    assert control_config["m"] == 1
    row = distance_trial(control_config, control_seed)
    assert row["distance"]["ci_low"] > s.eps, row["distance"]
    # and the verdict trial sits at an m at least every form of the theorem's size
    assert trials[0][0]["m"] >= max(need["paper"], need["blog"], need["spec"])


def test_equilibrium_quick_control_is_caught():
    s = EqSettings.quick()
    need, trials = eq_verdict_trials(s, 0)
    control_config, control_seed = trials[1]
    assert control_config["T"] == 1
    row = payoff_trial(control_config, control_seed)
    assert row["gap"]["ci_low"] > s.eps, row["gap"]
    assert row["mismatch_probability"] == 0.0  # T = 1: no selector, the network is the Gaussian exactly
    assert trials[0][0]["T"] >= max(need["T_thm42_C1"], need["spec"])


def test_negative_control_a_powerless_attacker_misses_the_control_and_gives_no_verdict():
    # Weights of spectral norm 1e-3 make every member nearly constant: the m = 1 control is not caught, so a
    # small measured distance cannot be called consistent.
    s = Settings.quick()
    _, trials = verdict_trials(s, 0)
    weak = {**trials[1][0], "weight_norm": 1e-3, "steps": 20, "n": 2000}
    row = distance_trial(weak, trials[1][1])
    control = Estimate(**row["distance"])
    caught = control.ci_low > s.eps
    assert not caught
    measured = Estimate(0.0, -0.02, 0.02, 0.95, 1000)
    assert verdict_upper(measured, s.eps, control_caught=caught) == "inconclusive"


def test_trials_are_pure_functions_of_config_and_seed():
    s = Settings.quick()
    _, trials = verdict_trials(s, 3)
    small = {**trials[1][0], "m": 16, "n": 600, "steps": 5, "n_w1": 32, "w1_floor": True}
    assert distance_trial(small, 7) == distance_trial(small, 7)
    es = EqSettings.quick()
    _, etrials = eq_verdict_trials(es, 3)
    tiny = {**etrials[0][0], "T": 8, "n": 600, "steps": 5}
    assert payoff_trial(tiny, 7) == payoff_trial(tiny, 7)


# ---- measurement helpers -----------------------------------------------------------------------------------
def test_nearest_distance_bound_equals_brute_force_and_bounds_exact_w1():
    g = torch.Generator().manual_seed(0)
    for m in (1, 2, 4, 8, 16):
        points = torch.randn(m, 3, dtype=torch.float64, generator=g)
        fresh = torch.randn(64, 3, dtype=torch.float64, generator=g)
        est = nearest_distance_bound(points, fresh)
        brute = np.mean([min(float(torch.linalg.vector_norm(x - y)) for y in points) for x in fresh])
        assert est.estimate == pytest.approx(brute, rel=1e-12)
        # W1 between mu_hat_m (as 64/m copies of each point) and the fresh sample is an exact assignment;
        # every coupling moves each fresh point to some x_i, so the mean nearest distance is below it
        exact = wasserstein1(points.repeat_interleave(64 // m, dim=0), fresh, method="exact").estimate
        assert est.estimate <= exact + 1e-12
    # negative control: with the fresh points themselves as the m points the bound is 0, W1 is not forced up
    assert nearest_distance_bound(fresh, fresh).estimate == 0.0


def test_slope_fit_recovers_a_known_power_law_and_skips_insignificant_points():
    rows = [{"m": m, "distance": {"estimate": 2.0 / math.sqrt(m), "ci_low": 1.0 / math.sqrt(m)}}
            for m in (1, 4, 16, 64, 256)]
    slope, used = _slope(rows)
    assert slope == pytest.approx(-0.5, abs=1e-12) and used == 4  # m = 1 excluded (saturated)
    rows.append({"m": 1024, "distance": {"estimate": 0.5, "ci_low": -0.1}})  # not significant: ignored
    assert _slope(rows)[0] == pytest.approx(-0.5, abs=1e-12)


def test_unknown_target_is_refused():
    with pytest.raises(ValueError, match="target must be"):
        make_target("celeba")


# ---- full quick runs (the CLI path) -----------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("claim", ["agl17-thm31", "agl17-equilibrium"])
def test_quick_run_is_consistent_with_its_control_caught(claim, tmp_path):
    result = run_claim(claim, RunConfig(quick=True, seed=0, out_dir=tmp_path, progress=False))
    assert result.control_caught, result.control_summary
    assert result.verdict == "consistent", (result.summary, result.notes)
    assert (tmp_path / f"{claim}.json").exists()
    assert all((tmp_path / f).exists() for f in result.figures) and result.figures
