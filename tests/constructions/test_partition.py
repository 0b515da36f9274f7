"""GaussianBlockPartition: thresholds, exact block index, cell measures 1/m, uniform block frequencies, and
the restricted sampling of Lemma A.1 (Arora, Risteski & Zhang 2017, Theorem 3 / Lemma A.1)."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import special, stats

from ganlimits.constructions import GaussianBlockPartition, gaussian_thresholds
from ganlimits.constructions.strategies import partitions as partition_strategy

partitions = partition_strategy(max_k=6, max_code_dim=3, sigmas=(0.5, 1.0, 1.7))


def _abs_cdf(t, sigma):
    """F(t) = 2 Phi(t/sigma) - 1, written independently of the library (scipy.special.ndtr)."""
    return 2.0 * special.ndtr(np.asarray(t) / sigma) - 1.0


def _brute_digits(z: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """Digits by a Python loop over thresholds: #{j in 1..k-1 : |z_i| >= tau_j}."""
    k = tau.numel() - 1
    out = torch.zeros(z.shape, dtype=torch.int64)
    for j in range(1, k):
        out += (z.abs() >= tau[j]).to(torch.int64)
    return out


@pytest.mark.parametrize("k", [2, 3, 7, 100])
@pytest.mark.parametrize("sigma", [1.0, 2.5])
def test_thresholds_have_equal_mass(k, sigma):
    tau = gaussian_thresholds(k=k, sigma=sigma)
    assert tau.dtype == torch.float64 and tau.shape == (k + 1,)
    assert tau[0] == 0.0 and math.isinf(tau[k])
    assert bool((tau[1:] > tau[:-1]).all())
    F = _abs_cdf(tau[1:k].numpy(), sigma)
    np.testing.assert_allclose(F, np.arange(1, k) / k, rtol=0, atol=1e-14)


@given(partitions)
def test_cell_measure_is_one_over_m(p):
    idx = torch.arange(p.m)
    cm = p.cell_measure(idx)
    assert cm.dtype == torch.float64
    torch.testing.assert_close(cm, torch.full_like(cm, 1.0 / p.m), rtol=0, atol=1e-12)
    assert abs(float(cm.sum()) - 1.0) < 1e-12


def test_cell_measure_large_k():
    p = GaussianBlockPartition(k=1000, code_dim=1, sigma=3.0)
    cm = p.cell_measure(torch.arange(p.m))
    torch.testing.assert_close(cm, torch.full_like(cm, 1e-3), rtol=1e-10, atol=1e-12)


@given(partitions, st.integers(0, 2**31 - 1))
def test_index_matches_brute_force(p, seed):
    g = torch.Generator().manual_seed(seed)
    z = p.sample_codes(200, generator=g)
    d = p.digits(z)
    assert d.dtype == torch.int64
    assert torch.equal(d, _brute_digits(z, p.thresholds))
    idx = p.index(z)
    brute = sum(d[:, i] * p.k**i for i in range(p.code_dim))
    assert torch.equal(idx, brute)
    assert int(idx.min()) >= 0 and int(idx.max()) < p.m
    assert torch.equal(p.digits_of_index(idx), d)
    assert torch.equal(p.index(-z), idx)  # the sign is free inside a cell


def test_ties_count_as_upper_interval():
    # The step is 1[t >= tau_j]: a value exactly on tau_j has digit j; the float just below has digit j - 1.
    p = GaussianBlockPartition(k=5, code_dim=1)
    inner = p.thresholds[1:5]
    z = inner[:, None]
    assert p.digits(z)[:, 0].tolist() == [1, 2, 3, 4]
    below = torch.nextafter(inner, torch.zeros(4, dtype=torch.float64))[:, None]
    assert p.digits(below)[:, 0].tolist() == [0, 1, 2, 3]
    assert p.digits(-z)[:, 0].tolist() == [1, 2, 3, 4]
    extreme = torch.tensor([[0.0], [-0.0], [1e6], [-1e300], [5e-324]], dtype=torch.float64)
    assert p.digits(extreme)[:, 0].tolist() == [0, 0, 4, 4, 0]


def test_block_frequencies_chi_square():
    # Chi-square test of uniformity of block frequencies: k = 3, d' = 3 (m = 27), n = 27,000 codes, seed 7,
    # alpha = 1e-3. With the seed fixed the outcome is deterministic.
    p = GaussianBlockPartition(k=3, code_dim=3, sigma=1.5)
    g = torch.Generator().manual_seed(7)
    z = p.sample_codes(27_000, generator=g)
    counts = torch.bincount(p.index(z), minlength=p.m).numpy()
    pval = stats.chisquare(counts).pvalue
    assert pval > 1e-3, f"chi-square uniformity rejected: p = {pval:.3g} (n=27000, seed=7)"


def test_block_frequencies_chi_square_negative_control():
    # Control: codes drawn with the wrong std (1.3 sigma) must be rejected by the same test (alpha = 1e-3,
    # n = 27,000, seed 7).
    p = GaussianBlockPartition(k=3, code_dim=3, sigma=1.5)
    g = torch.Generator().manual_seed(7)
    z = 1.3 * p.sample_codes(27_000, generator=g)
    counts = torch.bincount(p.index(z), minlength=p.m).numpy()
    assert stats.chisquare(counts).pvalue < 1e-3


@given(partitions, st.integers(0, 2**31 - 1))
def test_sample_in_blocks_lands_in_block(p, seed):
    g = torch.Generator().manual_seed(seed)
    idx = torch.arange(p.m).repeat(3)
    z = p.sample_in_blocks(idx, generator=g)
    assert z.dtype == torch.float64 and z.shape == (3 * p.m, p.code_dim)
    assert bool(torch.isfinite(z).all())
    assert torch.equal(p.index(z), idx)


def _pooled_block_samples(p, n, seed, squeeze=False):
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, p.m, (n,), generator=g)
    z = p.sample_in_blocks(idx, generator=g)
    if squeeze:  # stays in its block, wrong law inside it: pull |z| half-way to the block's lower edge
        lo = p.thresholds[p.digits(z)]
        z = torch.sign(z) * (lo + 0.5 * (z.abs() - lo))
    return z


def test_sample_in_blocks_law():
    # A uniformly random block, then nu restricted to it, is nu itself (Lemma A.1). Kolmogorov-Smirnov test of
    # every coordinate against N(0, sigma^2): n = 20,000, seed 11, alpha = 1e-3 per coordinate.
    p = GaussianBlockPartition(k=4, code_dim=2, sigma=2.0)
    z = _pooled_block_samples(p, 20_000, seed=11)
    for i in range(p.code_dim):
        pval = stats.kstest(z[:, i].numpy(), "norm", args=(0.0, 2.0)).pvalue
        assert pval > 1e-3, f"KS rejected coordinate {i}: p = {pval:.3g} (n=20000, seed=11)"


def test_sample_in_blocks_law_negative_control():
    # Control: the same samples squeezed inside their blocks must be rejected (same KS test, n, seed, alpha).
    p = GaussianBlockPartition(k=4, code_dim=2, sigma=2.0)
    z = _pooled_block_samples(p, 20_000, seed=11, squeeze=True)
    assert torch.equal(p.index(z), p.index(_pooled_block_samples(p, 20_000, seed=11)))
    assert stats.kstest(z[:, 0].numpy(), "norm", args=(0.0, 2.0)).pvalue < 1e-3


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(k=1, code_dim=2), "k"),
        (dict(k=2.0, code_dim=2), "k"),
        (dict(k=3, code_dim=0), "code_dim"),
        (dict(k=2, code_dim=54), "code_dim"),  # 2**54 > 2**53
        (dict(k=10, code_dim=16), "code_dim"),  # 10**16 > 2**53
        (dict(k=3, code_dim=2, sigma=0.0), "sigma"),
        (dict(k=3, code_dim=2, sigma=float("nan")), "sigma"),
    ],
)
def test_bad_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        GaussianBlockPartition(**kwargs)


def test_largest_exact_m_is_accepted():
    p = GaussianBlockPartition(k=2, code_dim=53)
    assert p.m == 2**53
    z = torch.full((1, 53), 10.0, dtype=torch.float64)
    assert int(p.index(z)) == 2**53 - 1


def test_bad_inputs():
    p = GaussianBlockPartition(k=3, code_dim=2)
    g = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match="z must have shape"):
        p.index(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="z must have shape"):
        p.index(torch.zeros(4))
    for bad in (float("nan"), float("inf"), -float("inf")):
        with pytest.raises(ValueError, match="finite"):
            p.index(torch.tensor([[0.0, bad]]))
    with pytest.raises(ValueError, match="index"):
        p.cell_measure(torch.tensor([9]))
    with pytest.raises(ValueError, match="index"):
        p.sample_in_blocks(torch.tensor([-1]), generator=g)
    with pytest.raises(ValueError, match="index"):
        p.sample_in_blocks(torch.tensor([0.5]), generator=g)
    with pytest.raises(ValueError, match="generator"):
        p.sample_in_blocks(torch.tensor([0]), generator=None)
