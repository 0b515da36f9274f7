"""Claim arz-codes (Arora, Risteski & Zhang 2017, Theorem 1 part (b)): the exact independence checks and their
control, the two certificates of a leaking encoder's best accuracy, the probe's power against planted leaks measured
against the bound fixed a priori (chance + margin), and the run's records. Procedure, not outcome: no assertion on
the verdict string."""

import dataclasses
import math

import pytest
import torch

from ganlimits.constructions import LabelLeakingEncoder, NoiseExtractingEncoder, NoiseModel, class_probabilities, digits
from ganlimits.verify import Estimate, RunConfig, clopper_pearson, run_claim
from ganlimits.verify.claims._common import (
    NEAR_BOUNDARY,
    NearBoundaryControl,
    PowerCurve,
    check_decision_inputs,
    decide,
)
from ganlimits.verify.claims.arz17.codes import (
    Settings,
    _PixelReadingEncoder,
    exact_independence,
    leak_accuracy,
    leak_trial,
)


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
    # leak_trial = the verdict's probe (n_train = n_test = 2000, one-sided 95%) against a leaking encoder, detection
    # against chance + 0.02; a leak of best excess 0.1 is detected, none is not (seeds 1, 2).
    chance = float(class_probabilities(digits()).max())
    cfg = {"n_train": 2000, "n_test": 2000, "sigma": 1.0, "confidence": 0.95, "jitter": 0.05, "code_dim": 4,
           "chance": chance, "bound": chance + 0.02}
    assert leak_trial({**cfg, "rate": 0.1 / (1 - chance)}, 1)["detected"]
    assert not leak_trial({**cfg, "rate": 0.0}, 2)["detected"]


def test_the_leak_certificates_bracket_the_best_accuracy():
    """Both sides of a leaking encoder's certified best accuracy: the explicit rule behind the lower certificate
    (nearest leak centre outside the disc of radius 10 sigma, majority class inside) reaches it, and nothing beats
    the upper one. Statistical test: rate 0.3, n = 200,000 draws (seed 3); two-sided 99.9% Clopper-Pearson interval
    of the rule's accuracy must contain the certified value (within 1e-8 of the upper one)."""
    clean = digits(jitter=0.05)
    noise = NoiseModel(dim=64, code_dim=4)
    probs = class_probabilities(clean)
    chance = float(probs.max())
    rate, n = 0.3, 200_000
    lo, hi = leak_accuracy(rate, chance)
    assert hi == pytest.approx(rate + (1 - rate) * chance, abs=1e-15) and 0 < hi - lo < 1e-8
    g = torch.Generator().manual_seed(3)
    leaky = LabelLeakingEncoder(noise, rate=rate, n_classes=10, generator=g)
    x_clean, y = clean.sample(n, generator=g)
    z = torch.randn(n, 4, generator=g, dtype=torch.float64)
    c = leaky(noise.noised(x_clean, z), y)[:, :2]
    nearest = (c[:, None, :] - leaky.centres[None]).norm(dim=2).argmin(dim=1)
    guess = torch.where(c.norm(dim=1) > 10.0, nearest, torch.tensor(int(probs.argmax())))
    acc = clopper_pearson(int((guess == y).sum()), n, confidence=0.999)
    assert acc.ci_low <= lo <= hi <= acc.ci_high, (acc, lo, hi)
    assert math.isclose(leaky.excess(probs), hi - chance, rel_tol=1e-12)


@pytest.fixture(scope="module")
def quick_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("arz-codes")
    return run_claim("arz-codes", RunConfig(quick=True, seed=0, out_dir=out, progress=False))


def _rebuild(r) -> tuple[NearBoundaryControl, PowerCurve]:
    c = r.measurements["near_boundary_control"]
    control = NearBoundaryControl(**{k: c[k] for k in ("name", "truth_low", "truth_high", "lower_certificate",
                                                       "upper_certificate", "bound", "baseline", "direction")},
                                  measured=Estimate(**c["measured"]))
    keep = ("strengths", "detected", "repeats", "n", "bound", "baseline", "label", "confidence", "direction")
    res = {k: v for k, v in r.resolution.items() if k in keep}
    return control, PowerCurve(**{**res, "strengths": tuple(res["strengths"]), "detected": tuple(res["detected"])})


def test_the_bound_is_fixed_a_priori_and_the_resolution_is_measured_against_it(quick_result):
    r, m, s = quick_result, quick_result.measurements, Settings.quick()
    assert m["exact"]["holds"] and m["encoder_of_generator_is_identity"]
    assert not m["exact_control_pixel_reading"]["holds"]  # the exact check's control fails as it must
    chance = m["chance"]
    assert chance == pytest.approx(float(class_probabilities(digits()).max()), abs=0)
    # The bound is chance + the stated margin, whatever the power curve says.
    assert m["margin"] == s.margin and r.bound["value"] == chance + s.margin
    res = r.resolution
    assert res["bound"] == r.bound["value"] and res["baseline"] == chance and res["repeats"] == s.power_repeats
    assert [round((v - chance) / s.margin, 9) for v in res["strengths"]] == list(s.leak_factors)
    for (lo, hi), v in zip(m["power_truths"], res["strengths"], strict=True):
        assert lo <= hi == v and hi - lo < 1e-8  # each strength is its certified upper end
    # The control: certified from both sides, between 1.5 and 3 margins, attacked at the verdict's n and level.
    ctrl = m["near_boundary_control"]
    lo, hi = ctrl["ratio_interval"]
    assert NEAR_BOUNDARY[0] <= lo <= hi <= NEAR_BOUNDARY[1] and hi == pytest.approx(s.control_factor, rel=1e-9)
    assert ctrl["baseline"] == chance and ctrl["measured"]["n"] == s.n_test and ctrl["measured"]["sides"] == 1
    control, curve = _rebuild(r)
    check_decision_inputs(r.measured, r.bound["value"], control=control, resolution=curve, direction="upper")
    for bad in (dict(control=dataclasses.replace(control, measured=dataclasses.replace(control.measured, n=10))),
                dict(resolution=dataclasses.replace(curve, bound=chance + 2 * s.margin)),
                dict(resolution=dataclasses.replace(curve, confidence=0.9))):
        with pytest.raises(ValueError):
            decide(r.measured, r.bound["value"], direction="upper", **(dict(control=control, resolution=curve) | bad))
    assert r.verdict == decide(r.measured, r.bound["value"], control=control, resolution=curve)[0]  # exact part held
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
    ({"leak_factors": (2.0, 1.5)}, "leak_factors"),
    ({"leak_factors": (20.0, 50.0)}, "leak_factors"),  # more than the largest possible excess over chance
    ({"n_test": 20, "n_train": 20}, "n_test"),  # even the largest planted leak could not be detected
    ({"code_dim": 1}, "code_dim"),
    ({"margin": 0.0}, "margin"),
])
def test_impossible_settings_fail_before_any_computation(change, match):
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(Settings.quick(), **change)
