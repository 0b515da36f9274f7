"""Claim arz-codes (Arora, Risteski & Zhang 2017, Theorem 1 part (b)): the exact independence checks and their
control, the probe's power against planted leaks, the margin derived from it, and the run's records. Procedure, not
outcome: no assertion on the verdict string."""

import dataclasses

import pytest
import torch

from ganlimits.constructions import NoiseExtractingEncoder, NoiseModel, class_probabilities, digits
from ganlimits.verify import RunConfig, run_claim
from ganlimits.verify.claims._common import NEAR_BOUNDARY
from ganlimits.verify.claims.arz_codes import Settings, _PixelReadingEncoder, exact_independence, leak_trial


def test_the_noise_encoder_passes_the_exact_checks_and_a_pixel_reading_one_fails_them():
    clean = digits(jitter=0.05)
    noise = NoiseModel(dim=64, code_dim=4)
    ok = exact_independence(NoiseExtractingEncoder(noise=noise), noise, clean, n=2000,
                            generator=torch.Generator().manual_seed(0))
    assert ok == {"weights_zero_on_content": True, "returns_z": True, "ignores_content": True, "holds": True}
    bad = exact_independence(_PixelReadingEncoder(noise=noise), noise, clean, n=2000,
                             generator=torch.Generator().manual_seed(0))
    assert not bad["weights_zero_on_content"] and not bad["returns_z"] and not bad["holds"]


def test_the_probe_detects_a_large_leak_and_not_the_absence_of_one():
    # leak_trial = the verdict's probe (n_train = n_test = 2000, one-sided 95%) against a leaking encoder; a leak of
    # excess 0.1 is detected, none is not (seeds 1, 2).
    chance = float(class_probabilities(digits()).max())
    cfg = {"n_train": 2000, "n_test": 2000, "sigma": 1.0, "confidence": 0.95, "jitter": 0.05, "code_dim": 4,
           "chance": chance}
    assert leak_trial({**cfg, "rate": 0.1 / (1 - chance)}, 1)["detected"]
    assert not leak_trial({**cfg, "rate": 0.0}, 2)["detected"]


@pytest.fixture(scope="module")
def quick_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("arz-codes")
    return run_claim("arz-codes", RunConfig(quick=True, seed=0, out_dir=out, progress=False))


def test_the_margin_is_the_measured_resolution_and_the_control_sits_near_it(quick_result):
    r, m = quick_result, quick_result.measurements
    assert m["exact"]["holds"] and m["encoder_of_generator_is_identity"]
    assert not m["exact_control_pixel_reading"]["holds"]  # the exact check's control fails as it must
    chance = m["chance"]
    assert chance == pytest.approx(float(class_probabilities(digits()).max()), abs=0)
    res = r.resolution
    if res["resolution"] is not None:
        # margin = (smallest planted leak detected with 80% power) - chance, and the bound is chance + margin
        assert m["margin"] == pytest.approx(res["resolution"] - chance, abs=1e-15)
        assert r.bound["value"] == pytest.approx(chance + m["margin"], abs=1e-15)
        rates = [d / res["repeats"] for d in res["detected"]]
        i = res["strengths"].index(res["resolution"])
        assert all(rate >= 0.8 for rate in rates[i:]) and (i == 0 or rates[i - 1] < 0.8)
        ctrl = m["near_boundary_control"]
        assert NEAR_BOUNDARY[0] <= ctrl["ratio"] <= NEAR_BOUNDARY[1] and ctrl["baseline"] == chance
        assert ctrl["measured"]["n"] == Settings.quick().n_test and ctrl["measured"]["sides"] == 1
        assert ctrl["caught"]  # the probe sees a leak of 2.2 margins at the verdict's n (seed 0)
    assert r.measured.sides == 1 and r.verdict_reason
    recon = m["reconstruction"]
    assert recon["oracle_ratio"]["ci_high"] == 0.0  # x~ ⊙ E(x) = x exactly
    assert 0.8 < recon["ratio"]["estimate"] < 1.2  # G's content is a memory row independent of x
    assert r.figures == ["arz-codes_probe.png", "arz-codes_power.png"]


def test_same_seed_gives_identical_numbers(quick_result, tmp_path):
    again = run_claim("arz-codes", RunConfig(quick=True, seed=0, out_dir=tmp_path, progress=False, figures=False))
    a, b = quick_result.to_dict(), again.to_dict()
    for key in ("measured", "control", "bound", "resolution", "verdict", "params"):
        assert a[key] == b[key], key


@pytest.mark.parametrize("change,match", [
    ({"leak_excess": (0.02, 0.01)}, "leak_excess"),
    ({"leak_excess": (0.3, 0.45)}, "leak_excess"),  # the control would need more than the largest excess
    ({"n_test": 20, "n_train": 20}, "n_test"),  # even the largest planted leak could not be detected
    ({"code_dim": 1}, "code_dim"),
])
def test_impossible_settings_fail_before_any_computation(change, match):
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(Settings.quick(), **change)
