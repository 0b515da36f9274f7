"""Claim ``az17-birthday`` in its quick setting, its criteria, and the controls that must fail it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ganlimits.constructions import (
    GaussianBlockPartition,
    MemorizingGenerator,
    NoisedTarget,
    NoiseModel,
    digits,
)
from ganlimits.verify import RunConfig, birthday_test, run_claim, threshold_from_reference
from ganlimits.verify.claims.az17_birthday import _check, decide, size_grid


@pytest.fixture(scope="module")
def quick_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("az17")
    return run_claim("az17-birthday", RunConfig(quick=True, seed=0, out_dir=out, progress=False)), out


def test_quick_run_is_consistent_and_recorded(quick_result):
    result, out = quick_result
    assert result.verdict == "consistent", result.summary
    assert result.control_caught is True and result.control.estimate == 0.0
    assert result.control.method == "clopper-pearson"
    # every known support inside its interval, within the stated factor, and not flagged
    checks = result.measurements["calibration"]
    assert set(checks) == {"memorizing m=64", "memorizing m=256", "uniform N=500"}
    assert all(c["inside"] and c["within_factor"] and c["not_flagged"] for c in checks.values())
    # the heavy point is flagged and named
    assert result.measurements["nonuniform_case"]["flagged"]
    assert result.measurements["nonuniform_case"]["top_is_heavy_point"]
    # the memorizing generator is exposed near 1.18 sqrt(m)
    for m, e in result.measurements["exposure"].items():
        assert 0.8 < e["s_half_over_sqrt_m"] < 1.7, (m, e)
    # the measured ratio brackets the bound 1 (the truth)
    assert result.measured.ci_low <= 1.0 <= result.measured.ci_high
    saved = json.loads((out / "az17-birthday.json").read_text())
    assert saved["verdict"] == "consistent" and saved["control"]["n"] == 10
    assert (out / "az17-birthday-curves.png").stat().st_size > 10_000
    assert (out / "az17-birthday-quick.jsonl").exists()


def test_resume_skips_finished_cases(quick_result, monkeypatch):
    result, out = quick_result
    import ganlimits.verify.claims.az17_birthday as mod

    def fail(cfg, seed):
        raise AssertionError("a finished case ran again")

    monkeypatch.setattr(mod, "_trial", fail)
    again = run_claim("az17-birthday", RunConfig(quick=True, seed=0, out_dir=out, progress=False, resume=True,
                                                 figures=False), write=False)
    assert again.verdict == result.verdict and again.measurements["calibration"] == result.measurements[
        "calibration"]


def test_criterion_catches_a_wrong_support(quick_result):
    """Negative control: the same measured curve, attributed to a support three times larger, fails."""
    result, _ = quick_result
    case = next(c for c in result.measurements["cases"] if c["kind"] == "points")
    assert _check(case)["ok"]
    wrong = dict(case, truth=3 * case["truth"])
    assert not _check(wrong)["ok"]


def test_verdict_rules():
    assert decide(calibrated=True, heavy_flagged=True, control_caught=True) == "consistent"
    assert decide(calibrated=False, heavy_flagged=True, control_caught=True) == "refuted"
    assert decide(calibrated=True, heavy_flagged=False, control_caught=True) == "refuted"
    assert decide(calibrated=True, heavy_flagged=True, control_caught=False) == "inconclusive"


def test_all_coordinates_hide_the_memorizing_generator():
    """Why the test compares clean coordinates: on all d coordinates the code positions make outputs of one
    block differ by |z - z'| (same block, but free signs and spread inside the cell), so many true duplicates
    are missed and the support would be overestimated; on the clean coordinates outputs of one block are
    identical. m = 64, s in {16, 24}, R = 30 each, torch seed 21; Fisher's exact test (one-sided) at alpha =
    0.01 that the clean coordinates see more collisions."""
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
    a = sum(c.collisions for c in seen.curve)
    b = sum(c.collisions for c in hidden.curve)
    _, p = stats.fisher_exact([[a, 2 * R - a], [b, 2 * R - b]], alternative="greater")
    assert p < 0.01, (a, b, p)
    # on the clean coordinates the rates match the uniform law on m = 64 points (0.86 and 0.99 here)
    assert a >= 0.8 * 2 * R


def test_size_grid_spans_the_crossing():
    for N in (64, 1000, 10**4):
        grid = size_grid(N, 16)
        assert grid == sorted(set(grid)) and grid[0] >= 2
        assert grid[0] < 1.18 * np.sqrt(N) < grid[-1]
