"""Claim li17-dynamics: its JSON carries what the issue asks, its planted-population power study has the size and
power it should, its settings refuse what cannot run, and the same seed gives the same tables."""

import dataclasses
import json

import numpy as np
import pytest

from ganlimits.verify import RunConfig, run_claim
from ganlimits.verify.claims.li17 import dynamics as claim_module

TINY = claim_module.Settings(n_runs=40, checkpoints=(200, 400), opt_checkpoints=(50, 100), k_values=(1, 3),
                             n_sweep=8, sweep_checkpoints=(100, 200), power_repeats=50, grid=0, fig2_steps=100)


def _tiny_run(tmp_path, seed=3, figures=False):
    return claim_module.run(RunConfig(quick=True, seed=seed, out_dir=tmp_path, progress=False, figures=figures),
                            TINY)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return _tiny_run(tmp_path_factory.mktemp("li17"), figures=True), tmp_path_factory


def test_json_carries_outcomes_at_the_horizon_the_table_vs_steps_and_the_k_sweep(tiny):
    result, _ = tiny
    doc = json.loads(json.dumps(result.to_dict()))
    fo = doc["measurements"]["first_order_dynamics"]
    for outcome in ("converged", "mode-collapse", "vanishing-gradient", "other"):
        assert {"estimate", "ci_low", "ci_high", "n"} <= set(fo["fractions"][outcome])
    assert sum(fo["counts"].values()) == TINY.n_runs and fo["horizon"] in TINY.checkpoints
    assert [row["steps"] for row in fo["vs_steps"]] == list(TINY.checkpoints[:len(fo["vs_steps"])])
    assert all(sum(v for k, v in row.items() if k != "steps") == TINY.n_runs for row in fo["vs_steps"])
    sweep = doc["measurements"]["k_sweep"]
    assert [row["k"] for row in sweep] == list(TINY.k_values)
    assert all(sum(row["counts"].values()) == TINY.n_sweep for row in sweep)
    assert doc["params"]["horizon_first_order"] == fo["horizon"]
    assert set(doc["measurements"]["parts"]) == {"a", "b", "c"}
    assert doc["measured"]["sides"] == 1 and result.figures


def test_known_outcome_runs_are_classified_as_known(tiny):
    result, _ = tiny
    for case in result.measurements["controls"]:
        assert case["got"] == [case["expected"]], case


def test_still_moving_runs_are_neither_converged_nor_failed(tiny):
    result, _ = tiny
    counts = result.measurements["first_order_dynamics"]["counts"]
    failed = result.measurements["one_sided"]["first_order_failed"]
    assert failed["estimate"] * TINY.n_runs == pytest.approx(counts["mode-collapse"] + counts["vanishing-gradient"])


def test_same_seed_same_tables(tmp_path, tiny):
    a, _ = tiny
    b = _tiny_run(tmp_path)
    assert json.dumps(a.measurements, sort_keys=True, default=str) == json.dumps(b.measurements, sort_keys=True,
                                                                                  default=str)


def test_planted_power_has_its_size_and_its_power():
    """Planted populations built from 300 all-converged runs: at the bound itself (ratio 1) the one-sided 95% limit
    may reject in at most 5% of repeats (seed 0, 400 repeats; binomial 99.9% quantile of Bin(400, 0.05) is 34); at
    three times the allowed non-converged share it must reject in >= 80%."""
    labels = np.array(["converged"] * 300)
    curve, control, info = claim_module._planted_power(
        labels, "converged", "merged", (1.0, 2.0, 3.0), 2.0, 0.95, np.random.default_rng(0), 400, "test")
    assert curve.strengths == pytest.approx((0.95, 0.90, 0.85))
    assert curve.detected[0] <= 34
    assert curve.detected[2] >= 320 and curve.detected[0] <= curve.detected[1] <= curve.detected[2]
    assert control.true_value == pytest.approx(0.90) and control.ratio == pytest.approx(2.0)
    assert control.truth_low == control.truth_high  # exact: a known mixture of a known population
    # a "lower" claim end to end: the violation is a share below the bound, caught by an upper limit below it
    assert curve.direction == control.direction == "lower" and curve.baseline == control.baseline == 1.0
    assert control.caught == (control.measured.ci_high < 0.95) and control.measured.sides == 1
    assert curve.n == control.measured.n == 300 and curve.confidence == control.measured.confidence
    assert info["mixing_probability"][0] == pytest.approx(0.05)
    none, _, why = claim_module._planted_power(np.array(["other"] * 50), "converged", "x", (1.5, 2.0, 3.0), 2.0,
                                               0.95, np.random.default_rng(0), 10, "none")
    assert none is None and "already below" in why["reason"]


def test_pvalue_is_that_of_the_null_the_verdict_rejects():
    """Exact binomial p-values: consistent rejects 'a share below its bound' (the larger of the two parts' p-values),
    refuted rejects 'both shares at least their bounds' (Bonferroni over the refuted parts), inconclusive none."""
    from scipy import stats

    parts = {"a": ("consistent", ""), "b": ("consistent", ""), "c": ("consistent", "")}
    p = claim_module._pvalue("consistent", parts, 598, 420, 600)
    assert p == pytest.approx(max(stats.binom.sf(597, 600, 0.95), stats.binom.sf(419, 600, 0.5)))
    refuted = {**parts, "c": ("refuted", "")}
    assert claim_module._pvalue("refuted", refuted, 598, 250, 600) == pytest.approx(2 * stats.binom.cdf(250, 600, 0.5))
    assert claim_module._pvalue("inconclusive", parts, 598, 420, 600) is None


def test_a_part_refuses_a_power_curve_of_the_other_direction():
    """The parts decide with direction 'lower': a curve built as an 'upper' one is an error, not a verdict."""
    labels = np.array(["converged"] * 300)
    curve, control, _ = claim_module._planted_power(
        labels, "converged", "merged", (1.5, 2.0, 3.0), 2.0, 0.95, np.random.default_rng(0), 20, "test")
    measured = claim_module.proportion_interval(299, 300, sides=1)
    assert claim_module._part(measured, 0.95, control, curve)[0] == "consistent"
    upper = dataclasses.replace(curve, direction="upper")
    with pytest.raises(ValueError, match="direction"):
        claim_module._part(measured, 0.95, control, upper)


@pytest.mark.parametrize(("field", "value", "match"), [
    ("checkpoints", (400, 200), "checkpoints"),
    ("k_values", (1, 1), "k_values"),
    ("n_runs", 10, "n_runs"),
    ("settled_share", 1.5, "settled_share"),
    ("opt_checkpoints", (5, 100), "opt_checkpoints"),
])
def test_settings_that_cannot_run_are_refused_naming_the_setting(field, value, match):
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(TINY, **{field: value})


def test_runner_is_registered():
    from ganlimits.verify import available_claims

    assert "li17-dynamics" in available_claims()
    with pytest.raises(KeyError):
        run_claim("li17-no-such-claim", RunConfig(progress=False))


@pytest.mark.slow
def test_full_run_catches_its_controls(tmp_path):
    """Full setting, seed 0: the near-boundary controls are caught and the resolution is within 3 x the bound."""
    result = run_claim("li17-dynamics", RunConfig(quick=False, seed=0, out_dir=tmp_path, progress=False))
    assert result.control_caught and result.resolution["resolution_factor"] <= 3
    assert result.measurements["control_optimal"]["caught"]
