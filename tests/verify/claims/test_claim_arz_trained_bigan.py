"""Claim arz-trained-bigan (Arora, Risteski & Zhang 2017, Theorem 1, on trained ALI/BiGAN pairs): the planted leaking
encoder's true rate, the probe catching it at the verdict's n, determinism of a trial, the code classification rule and
the settings' checks. Procedure, not outcome: no assertion on the verdict string."""

import dataclasses
import math

import numpy as np
import pytest
import torch
from scipy import stats

from ganlimits.constructions import LabelLeakingEncoder, class_probabilities, digits
from ganlimits.verify import Estimate, RunConfig, run_claim
from ganlimits.verify.claims._common import NEAR_BOUNDARY
from ganlimits.verify.claims._trained_bigan import build_world, leak_trial, pair_trial, train_pair
from ganlimits.verify.claims.arz_trained_bigan import Settings, classify_codes
from ganlimits.verify.estimators import clopper_pearson
from ganlimits.verify.lab import LabConfig

CHANCE = float(class_probabilities(digits()).max())


def _world():
    return build_world({"target": "digits", "code_dim": 2, "jitter": 0.05})


def test_the_leaking_encoder_leaks_at_its_stated_rate():
    # Exact binomial test (two-sided, alpha = 1e-3) that the share of leaked codes is rho = 0.3, n = 20,000, seed 0:
    # a leaked code differs from the noise coordinates of x, an unleaked one equals them bit for bit.
    target, _, w = _world()
    rho, n = 0.3, 20_000
    g = torch.Generator().manual_seed(0)
    leaky = LabelLeakingEncoder(w.noise, rate=rho, n_classes=10, generator=torch.Generator().manual_seed(1))
    x, y = target.sample(n, generator=g)
    code = leaky(x, y)
    leaked = (code != w.noise.extract(x)).any(dim=1)
    k = int(leaked.sum())
    assert stats.binomtest(k, n, rho).pvalue > 1e-3, (k, n, rho)
    # the leaked codes sit at the label's centre (radius 20 sigma) up to the N(0, 1) noise: the Bayes rule (nearest
    # centre when leaked, else the majority class) reaches rho + (1 - rho) max_c pi_c; Clopper-Pearson at 99.9%,
    # n = 20,000 fresh draws, seed 2
    g2 = torch.Generator().manual_seed(2)
    x, y = target.sample(n, generator=g2)
    code = leaky(x, y)
    far = torch.linalg.vector_norm(code[:, :2], dim=1) > 10
    nearest = torch.cdist(code[:, :2], leaky.centres).argmin(dim=1)
    majority = int(np.argmax(class_probabilities(digits())))
    guess = torch.where(far, nearest, torch.full_like(nearest, majority))
    truth = rho + (1 - rho) * CHANCE
    ci = clopper_pearson(int((guess == y).sum()), n, confidence=0.999)
    assert ci.ci_low <= truth <= ci.ci_high, (ci, truth)
    assert leaky.excess(class_probabilities(digits())) == pytest.approx(rho * (1 - CHANCE), abs=1e-15)


def test_the_probe_catches_a_near_boundary_leak_and_not_the_absence_of_one():
    # leak_trial = the verdict's probe (quick n_train = n_test = 2000, one-sided 95% Clopper-Pearson) against the
    # leaking encoder: an excess of 2.2 x 0.03 (the quick margin measured at seed 0) over chance is caught (lower limit
    # above chance + 0.03), seed 11; no leak is not detected (lower limit not above chance), seed 12.
    s = Settings.quick()
    cfg = {"target": "digits", "code_dim": 2, "jitter": 0.05, "n_train": s.n_train, "n_test": s.n_test,
           "confidence": 0.95}
    margin = 0.03
    caught = leak_trial({**cfg, "rate": 2.2 * margin / (1 - CHANCE), "bound": CHANCE + margin}, 11)
    assert caught["detected"], caught
    none = leak_trial({**cfg, "rate": 0.0, "bound": CHANCE}, 12)
    assert not none["detected"], none


def _tiny_cfg(target: str) -> dict:
    attack = {"hidden": (4,), "weight_norm": 8.0, "bias_bound": 2.0, "K_random": 2, "K_trained": 1, "n_train": 300,
              "n_test": 600, "steps": 5, "lr": 0.02, "batch_size": 100, "init_norm": 2.0, "confidence": 0.95}
    return {"target": target, "code_dim": 2, "jitter": 0.05, "n_train": 300, "n_test": 300, "confidence": 0.95,
            "n_recon": 200, "bootstrap": 100, "steps": 20,
            "lab": {"noise_dim": 2, "width": 16, "depth": 1, "batch_size": 32, "lr_g": 1e-3, "lr_d": 1e-3,
                    "beta1": 0.5, "lr_schedule": "linear"},
            "attack": attack, "strong": {**attack, "hidden": (4, 4)}, "reference_n": 256, "n_sizes": 3,
            "pilot_repeats": 2, "repeats": 4, "max_size": 64, "calibration_draws": 100, "n_eval": 200}


@pytest.mark.parametrize("target", ["digits", "grid"])
def test_a_trial_is_deterministic(target):
    a = pair_trial(_tiny_cfg(target), 5)
    b = pair_trial(_tiny_cfg(target), 5)
    a.pop("train_s"), b.pop("train_s")
    assert a == b
    assert a["probe"]["codes"]["accuracy"]["n"] == 300 and a["gap"]["sides"] == 1


def test_training_is_bit_identical_for_a_seed_and_a_frozen_generator_does_not_move():
    target, _, _ = _world()
    cfg = LabConfig(width=16, depth=1, noise_dim=2, batch_size=32)
    z = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    G1, E1, _, _ = train_pair(target, steps=15, seed=3, config=cfg)
    G2, E2, _, _ = train_pair(target, steps=15, seed=3, config=cfg)
    assert torch.equal(G1(z), G2(z)) and torch.equal(E1(G1(z)), E2(G2(z)))
    frozen = dataclasses.replace(cfg, lr_g=0.0)
    G0, _, _, _ = train_pair(target, steps=1, seed=3, config=frozen)
    Gs, _, _, _ = train_pair(target, steps=15, seed=3, config=frozen)
    assert torch.equal(G0(z), Gs(z))  # lr_g = 0: the generator keeps its initial weights
    assert not torch.equal(G1(z), Gs(z))


def test_codes_are_classified_by_the_one_sided_limits():
    b = 0.13
    assert classify_codes(Estimate(0.2, 0.18, 0.22, 0.95, 2000, sides=1), b) == "informative"
    assert classify_codes(Estimate(0.1, 0.09, 0.12, 0.95, 2000, sides=1), b) == "uninformative"
    assert classify_codes(Estimate(0.13, 0.12, 0.14, 0.95, 2000, sides=1), b) == "undetermined"


@pytest.mark.parametrize("field, value, match", [
    ("seeds", 0, "seeds"),
    ("witness_ks", (4, 2), "witness_ks"),
    ("witness_ks", (1, 4), "witness_ks"),
    ("mixture", "moons", "mixture"),
    ("control_factor", 5.0, "control_factor"),
    ("leak_excess", (0.02, 0.01), "leak_excess"),
    ("leak_excess", (0.01, 0.45), "leak_excess"),
    ("reference_n", 100, "reference_n"),
    ("code_dim", 1, "code_dim"),
    ("lr_schedule", "cosine", "lr_schedule"),
    ("eps", -0.1, "eps"),
])
def test_bad_settings_name_the_field(field, value, match):
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(Settings.quick(), **{field: value})


def test_a_stronger_attacker_without_hidden_layers_is_refused():
    s = Settings.quick()
    with pytest.raises(ValueError, match="strong.hidden"):
        dataclasses.replace(s, strong=dataclasses.replace(s.strong, hidden=()))


@pytest.mark.slow
def test_quick_run_records_control_margin_and_witness(tmp_path):
    r = run_claim("arz-trained-bigan", RunConfig(quick=True, seed=0, out_dir=tmp_path, progress=False))
    m = r.measurements
    res = r.resolution
    assert res is not None and res["n"] == Settings.quick().n_test
    # margin = (smallest planted leak detected with 80% power) - chance; the control sits 2.2 margins above chance
    assert m["margin"] == pytest.approx(res["resolution"] - m["chance"], abs=1e-15)
    ctrl = m["near_boundary_control"]
    assert NEAR_BOUNDARY[0] <= ctrl["ratio"] <= NEAR_BOUNDARY[1] and ctrl["measured"]["n"] == Settings.quick().n_test
    # the matched witness is the grid point whose gap is nearest the trained pairs' mean gap
    w = m["witness"]
    gaps = [float(row["gap"]["estimate"]) for row in w["grid"]]
    assert w["matched_m"] == w["grid"][int(np.argmin([abs(g - m["trained_gap_mean"]) for g in gaps]))]["m"]
    assert (tmp_path / "arz-trained-bigan-table.md").exists() and math.isfinite(m["trained_gap_mean"])
