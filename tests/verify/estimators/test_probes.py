"""Probes of verify/estimators/_probes.py: the chance level, the logistic probe and its one-sided leak test, the
memory-row detector, the reconstruction ratio and the inception score. Each statistical assertion names its test,
alpha, n and seed."""

import math

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.decomposition import PCA

from ganlimits.constructions import (
    FreshGenerator,
    HashedMemoryGenerator,
    LabelLeakingEncoder,
    NoisedTarget,
    NoiseExtractingEncoder,
    NoiseModel,
    class_probabilities,
    digits,
)
from ganlimits.verify.estimators import (
    chance_level,
    inception_score,
    leak_test,
    memory_row_detector,
    probe_accuracy,
    reconstruction_ratio,
)


def _noised(n, seed, code_dim=4):
    clean = digits(jitter=0.05)
    noise = NoiseModel(dim=clean.dim, code_dim=code_dim)
    x, labels = NoisedTarget(clean=clean, noise=noise).sample(n, generator=torch.Generator().manual_seed(seed))
    return x, labels, noise


# ---- chance and the probe ----------------------------------------------------------------------------------


def test_chance_level_is_the_majority_class_frequency():
    assert chance_level([0, 0, 1, 2]) == 0.5
    assert chance_level([3] * 7) == 1.0
    with pytest.raises(ValueError, match="test_labels"):
        chance_level([])


def test_probe_sees_a_meaningful_encoder_and_not_the_noise_code():
    # Train/test 1500/1500 draws of mu (seeds 11, 12), one-sided Clopper-Pearson 95%. The noise code's accuracy must
    # not be detected above the population chance level; a PCA-4 encoder of the clean positions must be, by far.
    x_tr, y_tr, noise = _noised(1500, 11)
    x_te, y_te, _ = _noised(1500, 12)
    chance = float(class_probabilities(digits()).max())
    encoder = NoiseExtractingEncoder(noise=noise)
    codes = leak_test(encoder(x_tr).numpy(), y_tr.numpy(), encoder(x_te).numpy(), y_te.numpy(), chance=chance)
    assert not codes["detected"] and codes["pvalue"] > 0.05, codes
    P = noise.clean_positions
    pca = PCA(n_components=4, svd_solver="full").fit(x_tr[:, P].numpy())
    leaky = leak_test(pca.transform(x_tr[:, P].numpy()), y_tr.numpy(), pca.transform(x_te[:, P].numpy()),
                      y_te.numpy(), chance=chance)
    assert leaky["detected"] and leaky["excess_low"] > 0.2, leaky


def test_leak_test_detects_a_planted_leak_and_its_pvalue_matches_the_limit():
    # Codes leaking the label at rate 0.2 (excess 0.2 (1 - max pi) = 0.18 over chance), n = 2000 each side,
    # seeds 1, 2, 3: detected at alpha = 0.05 one-sided; the exact binomial p-value is below 0.05 exactly when the
    # one-sided lower limit exceeds chance (the two views of the same test).
    clean = digits(jitter=0.05)
    noise = NoiseModel(dim=64, code_dim=4)
    chance = float(class_probabilities(clean).max())
    leaky = LabelLeakingEncoder(noise, rate=0.2, n_classes=10, generator=torch.Generator().manual_seed(3))
    x_tr, y_tr, _ = _noised(2000, 1)
    x_te, y_te, _ = _noised(2000, 2)
    out = leak_test(leaky(x_tr, y_tr).numpy(), y_tr.numpy(), leaky(x_te, y_te).numpy(), y_te.numpy(), chance=chance)
    assert out["detected"] and out["pvalue"] < 1e-6
    assert out["accuracy"].sides == 1
    for correct in range(150, 260, 5):
        lower = stats.beta.ppf(0.05, correct, 2000 - correct + 1)
        p = stats.binom.sf(correct - 1, 2000, chance)
        assert (lower > chance) == (p < 0.05), correct
    with pytest.raises(ValueError, match="chance"):
        leak_test(np.zeros((4, 2)), [0, 1, 0, 1], np.zeros((4, 2)), [0, 1, 0, 1], chance=1.5)


def test_probe_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="train_features"):
        probe_accuracy(np.zeros((4, 2)), [0, 1, 0, 1], np.zeros((4, 3)), [0, 1, 0, 1])


# ---- the memory-row detector -------------------------------------------------------------------------------


def test_memory_row_detector_sees_a_memorizing_generator_and_not_fresh_content():
    clean = digits(jitter=0.05)
    noise = NoiseModel(dim=64, code_dim=2)
    mu = NoisedTarget(clean=clean, noise=noise)
    G = HashedMemoryGenerator(clean, noise, k=300, seed=1)
    D = memory_row_detector(G)
    x, _ = mu.sample(500, generator=torch.Generator().manual_seed(0))
    z = torch.randn(500, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    code = NoiseExtractingEncoder(noise=noise)(x)
    assert float(D(x, code).sum()) == 0.0  # jittered content is never a memory row
    assert float(D(G(z), z).min()) == 1.0  # every generated image is
    fresh = FreshGenerator(clean, noise, torch.Generator().manual_seed(2))
    assert float(D(fresh(z), z).sum()) == 0.0  # negative control
    with pytest.raises(ValueError, match="noise"):
        memory_row_detector(lambda z: z)


# ---- reconstruction ratio ----------------------------------------------------------------------------------


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


def test_reconstruction_ratio_rejects_bad_input():
    with pytest.raises(ValueError, match="recon_distances"):
        reconstruction_ratio(np.ones(3), np.ones(4), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="finite"):
        reconstruction_ratio(np.array([1.0, np.nan]), np.ones(2), rng=np.random.default_rng(0))


# ---- inception score ---------------------------------------------------------------------------------------


def test_inception_score_values():
    one_hot = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    assert inception_score(one_hot) == pytest.approx(3.0, abs=1e-14)  # confident and balanced: the max
    assert inception_score(np.full((5, 3), 1 / 3)) == pytest.approx(1.0, abs=1e-14)  # no information
    collapsed = np.tile([0.98, 0.01, 0.01], (10, 1))  # negative control: one confident class scores 1, not 3
    assert inception_score(collapsed) == pytest.approx(1.0, abs=1e-14)
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(3), size=50)
    py = P.mean(0)
    want = math.exp(np.mean([sum(p[k] * math.log(p[k] / py[k]) for k in range(3)) for p in P]))
    assert inception_score(P) == pytest.approx(want, rel=1e-13)
    with pytest.raises(ValueError, match="sum to 1"):
        inception_score(np.array([[0.5, 0.2, 0.2]]))
