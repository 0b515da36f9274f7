"""Claim ``az17-birthday``: the procedure (full-vector attack, held-out threshold, pilot sizes, calibrated
interval), the known outcomes of its planted cases, the verdict rule on constructed inputs, and bad settings.
The verdict string of a run is never asserted: it is what the data say."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from ganlimits.constructions import GaussianBlockPartition, MemorizingGenerator, NoisedTarget, NoiseModel, digits
from ganlimits.verify import Estimate, RunConfig, birthday_test, run_claim, threshold_from_reference
from ganlimits.verify.claims._common import NearBoundaryControl, PowerCurve
from ganlimits.verify.claims.az17._birthday_cases import atoms_apart, log_ratio_interval, split_images
from ganlimits.verify.claims.az17._birthday_report import verdict_of
from ganlimits.verify.claims.az17.birthday import Settings
from ganlimits.verify.estimators.support import HEADLINE_INTERVAL, SUPPORT_INTERVALS

LOG_F = float(np.log(1.5))


@pytest.fixture(scope="module")
def quick_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("az17")
    return run_claim("az17-birthday", RunConfig(quick=True, seed=0, out_dir=out, progress=False)), out


def test_quick_run_records_its_procedure(quick_result):
    result, out = quick_result
    assert result.verdict_reason
    # a p-value exactly when the verdict rejects a null
    assert (result.verdict_pvalue is not None) == (result.verdict in ("consistent", "refuted"))
    assert result.verdict_pvalue is None or 0 <= result.verdict_pvalue <= 1
    assert result.bound["value"] == pytest.approx(LOG_F)
    m = result.measured
    assert m.ci_low <= m.estimate <= m.ci_high and HEADLINE_INTERVAL in m.method and m.n == 25 * 8
    # the near-boundary control's truth is exact from both sides (atoms farther apart than the threshold) and lies
    # 1.5-3 times the bound
    near = result.measurements["near_boundary_control"]
    lo, hi = near["ratio_interval"]
    assert near["truth_low"] == near["truth_high"] and 1.5 <= lo <= hi <= 3
    assert "closest pair" in near["lower_certificate"] and near["measured"]["n"] == m.n
    row = next(r for r in result.measurements["power_trials"] if r["m"] == round(256 * 1.5**2))
    assert row["support_certified"] and row["atoms_min_distance"] >= row["threshold"]
    res = result.resolution
    assert res["n"] == m.n and res["bound"] == pytest.approx(LOG_F) and res["direction"] == "upper"
    assert res["repeats"] >= 14 and res["confidence"] == m.confidence
    saved = json.loads((out / "az17-birthday.json").read_text())
    assert saved["verdict"] == result.verdict and saved["measurements"]["coverage"]["pooled"]["n"] == 4 * 14
    for fig in ("az17-birthday-curves.png", "az17-birthday-power.png"):
        assert (out / fig).stat().st_size > 10_000
    assert (out / "az17-birthday-quick.jsonl").exists()


def test_threshold_is_calibrated_on_held_out_images(quick_result):
    """The control's images are disjoint from the calibration images, and the control's closest pair stays above
    the threshold it was not tuned on (known outcome: jittered digits have no atoms)."""
    result, _ = quick_result
    calib, held = split_images(123, 0.5)
    assert not set(calib) & set(held) and len(calib) + len(held) == 1797
    for law, c in result.measurements["specificity"].items():
        assert c["collisions"] == 0 and c["min_distance"] > c["threshold"], law
        assert c["threshold"] == result.measurements["thresholds"][law]


def test_planted_cases_have_their_known_outcomes(quick_result):
    result, _ = quick_result
    meas = result.measurements
    # the near-boundary control (support 2.25 m attacked as m) is caught at the verdict's n
    assert result.control_caught
    # power (14 attacks per planted support, seed 0): the largest planted violation (3 times the bound) is detected
    # often enough for a 95% lower limit of 80%; the null (c = 0, the claimed support is the truth) is flagged at
    # most once in 14 (a detection needs the 95% interval to miss the truth by more than the factor 1.5)
    res = result.resolution
    assert res["power_lower_limits"][-1] >= 0.8 and res["detected"][0] <= 1
    assert res["resolution_factor"] is not None and res["resolution_factor"] <= 3
    # the heavy atom is flagged and named; known uniform supports are not flagged
    assert meas["nonuniform_case"]["nonuniform"] and meas["nonuniform_case"]["top_is_heavy_point"]
    assert not any(meas["nonuniform_flags"].values())
    # on full vectors the witness's duplicates are rarer than 'same memorized image' (the pair count says how
    # much), and comparing the known clean positions recovers m
    wit = meas["witness"]
    assert wit["full"]["effective_support"][0] > 2 * wit["full"]["m"]
    clean = wit["clean"]["intervals"][HEADLINE_INTERVAL]
    assert clean["ci_low"] <= wit["clean"]["m"] <= clean["ci_high"]
    assert meas["witness_exposure"]["exposed"]


def test_coverage_table_of_the_run(quick_result):
    """Every planted run records whether each interval covered its known support; the table agrees."""
    result, _ = quick_result
    rows = result.measurements["power_trials"]
    table = result.measurements["coverage"]["pooled"]
    for name in SUPPORT_INTERVALS:
        covered = sum(r["covered"][name] for r in rows)
        assert table[name]["coverage"]["estimate"] == pytest.approx(covered / len(rows))
    # the landed crossing interval is much wider than the headline, which is near the efficient width
    assert table["cp_crossing"]["median_width"] > 2 * table[HEADLINE_INTERVAL]["median_width"]
    assert table[HEADLINE_INTERVAL]["median_width"] <= 1.2 * table["fisher_width_median"]


def test_criterion_could_fail(quick_result):
    """Negative control: the headline curve attributed to a support three times larger lies beyond the factor."""
    result, _ = quick_result
    head = result.params["headline_m"]
    row = result.measurements["memorized"][str(head)]
    est = row["intervals"][HEADLINE_INTERVAL]
    assert log_ratio_interval(est, head)[1] <= LOG_F
    assert log_ratio_interval(est, 3 * head)[1] > LOG_F


def test_resume_skips_finished_cases(quick_result, monkeypatch):
    result, out = quick_result
    import ganlimits.verify.claims.az17.birthday as mod

    def fail(cfg, seed):
        raise AssertionError("a finished case ran again")

    monkeypatch.setattr(mod, "trial", fail)
    again = run_claim("az17-birthday", RunConfig(quick=True, seed=0, out_dir=out, progress=False, resume=True,
                                                 figures=False), write=False)
    assert again.verdict == result.verdict and again.measurements["criteria"] == result.measurements["criteria"]


def test_log_ratio_interval():
    assert log_ratio_interval({"estimate": 100, "ci_low": 80, "ci_high": 125}, 100) == pytest.approx(
        (0.0, 0.0, np.log(1.25)))
    e, lo, hi = log_ratio_interval({"estimate": 300, "ci_low": 250, "ci_high": 400}, 100)
    assert (e, lo, hi) == pytest.approx((np.log(3), np.log(2.5), np.log(4)))
    e, lo, hi = log_ratio_interval({"estimate": 30, "ci_low": 20, "ci_high": 40}, 100)
    assert (lo, hi) == pytest.approx((np.log(2.5), np.log(5)))
    assert log_ratio_interval({"estimate": None, "ci_low": 50, "ci_high": None}, 100)[2] == float("inf")


def _est(e, lo, hi):
    return Estimate(e, lo, hi, 0.95, 200)


def _rule(cases=None, *, caught=True, detected=(0, 1, 14, 14), near=True, **kw):
    control = NearBoundaryControl.exact("planted", 2 * LOG_F, truth="construction", bound=LOG_F,
                                        measured=_est(0.8, 0.6 if caught else 0.3, 1.0)) if near else None
    power = PowerCurve(strengths=(0.0, LOG_F, 2 * LOG_F, 3 * LOG_F), detected=detected, repeats=14, n=200,
                       bound=LOG_F)
    args = {"flags": {"m=64": False}, "heavy_flagged": True, "exposed": True, "false_positives": 0,
            "coverage": {"estimate": 53 / 56, "n": 56}, "confidence": 0.95, **kw}
    return verdict_of(cases or {"m=64": _est(0.05, 0.0, 0.2)}, near=control, power=power, log_factor=LOG_F, **args)


def test_verdict_rule_on_constructed_inputs():
    """Each branch of the rule, on inputs built to trigger it."""
    assert _rule()[0] == "consistent"
    assert _rule({"m=64": _est(1.0, 0.6, 1.3)})[0] == "refuted"  # interval beyond the factor
    assert _rule({"m=64": _est(0.3, 0.0, 0.6)})[0] == "inconclusive"  # straddles the factor
    assert _rule(caught=False)[0] == "inconclusive"
    assert _rule(near=False)[0] == "inconclusive"  # no certified control
    assert _rule(detected=(0, 0, 2, 3))[0] == "inconclusive"  # no resolution within 3x the bound
    assert _rule(detected=(0, 1, 13, 13))[0] == "inconclusive"  # 13/14: 95% lower limit of the power below 80%
    assert _rule(flags={"m=64": True})[0] == "refuted"
    assert _rule(heavy_flagged=False)[0] == "refuted"
    assert _rule(exposed=False)[0] == "refuted"
    verdict, reason = _rule(uncertain=["m=64"])
    assert verdict == "inconclusive" and "not certified" in reason
    verdict, reason = _rule(false_positives=2)
    assert verdict == "inconclusive" and "specificity" in reason
    verdict, reason = _rule(coverage={"estimate": 45 / 56, "n": 56})
    assert verdict == "inconclusive" and "covered" in reason


def test_atoms_apart_certifies_a_support_exactly_or_not_at_all():
    """The certificate is the exact closest pair: atoms 0.1 apart are one point to a 0.2 threshold (no certificate),
    distinct points to a 0.05 one; drawing from certified atoms, a sample collides exactly when it repeats an atom
    (checked against the labels of 200 samples of size 12 from 30 atoms 1 apart, threshold 0.5)."""
    atoms = torch.tensor([[0.0, 0.0], [0.0, 0.1], [1.0, 1.0]], dtype=torch.float64)
    assert atoms_apart(atoms, 0.2) == (pytest.approx(0.1), False)
    assert atoms_apart(atoms, 0.05)[1]
    from ganlimits.verify import closest_pairs

    grid = torch.cartesian_prod(torch.arange(6.0), torch.arange(5.0)).to(torch.float64)
    assert atoms_apart(grid, 0.5) == (pytest.approx(1.0), True)
    g = torch.Generator().manual_seed(4)
    for _ in range(200):
        idx = torch.randint(0, 30, (12,), generator=g)
        collided = bool(closest_pairs(grid[idx], 1)[1][0] < 0.5)
        assert collided == (len(set(idx.tolist())) < 12)


@pytest.mark.parametrize(
    "change,name",
    [
        ({"near_strength": 1.0}, "near_strength"),
        ({"near_strength": 3.5}, "near_strength"),
        ({"power_strengths": (2.0, 1.0)}, "power_strengths"),
        ({"power_strengths": (0.0, 4.0)}, "power_strengths"),
        ({"max_size": 64}, "max_size"),
        ({"reference_n": 50}, "reference_n"),
        ({"control_s": 50}, "control_s"),
        ({"factor": 1.0}, "factor"),
        ({"heavy_mass": 1.0}, "heavy_mass"),
        ({"ms": (1, 64)}, "ms"),
        ({"n_sizes": 2}, "n_sizes"),
        ({"split_fraction": 0.9999}, "split_fraction"),
        ({"code_dim": 64}, "code_dim"),
    ],
)
def test_impossible_settings_are_rejected(change, name):
    with pytest.raises(ValueError, match=name):
        dataclasses.replace(Settings.quick(), **change)


def test_all_coordinates_hide_the_memorizing_generator():
    """Why full vectors of the Theorem-3 witness show fewer duplicates than memorized images: outputs of one block
    differ at the code positions by |z - z'|, so on all d coordinates many are missed, while on the clean
    coordinates they are identical. m = 64, s in {16, 24}, R = 30 each, torch seed 21; Fisher's exact test
    (one-sided) at alpha = 0.01 that the clean coordinates see more collisions."""
    from scipy import stats

    g = torch.Generator().manual_seed(21)
    clean = digits(jitter=0.05)
    noise = NoiseModel(dim=64, code_dim=2)
    partition = GaussianBlockPartition(k=8, code_dim=2)
    memory, _ = clean.sample(partition.m, generator=g)
    G = MemorizingGenerator(memory=memory, partition=partition, noise=noise, tv_budget=0.01)
    real, _ = NoisedTarget(clean=clean, noise=noise).sample(1024, generator=g)

    def sample(s, gen):
        return G.fast(partition.sample_codes(s, generator=gen))

    sizes, R = [16, 24], 30
    hidden = birthday_test(sample, sizes=sizes, repeats=R, threshold=threshold_from_reference(real),
                           generator=g)
    seen = birthday_test(sample, sizes=sizes, repeats=R, generator=g, coords=noise.clean_positions,
                         threshold=threshold_from_reference(real, coords=noise.clean_positions))
    a = int(seen.collision_counts.sum())
    b = int(hidden.collision_counts.sum())
    _, p = stats.fisher_exact([[a, 2 * R - a], [b, 2 * R - b]], alternative="greater")
    assert p < 0.01, (a, b, p)
    assert a >= 0.8 * 2 * R  # the uniform law on 64 points collides at rates 0.86 and 0.99 here
