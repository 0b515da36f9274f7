"""Claim az17-diversity: the procedure, not the verdict — exact supports of the planted laws (against brute-force
pairs), coverage of the birthday interval on planted trained-like laws, the slope fit on hand-built data, the
near-boundary control caught at a fixed seed (and a true slope of 1 not flagged), settings checked before any run,
determinism."""

import dataclasses
import json
import math

import numpy as np
import pytest
import torch
from scipy import stats

from ganlimits.verify import RunConfig, clopper_pearson, threshold_from_noise
from ganlimits.verify.claims import _diversity_cases as dc
from ganlimits.verify.claims import az17_diversity as ad

STD, MISS = 0.1, 0.01
T = threshold_from_noise(sigma=STD, dim=2, miss=MISS)
BASE = dict(side=8, spacing=1.0, std=STD, threshold=T, n_sizes=8, pilot_repeats=10, max_size=4096, repeats=25,
            calibration_draws=300, nonuniform_alpha=0.01)
FULL_PARAMS = ad.Settings.full().d_params()

TINY = ad.Settings(d_widths=(2, 4, 8, 16, 32), seeds=2, steps=30, coverage_repeats=1, coverage_ks=(4,),
                   coverage_spreads=(1.0,), power_strengths=(1.0, 2.0), power_repeats=1, calibration_draws=100,
                   n_eval=200, g_width=16, batch_size=32, holdout_draws=2000, figure_points=50)


# ---- settings ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "name"),
    [({"d_widths": (4, 8, 16, 32)}, "d_widths"), ({"d_widths": (4, 5, 6, 7, 8)}, "d_widths"),
     ({"d_widths": (8, 4, 16, 32, 64)}, "d_widths"), ({"seeds": 1}, "seeds"), ({"steps": 0}, "steps"),
     ({"near_strength": 1.0}, "near_strength"), ({"tolerance": 1.5}, "tolerance"), ({"miss": 0.7}, "miss"),
     ({"spacing": 0.5}, "spacing"), ({"lr_schedule": "cosine"}, "lr_schedule"),
     ({"power_strengths": (0.5,)}, "power_strengths"), ({"power_strengths": (0.5, 4.0)}, "power_strengths"),
     ({"coverage_ks": (0, 4)}, "coverage_ks"), ({"calibration_draws": 10}, "calibration_draws")],
)
def test_bad_settings_name_the_field(changes, name):
    with pytest.raises(ValueError, match=name):
        dataclasses.replace(ad.Settings.quick(), **changes)


def test_quick_and_full_span_at_least_16x_in_parameters_over_5_widths():
    for s in (ad.Settings.quick(), ad.Settings.full()):
        p = s.d_params()
        assert len(p) >= 5 and p[-1] >= 16 * p[0]
    assert FULL_PARAMS == [37, 105, 337, 1185, 4417, 17025]  # 2 -> w -> w -> 1: 2w + w + w^2 + w + w + 1


# ---- the slope fit ----------------------------------------------------------------------------------------------


def test_ols_slope_is_exact_on_a_line_and_matches_linregress_with_noise():
    x = np.log([37, 105, 337, 1185, 4417])
    f = dc.ols_slope(x, 1.5 + 0.7 * x, 0.95)
    assert f["slope"] == pytest.approx(0.7, abs=1e-12) and f["intercept"] == pytest.approx(1.5, abs=1e-12)
    assert f["ci_high"] - f["ci_low"] == pytest.approx(0.0, abs=1e-9)
    y = 1.5 + 0.7 * x + np.array([0.3, -0.2, 0.1, -0.4, 0.2])
    f = dc.ols_slope(x, y, 0.95)
    ref = stats.linregress(x, y)
    half = stats.t.ppf(0.975, 3) * ref.stderr
    assert f["slope"] == pytest.approx(ref.slope, rel=1e-12)
    assert (f["ci_low"], f["ci_high"]) == pytest.approx((ref.slope - half, ref.slope + half), rel=1e-12)


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [(0.2, 0.6, (0.4, 0.8)), (0.8, 1.1, (0.0, 0.2)), (1.2, 1.5, (0.2, 0.5)), (-0.3, 2.5, (0.0, 1.5))],
)
def test_deviation_interval_from_the_slope_interval(lo, hi, expected):
    _, a, b = dc.deviation_interval({"slope": (lo + hi) / 2, "ci_low": lo, "ci_high": hi})
    assert (a, b) == pytest.approx(expected, abs=1e-12)


def test_ols_student_interval_covers_at_its_level():
    """Normal errors, the full design (6 widths x 5 seeds), 2,000 replicates (seed 0): coverage of the 95% slope
    interval has a 99.9% Clopper-Pearson interval containing 0.95."""
    rng = np.random.default_rng(0)
    x = np.repeat(np.log(FULL_PARAMS), 5)
    hits = 0
    for _ in range(2000):
        f = dc.ols_slope(x, 0.4 * x + rng.normal(0, 0.5, x.size), 0.95)
        hits += f["ci_low"] <= 0.4 <= f["ci_high"]
    ci = clopper_pearson(hits, 2000, confidence=0.999)
    assert ci.ci_low <= 0.95 <= ci.ci_high, hits


# ---- the laws and their exact supports --------------------------------------------------------------------------


def test_the_lattice_is_a_disc_of_the_target_grids_lattice():
    target = {tuple(r) for r in dc.fine_grid(8, 1.0, STD).means.tolist()}
    pts = dc.lattice(300, 1.0, 8)
    r = pts.norm(dim=1)
    assert bool((r[1:] >= r[:-1] - 1e-12).all()) and len({tuple(p) for p in pts.tolist()}) == 300
    assert target <= {tuple(p) for p in pts.tolist()}  # the target's modes are lattice points
    d = torch.cdist(pts, pts) + torch.eye(300) * 10
    assert float(d.min()) == pytest.approx(1.0)
    assert {tuple(p) for p in pts[:32].tolist()} <= target  # a small block collapses onto target modes


def test_exact_support_of_separated_blobs_is_k_over_one_minus_miss():
    for k in (1, 16, 64):
        law = dc.blob_law(k, 1.0, BASE)
        # neighbours 1 = 10 std apart still collide with probability ~1e-5 per pair: relative effect below 1e-4
        assert dc.exact_support(law.means, STD, T) == pytest.approx(k / (1 - MISS), rel=1e-4)


@pytest.mark.parametrize(("k", "spread"), [(4, 3.0), (16, 4.0)])
def test_exact_support_matches_brute_force_pairs(k, spread):
    """Blurred blobs that overlap their neighbours: 400,000 independent pairs (seed 1); the pair collision rate's
    99.9% Clopper-Pearson interval contains 1 / exact_support."""
    law = dc.blob_law(k, spread, BASE)
    gen = torch.Generator().manual_seed(1)
    n = 400_000
    a, b = law.sample(n, generator=gen)[0], law.sample(n, generator=gen)[0]
    hits = int(((a - b).norm(dim=1) < T).sum())
    ci = clopper_pearson(hits, n, confidence=0.999)
    q = 1 / dc.exact_support(law.means, spread * STD, T)
    assert ci.ci_low <= q <= ci.ci_high, (hits / n, q)


def test_holdout_rule_misses_at_the_nominal_rate():
    out = ad._holdout_check(ad.Settings.quick(), T, torch.Generator().manual_seed(0))
    assert out["pairs"] > 9000
    assert out["miss_rate"]["ci_low"] <= MISS <= out["miss_rate"]["ci_high"]


# ---- the birthday measurement on planted laws -------------------------------------------------------------------


def test_planted_supports_are_covered_at_fixed_seeds():
    """Planted trained-like laws (k in {4, 64} blobs, spread 1 and 3 x std), 5 seeds each (100..104): the 95%
    headline interval covers the exact support in at least 17 of 20 runs (P[<= 16 of 20] = 0.016 at coverage
    0.95), and the median ratio N_hat / N lies within 15%."""
    hits, ratios = 0, []
    for k in (4, 64):
        for spread in (1.0, 3.0):
            for seed in range(100, 105):
                out = dc.trial({**BASE, "kind": "planted", "k": k, "spread": spread}, seed)
                hits += out["covered"]
                ratios.append(out["support"] / out["truth"])
    assert hits >= 17, hits
    assert abs(np.median(ratios) - 1) < 0.15, ratios


def _slope(beta, tau, seed, seeds=5):
    cfg = {**BASE, "kind": "slope", "params": FULL_PARAMS, "seeds": seeds, "beta": beta, "base": 4.0, "tau": tau,
           "confidence": 0.95, "tolerance": 0.3}
    return dc.trial(cfg, seed)


def test_near_boundary_control_is_caught_at_a_fixed_seed():
    """Planted slope 0.4 (|beta - 1| = 2 x tolerance 0.3), 6 widths x 5 seeds, spread 0.3 on log N, seed 7: the
    fitted interval contains 0.4 and excludes the near-linear band."""
    out = _slope(0.4, 0.3, 7)
    assert out["fit"]["ci_low"] <= 0.4 <= out["fit"]["ci_high"], out["fit"]
    assert out["detected"] and out["deviation_low"] > 0.3


@pytest.mark.slow  # 10 planted fits of 30 birthday tests each
def test_linear_planted_growth_is_not_flagged_and_control_has_power():
    """Seeds 20..24: a planted slope of exactly 1 is never flagged (each fitted interval reaches into the band);
    seeds 30..34: a planted slope of 0.4 is detected in every fit (spread 0.3)."""
    assert not any(_slope(1.0, 0.3, s)["detected"] for s in range(20, 25))
    assert all(_slope(0.4, 0.3, s)["detected"] for s in range(30, 35))


def test_planted_family_grows_like_p_to_the_beta():
    """Without spread, the planted supports follow N_0 (p / p_0)^beta up to the rounding of k."""
    cfg = {**BASE, "params": FULL_PARAMS, "seeds": 1, "beta": 0.7, "base": 4.0, "tau": 0.0}
    ks = [k for _, _, k in dc.planted_supports(cfg, np.random.default_rng(0))]
    want = [0.99 * 4.0 * (p / FULL_PARAMS[0]) ** 0.7 for p in FULL_PARAMS]
    assert all(abs(k - w) < 1 for k, w in zip(ks, want, strict=True)), (ks, want)


# ---- the claim end to end (tiny settings) -----------------------------------------------------------------------


def test_a_training_trial_is_deterministic():
    """One trained generator and its birthday measurement, twice with seed 11, once with seed 12."""
    cfg = {**BASE, "kind": "train", "d_width": 8, "d_depth": 2, "steps": 40, "n_eval": 200, "figure_points": 10,
           "lab": {"width": 16, "batch_size": 32}}
    a, b, c = (dc.trial(cfg, s) for s in (11, 11, 12))
    for r in (a, b, c):
        r.pop("train_s")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert a["figure_samples"] != c["figure_samples"]
    assert a["d_params"] == 105 and a["final"]["n"] == 200


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    out = [tmp_path_factory.mktemp(f"diversity{i}") for i in range(2)]
    return out, [ad.run(RunConfig(quick=True, out_dir=o, progress=False), TINY) for o in out]


@pytest.mark.slow  # two end-to-end runs: about a minute on a loaded 2-core machine
def test_same_seed_and_threads_give_the_same_numbers(tiny_runs):
    _, (a, b) = tiny_runs
    for key in ("fit", "per_width", "coverage", "planted_fits", "runs"):
        ra = json.dumps(a.measurements[key], sort_keys=True, default=str)
        rb = json.dumps(b.measurements[key], sort_keys=True, default=str)
        if key == "runs" or key == "per_width":  # wall-clock timings differ between runs
            ra, rb = (json.dumps(_drop_times(json.loads(r)), sort_keys=True) for r in (ra, rb))
        assert ra == rb, key
    assert a.verdict == b.verdict and a.measured.to_dict() == b.measured.to_dict()


def _drop_times(obj):
    if isinstance(obj, dict):
        return {k: _drop_times(v) for k, v in obj.items() if k not in ("train_s",)}
    if isinstance(obj, list):
        return [_drop_times(v) for v in obj]
    return obj


@pytest.mark.slow
def test_the_result_records_fit_control_table_and_figures(tiny_runs):
    out, (a, _) = tiny_runs
    assert a.claim == "az17-diversity" and a.control is not None and isinstance(a.control_caught, bool)
    assert a.verdict in ("consistent", "refuted", "inconclusive") and a.verdict_pvalue is not None
    assert a.params["d_params"] == TINY.d_params() and len(a.measurements["runs"]) == 10
    assert math.isfinite(a.measurements["fit"]["slope"]) and a.resolution["repeats"] == 1
    table = (out[0] / "az17-diversity-table.md").read_text()
    assert table.count("\n| ") >= 5 + 3 and "Near-boundary control" in table
    assert {"az17-diversity-support.png", "az17-diversity-power.png", "az17-diversity-samples.png"} <= set(a.figures)
    for fig in a.figures:
        assert (out[0] / fig).stat().st_size > 5_000
