"""Claim agl17-mixgan: the procedure, not the verdict — settings checked before any run, the planted pairs (mean
difference exact, spread matched to the measured one, counted exactly by the metric), the control through the
claim's own pipeline (exact truth, caught exactly when its lower limit clears 0), the paired test's size and power at
the full setting's number of seeds, the comparison rule on constructed cases (nothing decided out of regime, a
control of another n refused), and a tiny run that is deterministic, records the regime block with its planted gate
controls and writes its table and figures."""

import dataclasses
import json
import math

import numpy as np
import pytest

from ganlimits.verify import Estimate, RunConfig, clopper_pearson
from ganlimits.verify.claims._common import NearBoundaryControl, PowerCurve, streams_for
from ganlimits.verify.claims._paired import CONTROL_STRENGTH, PAIRED_TEST, PairedComparison
from ganlimits.verify.claims.agl17 import mixgan as am
from ganlimits.verify.claims.agl17._mixgan_paired import planted_counts, planted_spread, power_trial

TINY = am.Settings(seeds=2, steps_2d=20, steps_1200d=3, eval_every=10, power_repeats=2, gap_steps=5, n_eval=200,
                   gap_n_train=64, gap_n_fresh=200, width=16, batch_size=32, ks=(1, 2), settle_window=1,
                   regime_repeats=1)


@pytest.mark.parametrize(
    ("changes", "name"),
    [({"ks": (2, 5)}, "ks"), ({"ks": (1,)}, "ks"), ({"ks": (1, 5, 5)}, "ks"), ({"ks": (1, 0)}, "ks"),
     ({"targets": ("moons",)}, "targets"), ({"targets": ("grid", "grid")}, "targets"), ({"seeds": 1}, "seeds"),
     ({"steps_2d": 0}, "steps_2d"), ({"entropy_weight": -0.1}, "entropy_weight"), ({"arms": ("big",)}, "arms"),
     ({"arms": ("equal",)}, "verdict_arm"), ({"baseline_hq": 1.5}, "baseline_hq"), ({"gap_n_fresh": 1}, "gap_n_fresh"),
     ({"n_eval": 50}, "n_eval"), ({"lr_schedule": "linear"}, "lr_schedule"), ({"beta1": 1.0}, "beta1")],
)
def test_bad_settings_name_the_field(changes, name):
    with pytest.raises(ValueError, match=name):
        dataclasses.replace(am.Settings.quick(), **changes)


def test_quick_and_full_state_their_arms_and_afford_a_resolution_only_in_full():
    q, f = am.Settings.quick(), am.Settings.full()
    assert f.ks == (1, 5) and f.arms == ("paper", "equal") and f.verdict_arm == "paper"
    assert f.power_repeats >= 14 > q.power_repeats and f.seeds >= 5
    assert f.lr_schedule == q.lr_schedule == "constant" and f.steps_for("grid") == f.steps_2d


def _base(target, m, p, seeds):
    return {"target": target, "constants": am.Settings.full().constants(), "m": m, "p": p, "seeds": seeds,
            "n_eval": 2500, "confidence": 0.95, "test": PAIRED_TEST}


def test_planted_pairs_have_the_planted_mean_and_the_measured_spread():
    """200,000 planted seeds (rng 0) for a measured variance 1.3 on the grid: the mean difference's 99.9% normal
    interval contains delta = 1.5 exactly, and the sample variance is within 2% of the family's stated variance
    2 m p (1 - p) + frac(delta)(1 - frac(delta)), which is at least the measured 1.3; the arms stay in [1, 25]."""
    m, p, capped = planted_spread(1.3, 5, 25)
    assert not capped and 2 * m * p * (1 - p) == pytest.approx(1.3, rel=1e-12)
    base, better = planted_counts(1.5, m, p, 200_000, np.random.default_rng(0))
    d = better - base
    half = 3.29 * d.std() / math.sqrt(d.size)
    assert abs(d.mean() - 1.5) < half
    assert d.var() == pytest.approx(1.3 + 0.25, rel=0.02)
    assert base.min() >= 1 and better.max() <= 25
    assert planted_spread(400.0, 5, 25)[2]  # more spread than 25 modes can hold: capped, reported


def test_control_goes_through_the_metric_is_exact_and_is_judged_by_its_lower_limit():
    """The claim's control at the full setting's seeds with its own control seed (master seed 0), for a small and a
    large measured spread: the metric counts the planted modes exactly, the truth is exactly 1.5 modes (2.5 times the
    bound's distance from the baseline -1), and ``caught`` is exactly "lower limit > 0"; the small spread is caught."""
    streams, n = streams_for(RunConfig(seed=0)), am.Settings.full().seeds
    outcomes = []
    for var in (0.2, 4.0):
        m, p, _ = planted_spread(var, n, 25)
        control, trial = am.near_control(_base("grid", m, p, n), streams.seed("control", "paper", "grid"))
        assert trial["metric_matches_planted"] and control.truth_low == control.truth_high == CONTROL_STRENGTH
        assert control.ratio_interval == (2.5, 2.5) and control.measured.n == n
        assert control.caught == (control.measured.ci_low > 0)
        outcomes.append(control.caught)
    assert outcomes[0]


@pytest.mark.slow
def test_paired_test_size_and_power_at_the_full_number_of_seeds():
    """Planted pairs on the grid at the paired test's floor spread (variance 1/5), 5 seeds, seeds 1000 + r: with no
    improvement the one-sided 95% test detects in a share whose 99% Clopper-Pearson lower limit is <= 0.05 (300
    pairs); a 1.5-mode improvement (the control) is detected in a share whose 95% lower limit is >= 0.8 (150 pairs)."""
    n = am.Settings.full().seeds
    m, p, _ = planted_spread(0.0, n, 25)
    null = sum(power_trial(_base("grid", m, p, n) | {"delta": 0.0}, 1000 + r)["detected"] for r in range(300))
    assert clopper_pearson(null, 300, confidence=0.99).ci_low <= 0.05
    hits = sum(power_trial(_base("grid", m, p, n) | {"delta": 1.5}, 1000 + r)["detected"] for r in range(150))
    assert clopper_pearson(hits, 150, confidence=0.95).ci_low >= 0.8, hits


def _control(caught, n=5):
    low = 0.4 if caught else -0.3
    return NearBoundaryControl.exact("c", 1.5, truth="exact", measured=Estimate(1.5, low, math.inf, 0.95, n, sides=1),
                                     bound=0.0, baseline=-1.0)


def _curve(detected, repeats=14, n=5):
    return PowerCurve(strengths=(1.0, 1.5, 2.0, 3.0), detected=detected, repeats=repeats, n=n, bound=0.0,
                      baseline=-1.0)


def test_the_comparison_rule_on_constructed_cases():
    more = PairedComparison.from_diffs("grid", "k=1", [2, 3, 1, 2, 3], confidence=0.95, family=1)
    fewer = PairedComparison.from_diffs("grid", "k=1", [-2, -3, -1, -2, -3], confidence=0.95, family=1)
    ties = PairedComparison.from_diffs("grid", "k=1", [0, 1, -1, 0, 0], confidence=0.95, family=1)
    good, open_ = _curve((5, 14, 14, 14)), (True, "every run in regime")
    rule = am.decide_comparison
    assert rule(more, gate=open_, control=_control(True), curve=good, capped=False)[0] == "consistent"
    assert rule(fewer, gate=open_, control=_control(True), curve=good, capped=False)[0] == "refuted"
    assert rule(fewer, gate=open_, control=_control(False), curve=good, capped=False)[0] == "refuted"
    assert rule(ties, gate=open_, control=_control(True), curve=good, capped=False)[0] == "inconclusive"
    # nothing is decided out of regime, not even a clear shortfall
    verdict, reason = rule(fewer, gate=(False, "gan does not reach the published regime"), control=_control(True),
                           curve=good, capped=False)
    assert verdict == "inconclusive" and "published regime" in reason
    verdict, reason = rule(more, gate=open_, control=_control(False), curve=good, capped=False)
    assert verdict == "inconclusive" and "control" in reason
    verdict, reason = rule(more, gate=open_, control=_control(True), curve=_curve((0, 2, 5, 14)), capped=False)
    assert verdict == "inconclusive" and "resolution" in reason  # 80% power only at 3 modes: coarser than 2
    verdict, reason = rule(more, gate=open_, control=_control(True), curve=_curve((5, 6, 6, 6), repeats=6),
                           capped=False)
    assert verdict == "inconclusive" and "no resolution" in reason  # 6 of 6: lower limit 0.61 < 0.8
    assert rule(more, gate=open_, control=_control(True), curve=good, capped=True)[0] == "inconclusive"
    with pytest.raises(ValueError, match="n"):  # a control planted at another number of seeds
        rule(more, gate=open_, control=_control(True, n=8), curve=good, capped=False)


def test_the_arm_verdict_gives_a_pvalue_only_when_it_rejects_a_null():
    more = PairedComparison.from_diffs("grid", "k=1", [2, 3, 1, 2, 3], confidence=0.95, family=1)
    fewer = PairedComparison.from_diffs("grid", "k=1", [-2, -3, -1, -2, -3], confidence=0.95, family=1)
    v, _, p = am.decide_arm({"grid": ("consistent", "ok")}, {"grid": more}, 5, "paper")
    assert v == "consistent" and 0 < p < 0.05
    v, _, p = am.decide_arm({"grid": ("refuted", "fewer")}, {"grid": fewer}, 5, "paper")
    assert v == "refuted" and 0 < p < 0.05
    v, _, p = am.decide_arm({"grid": ("inconclusive", "not decided")}, {"grid": more}, 5, "paper")
    assert v == "inconclusive" and p is None


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    out = []
    for name in ("a", "b"):
        path = tmp_path_factory.mktemp(f"mixgan-{name}")
        cfg = RunConfig(quick=True, seed=4, out_dir=path, progress=False, figures=name == "a")
        out.append((path, am.run(cfg, TINY)))
    return out


def test_tiny_run_is_deterministic_and_records_the_regime(tiny_runs):
    (path, a), (_, b) = tiny_runs
    ca, cb = (json.loads(json.dumps(r.measurements["comparisons"])) for r in (a, b))
    assert ca == cb and a.measurements["gaps"] == b.measurements["gaps"]
    reg = a.measurements["regime"]["grid"]
    assert reg["target_scores_every_component"] and reg["target_modes"] == [25]
    assert set(reg["runs"]) == {"k=1", "k=2 paper", "k=2 equal"} and len(reg["runs"]["k=1"]) == TINY.seeds
    assert all("in_regime" in r and "reason" in r for runs in reg["runs"].values() for r in runs)
    assert set(reg["gate_controls"]) >= {"sharp", "diffuse", "out-of-box"}
    # 20 steps cannot reach the regime: the comparisons are not decided and the verdict carries no p-value
    assert not reg["comparisons"]["paper"]["decided"] and a.verdict_pvalue is None
    assert all(d["verdict"] == "inconclusive" for d in a.measurements["decisions"].values())
    table = (path / "agl17-mixgan-table.md").read_text()
    assert "| k=1 |" in table and "| k=2 paper |" in table and "| k=2 equal |" in table
    assert "target's own draws" in table and "uniform over the box" in table
    assert {"agl17-mixgan-modes-vs-k.png", "agl17-mixgan-power-paper-grid.png"} <= set(a.figures)
    budget = a.params["budget"]["grid"]
    assert budget["k=2 equal"]["width"] < budget["k=2 paper"]["width"] == budget["k=1"]["width"] == TINY.width
