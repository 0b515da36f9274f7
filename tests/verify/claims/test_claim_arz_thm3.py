"""Claim arz-thm3: exact mismatch probability vs Monte Carlo vs the TV budget, weight counts, and the control."""

import pytest

from ganlimits.verify import RunConfig, run_claim


@pytest.fixture(scope="module")
def quick_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("arz-thm3")
    return run_claim("arz-thm3", RunConfig(quick=True, seed=0, out_dir=out, progress=False))


def test_quick_verdict_and_exact_identities(quick_result):
    r = quick_result
    m = r.measurements
    assert r.verdict == "consistent"
    assert m["encoder_inverts_generator"] and m["weight_count_equals_formula"] and m["max_weight_within_formula"]
    # Clopper-Pearson 95% interval of the Monte-Carlo frequency (n = params["n_mc"], seed 0) holds the exact value.
    assert m["mismatch_exact_in_mc_interval"]
    assert m["mismatch_exact"] <= r.params["delta"]
    assert r.measured.ci_high <= r.params["delta"]
    # On a ramp the network interpolates two different memory rows, so "differs" and "on a ramp" coincide.
    assert m["ramp_frequency"] == r.measured.estimate


def test_wide_ramp_control_is_caught(quick_result):
    r = quick_result
    assert r.control_caught is True
    assert r.control.ci_low > r.params["delta"]
    assert r.measurements["control_exact"] > r.params["delta"]


def test_tv_sweep_stays_under_its_budget_and_figure_exists(quick_result, tmp_path_factory):
    for row in quick_result.measurements["tv_sweep"]:
        assert row["exact"] <= row["delta"]
        assert row["mc"]["ci_low"] <= row["exact"] <= row["mc"]["ci_high"]  # 95% CP, n = 5000, seed 0
    assert quick_result.figures == ["arz-thm3_tv.png"]


def test_same_seed_gives_identical_numbers(quick_result, tmp_path):
    again = run_claim("arz-thm3", RunConfig(quick=True, seed=0, out_dir=tmp_path, progress=False, figures=False))
    assert again.measured == quick_result.measured and again.control == quick_result.control
    other = run_claim("arz-thm3", RunConfig(quick=True, seed=1, out_dir=tmp_path, progress=False, figures=False))
    assert other.measured != quick_result.measured  # the seed is really used
