"""Claim arz-codes (Arora, Risteski & Zhang 2017, Theorem 1 part (b)): the noise encoder's codes are at chance
for a label probe, a meaningful encoder is not, the reconstruction ratio and its oracle control, and the quick
claim run (verdict, determinism)."""

from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from ganlimits.constructions import NoisedTarget, NoiseExtractingEncoder, NoiseModel, digits
from ganlimits.verify import RunConfig, run_claim
from ganlimits.verify.claims.arz_codes import CHANCE_MARGIN, POWER_MARGIN
from ganlimits.verify.estimators import chance_level, probe_accuracy, reconstruction_ratio


def _noised(n, seed, code_dim=4):
    clean = digits(jitter=0.05)
    noise = NoiseModel(dim=clean.dim, code_dim=code_dim)
    target = NoisedTarget(clean=clean, noise=noise)
    x, labels = target.sample(n, generator=torch.Generator().manual_seed(seed))
    return x, labels, noise


def test_chance_level_is_the_majority_class_frequency():
    assert chance_level([0, 0, 1, 2]) == 0.5
    assert chance_level([3] * 7) == 1.0
    with pytest.raises(ValueError, match="test_labels"):
        chance_level([])


def test_noise_codes_probe_at_chance_and_a_meaningful_encoder_is_caught():
    # Train/test 1500/1500 draws of mu (seeds 11, 12), Clopper-Pearson 95%. The noise code must have its upper
    # limit <= chance + CHANCE_MARGIN; a meaningful 4-d encoder (PCA of the clean positions of x) must have
    # its lower limit > chance + POWER_MARGIN — the probe has power.
    x_tr, y_tr, noise = _noised(1500, 11)
    x_te, y_te, _ = _noised(1500, 12)
    encoder = NoiseExtractingEncoder(noise=noise)
    codes = probe_accuracy(encoder(x_tr).numpy(), y_tr.numpy(), encoder(x_te).numpy(), y_te.numpy())
    assert codes["accuracy"].ci_high <= codes["chance"] + CHANCE_MARGIN, codes
    P = noise.clean_positions
    pca = PCA(n_components=4, svd_solver="full").fit(x_tr[:, P].numpy())
    leaky = probe_accuracy(pca.transform(x_tr[:, P].numpy()), y_tr.numpy(), pca.transform(x_te[:, P].numpy()),
                           y_te.numpy())
    assert leaky["accuracy"].ci_low > leaky["chance"] + POWER_MARGIN, leaky


def test_probe_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="train_features"):
        probe_accuracy(np.zeros((4, 2)), [0, 1, 0, 1], np.zeros((4, 3)), [0, 1, 0, 1])


def test_reconstruction_ratio_exact_cases():
    rng = np.random.default_rng(0)
    b = rng.exponential(size=500)
    same = reconstruction_ratio(b, b, rng=np.random.default_rng(1))
    assert same.estimate == 1.0 and same.ci_low == 1.0 and same.ci_high == 1.0  # every resample gives 1
    zero = reconstruction_ratio(np.zeros(500), b, rng=np.random.default_rng(1))
    assert (zero.estimate, zero.ci_low, zero.ci_high) == (0.0, 0.0, 0.0)
    a = b + rng.exponential(size=500)
    once = reconstruction_ratio(a, b, rng=np.random.default_rng(2))
    twice = reconstruction_ratio(a, b, rng=np.random.default_rng(2))
    assert once.to_dict() == twice.to_dict()  # same data, same seed: identical interval
    assert once.ci_low > 1.0  # a_i > b_i for every i, so every resampled ratio exceeds 1


def test_reconstruction_ratio_covers_a_known_ratio():
    # a ~ Exp(mean 2), b ~ Exp(mean 1) independent, n = 4000 (seed 3): true ratio 2; percentile bootstrap
    # 95% (B = 2000, seed 4) must cover it.
    rng = np.random.default_rng(3)
    est = reconstruction_ratio(rng.exponential(2.0, size=4000), rng.exponential(1.0, size=4000),
                               rng=np.random.default_rng(4))
    assert est.ci_low <= 2.0 <= est.ci_high, est


def test_reconstruction_ratio_rejects_bad_input():
    with pytest.raises(ValueError, match="recon_distances"):
        reconstruction_ratio(np.ones(3), np.ones(4), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="finite"):
        reconstruction_ratio(np.array([1.0, np.nan]), np.ones(2), rng=np.random.default_rng(0))


def test_quick_claim_is_consistent_with_both_controls_caught_and_deterministic(tmp_path: Path):
    first = run_claim("arz-codes", RunConfig(quick=True, seed=0, out_dir=tmp_path, progress=False))
    assert first.verdict == "consistent", first.notes
    assert first.control_caught is True
    m = first.measurements
    assert m["pca_caught"] and m["oracle_caught"] and m["probe_at_chance"] and m["reconstruction_at_baseline"]
    assert m["encoder_of_generator_is_identity"] is True
    assert m["oracle_ratio"]["ci_high"] == 0.0  # x~ ⊙ E(x) = x exactly
    assert (tmp_path / "arz-codes_probe.png").exists()
    second = run_claim("arz-codes", RunConfig(quick=True, seed=0, out_dir=tmp_path / "again", progress=False,
                                              figures=False))
    a, b = first.to_dict(), second.to_dict()
    for key in ("measured", "control", "bound", "measurements", "verdict", "params"):
        assert a[key] == b[key], key
