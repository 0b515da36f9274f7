"""Claim veegan-benchmark: the procedure, not the verdict — interval coverage, the planted pairs (exact counts,
exact mean difference, size and power of the paired test), the adapted verdict rule on constructed cases (decided only
in regime), the regime block of the result, settings checked before any run, determinism, resume and worker
processes."""

import json
import math

import numpy as np
import pytest

from ganlimits.verify import RunConfig, clopper_pearson
from ganlimits.verify.claims import _paired as paired
from ganlimits.verify.claims._common import NearBoundaryControl, PowerCurve, check_decision_inputs
from ganlimits.verify.claims.veegan import benchmark as vb
from ganlimits.verify.lab import lab_target, mode_metrics

TINY = vb.Settings(seeds=2, steps_2d=8, steps_1200d=4, power_repeats=2, eval_every=2, window=1, n_eval=200,
                   width=16, regime_repeats=2, models=("gan", "ali", "veegan"), targets=("ring",))


# ---- settings ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "name"),
    [({"models": ("gan", "ali")}, "models"), ({"models": ("gan", "ali", "veegan", "dcgan")}, "models"),
     ({"targets": ("ring", "ring")}, "targets"), ({"targets": ("moons",)}, "targets"), ({"seeds": 1}, "seeds"),
     ({"steps_2d": 0}, "steps_2d"), ({"batch_size": 0}, "batch_size"), ({"n_eval": 50}, "n_eval"),
     ({"lr_schedule": "cosine"}, "lr_schedule"), ({"beta1": 1.0}, "beta1"), ({"lr_schedule": "linear"}, "lr_schedule"),
     ({"steps_2d": 5}, "steps_2d"), ({"threshold_rule": "loose"}, "threshold_rule"), ({"hq_tol": 0.0}, "hq_tol"),
     ({"published_hq": 1.5}, "published_hq"), ({"recon_std": 0.0}, "recon_std"),
     ({"min_steps_2d": 200}, "min_steps_2d"), ({"models_1200d": ("gan", "veegan")}, "models_1200d")],
)
def test_bad_settings_name_the_field(changes, name):
    import dataclasses

    with pytest.raises(ValueError, match=name):
        dataclasses.replace(vb.Settings.quick(), **changes)


def test_quick_full_and_paper_are_valid_and_state_their_budgets():
    q, f, p = vb.Settings.quick(), vb.Settings.full(), vb.Settings.paper()
    assert q.seeds == 2 and f.seeds >= 5 and p.seeds >= 5
    assert set(q.models) == set(f.models) >= {"gan", "ali", "veegan"} and f.targets == ("ring", "grid", "mixture_1200d")
    assert (f.ring_radius, f.ring_std, f.grid_std) == (1.0, 0.01, 0.05)  # PacGAN's pinned constants
    assert f.lr_schedule == "constant" and f.stop_at_settled and f.power_repeats >= 14
    assert f.lab_config("grid").batch_size == 256 and f.lab_config("mixture_1200d").batch_size == 128
    assert set(p.models) == set(vb.MODELS) and p.steps_2d == 100_000 and not p.stop_at_settled
    assert f.steps_2d >= 2 * f.window * f.eval_every and f.min_steps_2d <= f.steps_2d


def test_the_paper_setting_is_reachable_from_the_command_line():
    """docs/papers/veegan.md, "Budget": these --set overrides of the full setting give exactly Settings.paper()."""
    from ganlimits.verify._settings import apply_overrides

    overrides = ['models=("gan", "ali", "unrolled", "veegan", "pacgan2", "pacgan4", "wgan-gp")', "models_1200d=none",
                 "steps_2d=100000", "steps_1200d=100000", "min_steps_2d=0", "stop_at_settled=false",
                 "eval_every=1000"]
    assert apply_overrides(vb.Settings.full(), overrides) == vb.Settings.paper()


# ---- the paired statistic ---------------------------------------------------------------------------------------


def test_one_sided_limits_cover_at_their_level():
    """Normal differences, n = 5, 4,000 replicates (seed 0): each one-sided 95% limit covers the mean in a share
    whose 99.9% Clopper-Pearson interval contains 0.95."""
    rng = np.random.default_rng(0)
    R, mu = 4000, 1.3
    low = high = 0
    for _ in range(R):
        e = paired.paired_limits(rng.normal(mu, 2.0, 5), confidence=0.95)
        low += e.ci_low <= mu
        high += e.ci_high >= mu
    for k in (low, high):
        ci = clopper_pearson(k, R, confidence=0.999)
        assert ci.ci_low <= 0.95 <= ci.ci_high, k / R


def test_identical_differences_get_the_integer_floor_on_the_spread():
    """n identical differences are read with the spread of one seed differing by one mode: s.d. 1/sqrt(n)."""
    from scipy import stats

    e = paired.paired_limits([2, 2, 2, 2, 2], confidence=0.95)
    half = stats.t.ppf(0.95, 4) * (1 / math.sqrt(5)) / math.sqrt(5)
    assert (e.estimate, e.sides) == (2.0, 1) and e.ci_low == pytest.approx(2 - half, rel=1e-12)
    assert paired.paired_limits([0, 0, 0, 0, 1], confidence=0.95).ci_high == pytest.approx(0.2 + half, rel=1e-12)
    ties = paired.PairedComparison.from_diffs("ring", "gan", [0] * 5, confidence=0.95, family=6)
    assert not ties.contradicts and not ties.supports  # equal counts in every seed: neither more nor refuted
    ahead = paired.PairedComparison.from_diffs("ring", "gan", [1] * 5, confidence=0.95, family=6)
    behind = paired.PairedComparison.from_diffs("ring", "gan", [-1] * 5, confidence=0.95, family=6)
    assert ahead.supports and behind.contradicts
    two = paired.PairedComparison.from_diffs("ring", "gan", [1, 1], confidence=0.95, family=6)
    assert not two.supports  # two seeds cannot establish a difference of one mode
    with pytest.raises(ValueError, match="seeds"):
        paired.paired_limits([1.0], confidence=0.95)


def test_bonferroni_refutation_limit_is_wider():
    c = paired.PairedComparison.from_diffs("grid", "ali", [-1, -3, 0, -2, -1], confidence=0.95, family=6)
    assert c.refute_upper > c.support.ci_high and c.refute_confidence == pytest.approx(1 - 0.05 / 6)


# ---- planted generators and pairs -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ring", "grid", "mixture_1200d"])
def test_planted_generators_are_counted_exactly(name):
    t = lab_target(name)
    rng = np.random.default_rng(1)
    for k in range(1, t.n_components + 1):
        modes = rng.choice(t.n_components, size=k, replace=False)
        m = mode_metrics(paired.planted_samples(t, modes, 2500), t)
        assert m.modes == k and {i for i, c in enumerate(m.counts) if c} == set(modes.tolist())


def test_planted_pairs_have_the_stated_mean_and_spread():
    """200,000 planted seeds (seed 2): the mean difference is delta and the s.d. sqrt(2 w + f(1 - f)), within
    5 standard errors; both arms stay inside [1, 1 + 2 w + ceil(delta)]."""
    rng = np.random.default_rng(2)
    N = 200_000
    for delta, w in ((1.5, 2), (0.5, 1), (3.0, 4)):
        base, better = paired.planted_pair_counts(delta, w, N, rng)
        d = better - base
        f = delta - math.floor(delta)
        sd = math.sqrt(2 * w + f * (1 - f))
        assert abs(d.mean() - delta) < 5 * sd / math.sqrt(N)
        assert abs(d.std() - sd) < 5 * sd / math.sqrt(2 * N)
        assert min(base.min(), better.min()) >= 1 and max(base.max(), better.max()) <= 1 + 2 * w + math.ceil(delta)


def test_planted_spread_is_capped_by_the_modes_available():
    assert paired.planted_spread(0.0, 8) == (1, False) and paired.planted_spread(10.0, 8) == (2, True)
    assert paired.planted_spread(1.8, 8) == (2, False)  # half of 3.24, rounded up: never below the measured spread
    assert paired.planted_spread(3.0, 25) == (5, False) and paired.planted_spread(10.0, 10) == (3, True)


def _rate(delta, repeats, seed):
    cfg = {"target": "ring", "constants": {}, "delta": delta, "w": 1, "seeds": 5, "n_eval": 200,
           "confidence": 0.95}
    rows = [paired.power_trial(cfg, seed * 1000 + r) for r in range(repeats)]
    assert all(r["metric_matches_planted"] for r in rows)
    return sum(r["detected"] for r in rows)


def test_paired_test_size_at_no_difference():
    """delta = 0 (w = 1, 5 seeds), 200 planted pairs (seeds 0..199): the detection rate's 99.9% Clopper-Pearson
    interval reaches down to the nominal 5%."""
    k = _rate(0.0, 200, 0)
    assert clopper_pearson(k, 200, confidence=0.999).ci_low <= 0.05, k


def test_paired_test_power_at_three_modes():
    """delta = 3 modes (w = 1, 5 seeds), 100 planted pairs (seeds 1000..1099): detected in at least 80 (the
    resolution exists; every difference is then >= 1 mode, so the true power is close to 1)."""
    k = _rate(3.0, 100, 1)
    assert k >= 80, k


# ---- the adapted verdict rule -----------------------------------------------------------------------------------


def _control(ci_low):
    from ganlimits.verify import Estimate

    return NearBoundaryControl.exact("planted", 1.5, truth="exact", bound=0.0, baseline=-1.0,
                                     measured=Estimate(1.5, ci_low, math.inf, 0.95, 5, sides=1))


def _curve(detected, repeats=14):
    return PowerCurve(strengths=paired.STRENGTHS, detected=detected, repeats=repeats, n=5, bound=0.0, baseline=-1.0)


def _cmp(diffs, target="ring", baseline="gan"):
    return paired.PairedComparison.from_diffs(target, baseline, diffs, confidence=0.95, family=2)


IN = {("ring", "gan"): (True, "in"), ("ring", "ali"): (True, "in")}
OUT = {("ring", "gan"): (True, "in"), ("ring", "ali"): (False, "runs out of regime: ali 2/5 (2 unsettled)")}
GATE = {"ring": True}


def test_decide_refutes_on_a_contradicting_comparison_in_regime_without_needing_power():
    v, reason = vb._decide([_cmp([3, 4, 3, 5, 4]), _cmp([-2, -1, -3, -2, -2], baseline="ali")], IN, GATE,
                           {"ring": _control(-1.0)}, {"ring": _curve((0, 0, 0, 0))}, [])
    assert v == "refuted" and "ALI" in reason and "in regime" in reason


def test_a_contradicting_comparison_out_of_regime_never_refutes():
    """The same contradicting differences, but ALI's runs are out of regime (or the gate missorted its planted runs):
    inconclusive, and the reason says why."""
    cmps = [_cmp([3, 4, 3, 5, 4]), _cmp([-2, -1, -3, -2, -2], baseline="ali")]
    v, reason = vb._decide(cmps, OUT, GATE, {"ring": _control(0.4)}, {"ring": _curve((5, 14, 14, 14))}, [])
    assert v == "inconclusive" and "not decided" in reason and "out of regime" in reason
    v, reason = vb._decide(cmps, IN, {"ring": False}, {"ring": _control(0.4)}, {"ring": _curve((5, 14, 14, 14))},
                           [])
    assert v == "inconclusive" and "misclassified planted runs" in reason


def test_verdict_pvalue_is_that_of_the_deciding_test_and_none_when_inconclusive():
    up, down = _cmp([3, 4, 3, 5, 4]), _cmp([-2, -1, -3, -2, -2], baseline="ali")
    assert vb._verdict_pvalue("refuted", [up, down], [down]) == pytest.approx(min(1.0, 2 * down.pvalue_less))
    assert vb._verdict_pvalue("consistent", [up, down], []) == max(up.pvalue, down.pvalue)
    assert vb._verdict_pvalue("inconclusive", [up, down], []) is None
    assert up.pvalue < 0.01 and down.pvalue_less < 0.01


def test_decide_needs_regime_control_resolution_and_spread_for_consistent():
    good = [_cmp([3, 4, 3, 5, 4]), _cmp([2, 3, 2, 4, 3], baseline="ali")]
    fine = {"ring": _curve((5, 14, 14, 14))}
    assert vb._decide(good, IN, GATE, {"ring": _control(0.4)}, fine, [])[0] == "consistent"
    assert vb._decide(good, OUT, GATE, {"ring": _control(0.4)}, fine, [])[0] == "inconclusive"
    assert vb._decide(good, IN, GATE, {"ring": _control(-0.2)}, fine, [])[0] == "inconclusive"
    coarse = {"ring": _curve((1, 2, 5, 14))}  # resolution 3 modes: 4 times the bound from the baseline
    v, reason = vb._decide(good, IN, GATE, {"ring": _control(0.4)}, coarse, [])
    assert v == "inconclusive" and "ring (3 modes)" in reason and "fewer than" not in reason
    few = {"ring": _curve((5, 10, 10, 10), repeats=10)}  # every detection, but fewer than 14 repeats
    v, reason = vb._decide(good, IN, GATE, {"ring": _control(0.4)}, few, [])
    assert v == "inconclusive" and "resolution coarser" in reason and "fewer than the 14" in reason
    assert vb._decide(good, IN, GATE, {"ring": _control(0.4)}, fine, ["ring"])[0] == "inconclusive"
    weak = [_cmp([3, 4, 3, 5, 4]), _cmp([2, -1, 0, 3, 1], baseline="ali")]
    v, reason = vb._decide(weak, IN, GATE, {"ring": _control(0.4)}, fine, [])
    assert v == "inconclusive" and "ALI on ring" in reason


# ---- the claim end to end (tiny settings) -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    out = [tmp_path_factory.mktemp(f"veegan{i}") for i in range(2)]
    runs = [vb.run(RunConfig(quick=True, out_dir=o, progress=False), TINY) for o in out]
    return out, runs


def test_same_seed_and_threads_give_the_same_table(tiny_runs):
    _, (a, b) = tiny_runs
    for key in ("table", "comparisons", "tables_markdown", "near_controls", "power_curves"):
        assert json.dumps(a.measurements[key], sort_keys=True) == json.dumps(b.measurements[key], sort_keys=True)
    assert a.verdict == b.verdict and a.verdict_reason == b.verdict_reason


def test_the_result_records_table_controls_figures_and_settings(tiny_runs):
    out, (a, _) = tiny_runs
    assert a.claim == "veegan-benchmark" and a.control is not None and isinstance(a.control_caught, bool)
    assert a.resolution["label"] == "ring" and a.resolution["repeats"] == 2 and a.resolution["resolution"] is None
    table = a.measurements["table"]["ring"]
    assert list(table)[:2] == ["target", "diffuse"] and set(table) == {"target", "diffuse", "gan", "ali", "veegan"}
    assert table["target"]["modes"]["mean"] == 8.0  # the target's own draws capture every mode
    assert "VEEGAN T1" in a.measurements["tables_markdown"]["ring"]
    assert (out[0] / "veegan-benchmark-table.md").read_text().count("| VEEGAN |") == 1
    assert "MLPs 2x16" in a.params["architecture"]["ring"] and a.settings["seeds"] == 2
    for fig in a.figures:
        assert (out[0] / fig).stat().st_size > 5_000
    assert any("samples-ring" in f for f in a.figures) and any("metrics-vs-step" in f for f in a.figures)


def test_resume_reuses_the_recorded_trials(tiny_runs, monkeypatch):
    out, (a, _) = tiny_runs

    def refuse(*args, **kwargs):
        raise AssertionError("a recorded trial was trained again")

    monkeypatch.setattr(vb, "train_gan", refuse)
    again = vb.run(RunConfig(quick=True, out_dir=out[0], progress=False, resume=True), TINY)
    assert json.dumps(again.measurements["table"], sort_keys=True) == json.dumps(a.measurements["table"],
                                                                                  sort_keys=True)


@pytest.mark.slow  # two worker processes each import torch: about a minute on a loaded 2-core machine
def test_worker_processes_give_the_same_table(tiny_runs, tmp_path):
    _, (a, _) = tiny_runs
    two = vb.run(RunConfig(quick=True, out_dir=tmp_path, progress=False, n_jobs=2), TINY)
    assert json.dumps(two.measurements["table"], sort_keys=True) == json.dumps(a.measurements["table"],
                                                                                sort_keys=True)


def test_the_regime_block_holds_the_reference_rows_and_every_run(tiny_runs):
    """measurements["regime"]: per target the target's own draws (every component), the diffuse rows, the floor, and
    in_regime per model and seed; the gate's planted runs sorted."""
    _, (a, _) = tiny_runs
    block = a.measurements["regime"]["ring"]
    assert block["target_modes"] == [8, 8] and block["target_scores_every_component"]
    assert len(block["diffuse_modes"]) == 2 and 0 <= block["diffuse_high_quality_mean"] < 0.02
    assert block["hq_floor"] == pytest.approx(block["diffuse_hq_upper"] + 0.10, rel=1e-12)
    assert set(block["in_regime"]) == {"gan", "ali", "veegan"}
    assert all(len(v) == 2 for v in block["in_regime"].values())
    assert set(block["gate_controls"]) >= {"sharp", "diffuse", "out-of-box", "still-sharpening"}
    for runs in block["runs"].values():
        for r in runs:
            assert r["in_regime"] == (r["settled"] and r["hq_lower"] >= r["hq_floor"])


def test_under_trained_runs_decide_nothing(tiny_runs):
    """8 steps leave every run at the diffuse level: no run is in regime, no comparison is decided, so the verdict
    cannot be refuted or consistent (the gate's procedure on runs under-trained by construction) and says why."""
    _, (a, _) = tiny_runs
    assert not any(any(v) for v in a.measurements["regime"]["ring"]["in_regime"].values())
    assert not any(c["decided"] for c in a.measurements["comparisons"])
    assert a.verdict == "inconclusive" and "not decided" in a.verdict_reason and a.verdict_pvalue is None


def test_controls_and_curves_serve_the_comparisons_they_judge(tiny_runs):
    """The recorded control and power curve pass main's input check against every comparison's estimate (same bound,
    direction, n, confidence, sides), and a control of another n is refused."""
    from ganlimits.verify import Estimate

    _, (a, _) = tiny_runs
    ctl = a.measurements["near_controls"]["ring"]
    assert ctl["ratio_interval"] == [2.5, 2.5] and ctl["lower_certificate"] == ctl["upper_certificate"]
    for c in a.measurements["comparisons"]:
        e = c["estimate"]
        est = Estimate(e["estimate"], e["ci_low"], e["ci_high"], e["confidence"], e["n"], sides=e["sides"])
        m = ctl["measured"]
        control = NearBoundaryControl.exact("planted", 1.5, truth="exact", bound=0.0, baseline=-1.0,
                                            measured=Estimate(m["estimate"], m["ci_low"], m["ci_high"],
                                                              m["confidence"], m["n"], sides=m["sides"]))
        check_decision_inputs(est, 0.0, control=control, resolution=None, direction="upper")
        wrong_n = NearBoundaryControl.exact("planted", 1.5, truth="exact", bound=0.0, baseline=-1.0,
                                            measured=Estimate(1.5, 0.1, 2.9, 0.95, e["n"] + 1, sides=1))
        with pytest.raises(ValueError, match="n"):
            check_decision_inputs(est, 0.0, control=wrong_n, resolution=None, direction="upper")
