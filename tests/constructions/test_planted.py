"""Planted cases (constructions/_planted.py): each is what it claims to be, exactly where that is exact and by a
stated test where it is a law. Every statistical assertion names its test, alpha, n and seed."""

import math

import numpy as np
import pytest
import torch
from scipy import special, stats

from ganlimits.constructions import (
    CodeDependentGenerator,
    ContaminatedTarget,
    FreshGenerator,
    HashedMemoryGenerator,
    LabelLeakingEncoder,
    NoiseExtractingEncoder,
    NoiseModel,
    PlantedMixture,
    class_probabilities,
    digits,
    gaussian_mixture,
    memorizing_generator,
    mixture_1200d,
    support_one_generator,
)
from ganlimits.constructions._planted import _uniforms

ALPHA = 1e-3  # per statistical assertion below


def _codes(n, d_code, seed):
    return torch.randn(n, d_code, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _atoms():
    """Four point masses in R^6 (std 0): a draw's content identifies its component exactly."""
    means = torch.arange(24, dtype=torch.float64).reshape(4, 6) + 1.0
    return gaussian_mixture(means=means, std=0.0, weights=[0.1, 0.2, 0.3, 0.4])


# ---- the memorizing generators ----------------------------------------------------------------------------


@pytest.mark.parametrize("k,d_code", [(2, 1), (3, 2), (5, 2), (2, 3)])
def test_hashed_memory_generator_is_the_ideal_generator_with_its_rows(k, d_code):
    clean = digits(jitter=0.05)
    noise = NoiseModel(dim=clean.dim, code_dim=d_code)
    G = HashedMemoryGenerator(clean, noise, k=k, seed=11)
    ideal = G.materialize()
    p = G.partition
    z = torch.cat([_codes(500, d_code, 1), p.sample_in_blocks(torch.arange(p.m), generator=torch.Generator())])
    assert torch.equal(G(z), ideal(z))  # bit for bit
    assert torch.equal(NoiseExtractingEncoder(noise=noise)(G(z)), z)
    assert torch.equal(G.memory_rows([0, 1]), HashedMemoryGenerator(clean, noise, k=k, seed=11).memory_rows([0, 1]))
    assert not torch.equal(G.memory_rows([0]), HashedMemoryGenerator(clean, noise, k=k, seed=12).memory_rows([0]))


def test_hashed_memory_rows_have_the_target_law():
    # The 1200-d mixture: component frequencies of m = 40,000 rows against the weights (chi-square, alpha 1e-3,
    # seed 5), and the active coordinates' standardised noise against N(0, 1) (Kolmogorov-Smirnov on 200,000 values,
    # alpha 1e-3); inactive coordinates equal the component mean exactly.
    big = mixture_1200d()
    G = HashedMemoryGenerator(big, NoiseModel(dim=1200, code_dim=2), k=200, seed=5)
    comps = G.components(np.arange(G.m))
    counts = np.bincount(comps, minlength=10)
    assert stats.chisquare(counts, G.m * big.weights.numpy()).pvalue > ALPHA
    rows = G.memory_rows(torch.arange(300))
    means = big.means[torch.from_numpy(comps[:300])]
    assert torch.equal(rows[:, 700:], means[:, 700:])
    eps = (rows[:, :700] - means[:, :700]).flatten().numpy()[:200_000]
    assert stats.kstest(eps, "norm").pvalue > ALPHA


def test_hashed_uniforms_are_uniform_and_in_the_open_interval():
    # Kolmogorov-Smirnov against U(0, 1) on 100,000 consecutive counters, alpha 1e-3, key 7.
    u = _uniforms(np.uint64(7), np.arange(100_000, dtype=np.uint64))
    assert 0 < u.min() and u.max() < 1
    assert stats.kstest(u, "uniform").pvalue > ALPHA


def test_coverage_counts_the_components_of_all_rows_exactly():
    clean = digits(jitter=0.05)
    G = HashedMemoryGenerator(clean, NoiseModel(dim=64, code_dim=2), k=40, seed=3)
    counts = np.bincount(G.components(np.arange(G.m)), minlength=1797)
    cov = G.coverage(chunk=333)
    assert cov["covered"] == int((counts > 0).sum()) and cov["max_copies"] == int(counts.max())
    assert cov["m"] == 1600 and cov["components"] == 1797
    assert math.isclose(cov["mean_copies"], 1600 / cov["covered"])


def test_memorizing_support_one_and_fresh_generators():
    clean = digits(jitter=0.05)
    noise = NoiseModel(dim=64, code_dim=2)
    z = _codes(300, 2, 2)
    G = memorizing_generator(clean, noise, k=4, generator=torch.Generator().manual_seed(0))
    assert len(torch.unique(G(z)[:, noise.clean_positions], dim=0)) <= 16
    one = support_one_generator(clean, noise, generator=torch.Generator().manual_seed(0))
    assert len(torch.unique(one(z)[:, noise.clean_positions], dim=0)) == 1
    fresh = FreshGenerator(clean, noise, torch.Generator().manual_seed(0))
    assert len(torch.unique(fresh(z)[:, noise.clean_positions], dim=0)) == 300
    for gen in (G, one, fresh):
        assert torch.equal(NoiseExtractingEncoder(noise=noise)(gen(z)), z)


# ---- the code-dependent generator -------------------------------------------------------------------------


def test_code_dependent_generator_chooses_the_content_by_the_code_exactly():
    target = _atoms()
    noise = NoiseModel(dim=6, code_dim=2)
    G = CodeDependentGenerator(target, noise, generator=torch.Generator().manual_seed(0), classes=(0, 1))
    assert math.isclose(G.p, 0.3, rel_tol=1e-12)
    assert math.isclose(G.threshold, float(special.ndtri(0.65)), rel_tol=1e-12)  # Pr[|z| < q] = 0.3
    assert math.isclose(G.tv_upper_bound, 2 * 0.3 * 0.7, rel_tol=1e-12)
    z = _codes(4000, 2, 3)
    x = G(z)
    assert torch.equal(NoiseExtractingEncoder(noise=noise)(x), z)
    content = x[:, noise.clean_positions]
    comp = (content[:, :1] - target.means[:, noise.clean_positions][:, 0]).abs().argmin(dim=1)
    small = z[:, 0].abs() < G.threshold
    assert bool((comp[small] <= 1).all()) and bool((comp[~small] >= 2).all())
    # Marginal of the content = the target's: component frequencies, chi-square, alpha 1e-3, n = 4000, seed 3.
    counts = np.bincount(comp.numpy(), minlength=4)
    assert stats.chisquare(counts, 4000 * np.array([0.1, 0.2, 0.3, 0.4])).pvalue > ALPHA


def test_code_dependent_generator_on_digits_has_the_digit_marginal():
    clean = digits(jitter=0.05)
    G = CodeDependentGenerator(clean, NoiseModel(dim=64, code_dim=2), generator=torch.Generator())
    probs = class_probabilities(clean)
    assert math.isclose(G.p, probs[:5].sum(), rel_tol=1e-12) and math.isclose(probs.sum(), 1.0, rel_tol=1e-12)
    with pytest.raises(ValueError, match="classes"):
        CodeDependentGenerator(clean, NoiseModel(dim=64, code_dim=2), generator=torch.Generator(),
                               classes=tuple(range(10)))


def test_planted_mixture_uses_its_rate():
    target = _atoms()
    noise = NoiseModel(dim=6, code_dim=2)
    a = support_one_generator(target, noise, generator=torch.Generator().manual_seed(1))
    first = a(_codes(1, 2, 0))[0, noise.clean_positions]
    b = FreshGenerator(target, noise, torch.Generator().manual_seed(2))
    z = _codes(5000, 2, 4)
    for rate in (0.0, 1.0):
        out = PlantedMixture(a, b, rate=rate, generator=torch.Generator().manual_seed(3))(z)
        same = (out[:, noise.clean_positions] == first).all(dim=1)
        assert bool(same.all()) if rate == 0 else float(same.float().mean()) < 0.5
    # Rate 0.3: the share of rows from the planted part, two-sided binomial test, alpha 1e-3, n = 5000, seed 3.
    mix = PlantedMixture(a, _Marker(), rate=0.3, generator=torch.Generator().manual_seed(3))
    planted = int((mix(z)[:, 0] == -1.0).sum())
    assert stats.binomtest(planted, 5000, 0.3).pvalue > ALPHA
    with pytest.raises(ValueError, match="rate"):
        PlantedMixture(a, b, rate=1.5, generator=torch.Generator())


class _Marker:
    def __call__(self, z):
        return torch.full((z.shape[0], 6), -1.0, dtype=torch.float64)


# ---- encoders and samplers ---------------------------------------------------------------------------------


def test_label_leaking_encoder_writes_the_label_at_its_rate():
    clean = digits(jitter=0.05)
    noise = NoiseModel(dim=64, code_dim=4)
    x, labels = clean.sample(3000, generator=torch.Generator().manual_seed(0))
    z = _codes(3000, 4, 1)
    xn = noise.noised(x, z)
    none = LabelLeakingEncoder(noise, rate=0.0, n_classes=10, generator=torch.Generator())
    assert torch.equal(none(xn, labels), z)
    full = LabelLeakingEncoder(noise, rate=1.0, n_classes=10, generator=torch.Generator())
    assert torch.allclose(full(xn, labels)[:, :2] - z[:, :2], full.centres[labels], rtol=0, atol=1e-12)
    assert torch.equal(full(xn, labels)[:, 2:], z[:, 2:])
    some = LabelLeakingEncoder(noise, rate=0.2, n_classes=10, generator=torch.Generator().manual_seed(5))
    leaked = int(((some(xn, labels) - z).abs().sum(dim=1) > 0).sum())
    assert stats.binomtest(leaked, 3000, 0.2).pvalue > ALPHA  # two-sided binomial, alpha 1e-3, n 3000, seed 5
    probs = class_probabilities(clean)
    assert math.isclose(some.excess(probs), 0.2 * (1 - probs.max()), rel_tol=1e-12)
    # Neighbouring class centres are 2 r sin(pi / 10) apart: more than 12 sigma for r = 20.
    assert 2 * 20 * math.sin(math.pi / 10) > 12
    with pytest.raises(ValueError, match="code_dim"):
        LabelLeakingEncoder(NoiseModel(dim=64, code_dim=1), rate=0.1, n_classes=10, generator=torch.Generator())


def test_contaminated_target_replaces_draws_at_its_rate():
    clean = digits(jitter=0.05)
    image = torch.full((64,), 0.5, dtype=torch.float64)
    biased = ContaminatedTarget(clean, rate=0.25, image=image)
    x, labels = biased.sample(4000, generator=torch.Generator().manual_seed(9))
    replaced = (x == image).all(dim=1)
    assert torch.equal(replaced, labels == -1)
    assert stats.binomtest(int(replaced.sum()), 4000, 0.25).pvalue > ALPHA  # alpha 1e-3, n 4000, seed 9
    with pytest.raises(ValueError, match="image"):
        ContaminatedTarget(clean, rate=0.1, image=torch.zeros(3))
