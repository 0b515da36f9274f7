"""The mixture of T Gaussians folded into one ReLU network by a selector (Arora et al. 2017, Theorem 4.3)."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from ganlimits.constructions import (
    FoldedMixtureGenerator,
    Selector,
    gaussian_mixture,
    grid,
    mixture_generator_from_sample,
    mixture_generator_from_target,
)
from ganlimits.verify import clopper_pearson


def _centres(T, d, seed):
    g = torch.Generator().manual_seed(seed)
    return 3.0 * torch.randn(T, d, dtype=torch.float64, generator=g)


def _seeds(gen, n, seed):
    return gen.sample_seeds(n, generator=torch.Generator().manual_seed(seed))


def _ramp_width(T):
    """A wide ramp (a quarter of the smallest gap) so that both ramp and off-ramp seeds are common."""
    tau = torch.from_numpy(np.asarray(stats.norm.ppf(np.arange(1, T) / T)))
    return 0.25 * float(torch.diff(tau).min()) if T > 2 else 0.3


@pytest.mark.parametrize(("T", "d"), [(1, 1), (1, 3), (2, 1), (5, 3), (40, 2)])
def test_network_equals_the_ideal_mixture_bit_for_bit_off_the_ramps(T, d):
    gen = FoldedMixtureGenerator(centres=_centres(T, d, seed=T), std=0.7, width=_ramp_width(T))
    h, g = _seeds(gen, 4000, seed=1)
    out, ideal = gen(h, g), gen.target(h, g)
    ramp = gen.ramp_mask(h)
    reach = 0.7 * g.abs().max(dim=1).values + float(gen.centres.abs().max())
    assert bool((reach < gen.K).all())  # the gate holds on every row of this sample (default K, tail 1e-12)
    assert torch.equal(out[~ramp], ideal[~ramp])  # exact: the selector is exactly one-hot off its ramps
    if T > 1:
        assert int(ramp.sum()) > 0
        # on a ramp the output is a blend of two neighbours: it differs from G (the mismatch event)
        assert bool((out[ramp] != ideal[ramp]).any(dim=1).all())
    else:
        assert int(ramp.sum()) == 0 and gen.mismatch_probability() == 0.0


@given(
    T=st.integers(1, 12),
    d=st.integers(1, 4),
    std=st.floats(0.01, 5.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_off_ramp_exactness_and_fast_path(T, d, std, seed):
    gen = FoldedMixtureGenerator(centres=_centres(T, d, seed), std=std, tv_budget=0.999)  # delta must lie in (0, 1)
    h, g = _seeds(gen, 300, seed + 1)
    # put a third of the seeds right on the ramps and their edges, where the fast path must defer
    if T > 1:
        tau = gen.thresholds[torch.arange(100) % (T - 1)]
        offsets = torch.linspace(-0.6, 0.6, 100, dtype=torch.float64) * gen.width
        h[:100] = tau + offsets
    out = gen(h, g)
    assert torch.equal(gen.fast(h, g), out)  # the O(n d) path is the same function, bit for bit
    ramp = gen.ramp_mask(h)
    assert torch.equal(out[~ramp], gen.target(h, g)[~ramp])


def test_ramp_mask_is_the_selectors_own_test():
    gen = FoldedMixtureGenerator(centres=_centres(30, 1, 0), std=1.0, width=0.01)
    tau = gen.thresholds
    edges = torch.cat([tau, tau - gen.width / 2, tau + gen.width / 2, tau - 0.4999 * gen.width,
                       tau + 0.5001 * gen.width, torch.tensor([-40.0, 40.0], dtype=torch.float64)])
    h = torch.cat([edges, torch.randn(5000, dtype=torch.float64, generator=torch.Generator().manual_seed(3))])
    assert isinstance(gen.selector, Selector)  # the circuit of constructions._circuits, reused
    assert torch.equal(gen.ramp_mask(h), gen.selector.ramp_mask(h))
    assert torch.equal(gen.component(h), gen.selector.interval(h))


@pytest.mark.parametrize(("T", "d"), [(1, 1), (1, 5), (2, 1), (7, 3), (64, 2)])
def test_num_nonzero_weights_equals_the_formula(T, d):
    c = _centres(T, d, seed=2)
    c[0, 0] = 0.0  # a zero centre is a zero bias, not a missing edge
    gen = FoldedMixtureGenerator(centres=c, std=0.5)
    # selector: 5 (T - 1) edges (shift, scale, flip per threshold, 2 out-edges); then per unit (2 T d of them)
    # one edge from g (±s), one gate edge (K, absent for T = 1) and one output edge (±1)
    expected = 4 * d if T == 1 else 5 * (T - 1) + 6 * T * d
    assert gen.num_nonzero_weights() == expected
    largest = max(1.0 / gen.width, gen.K, 0.5, 1.0) if T > 1 else 1.0  # slopes 1/w, gate K, s, output ±1
    assert gen.max_abs_weight() == pytest.approx(largest, rel=1e-15)


def test_exact_ramp_mass_against_monte_carlo_ramp_hits():
    # Clopper-Pearson, alpha = 1e-3, n = 400,000 selector seeds, seed 11.
    gen = FoldedMixtureGenerator(centres=_centres(10, 1, 0), std=1.0, width=0.05)
    h = torch.randn(400_000, dtype=torch.float64, generator=torch.Generator().manual_seed(11))
    hits = int(gen.ramp_mask(h).sum())
    ci = clopper_pearson(hits, h.numel(), confidence=0.999)
    exact = gen.ramp_mass()
    assert ci.ci_low <= exact <= ci.ci_high, (hits, exact, ci)
    assert exact <= gen.ramp_bound()  # Lemma 3: q w / sqrt(2 pi)
    # negative control: Lemma 3's bound itself lies outside the interval (it is loose by the density ratio)
    assert not ci.ci_low <= gen.ramp_bound() <= ci.ci_high


def test_exact_mismatch_probability_with_a_failing_gate_against_monte_carlo():
    # A gate K only 1.5 s above the largest |centre| fails often; the exact Pr[G^ != G] (ramp mass + gate
    # failure) must match the Monte Carlo frequency of mismatched rows. Clopper-Pearson, alpha = 1e-3,
    # n = 60,000, seed 12.
    c = _centres(5, 2, seed=4)
    K = float(c.abs().max()) + 1.5 * 0.8
    gen = FoldedMixtureGenerator(centres=c, std=0.8, width=0.1, K=K)
    h, g = _seeds(gen, 60_000, seed=12)
    mismatched = int((gen(h, g) != gen.target(h, g)).any(dim=1).sum())
    ci = clopper_pearson(mismatched, 60_000, confidence=0.999)
    exact = gen.mismatch_probability()
    assert 0.02 < gen.gate_failure_probability() < exact
    assert ci.ci_low <= exact <= ci.ci_high, (mismatched, exact, ci)
    # negative control: the ramp mass alone does not explain the mismatches
    assert gen.ramp_mass() < ci.ci_low


def _chi_square_uniform(counts):
    return stats.chisquare(counts).pvalue


def test_component_frequencies_are_uniform():
    # chi-square goodness of fit of the component the NETWORK selects (argmax of its selector output),
    # alpha = 1e-3, n = 80,000, T = 16, seed 13.
    gen = FoldedMixtureGenerator(centres=_centres(16, 1, 0), std=1.0)
    h, _ = _seeds(gen, 80_000, seed=13)
    chosen = gen.selector_output(h).argmax(dim=1)
    counts = torch.bincount(chosen, minlength=16).numpy()
    assert _chi_square_uniform(counts) > 1e-3, counts


def test_negative_control_a_shifted_threshold_is_caught():
    gen = FoldedMixtureGenerator(centres=_centres(16, 2, 0), std=1.0)
    tau = gen.thresholds.clone()
    tau[7] += 0.1  # one threshold moved: components 7 and 8 no longer have mass 1/16
    gen.selector = Selector(thresholds=tau, width=gen.width)
    h, g = _seeds(gen, 80_000, seed=13)
    counts = torch.bincount(gen.selector_output(h).argmax(dim=1), minlength=16).numpy()
    assert _chi_square_uniform(counts) < 1e-3  # same test, alpha = 1e-3, n = 80,000, seed 13: rejected
    # and the exactness check sees rows off the ramps where the network leaves the intended mixture
    off = ~gen.selector.ramp_mask(h)
    wrong = (gen(h[off], g[off]) != gen.target(h[off], g[off])).any(dim=1)
    assert int(wrong.sum()) > 0
    assert bool((h[off][wrong] >= gen.thresholds[7]).all() and (h[off][wrong] < tau[7]).all())


def test_negative_control_a_wrong_gate_is_caught():
    c = _centres(8, 2, seed=5)
    gen = FoldedMixtureGenerator(centres=c, std=0.5, K=0.5 * float(c.abs().max()))
    assert gen.mismatch_probability() > 0.5  # reported, exactly
    h, g = _seeds(gen, 2000, seed=6)
    off = ~gen.ramp_mask(h)
    bad = (gen(h, g) != gen.target(h, g))[off].any(dim=1)
    assert float(bad.float().mean()) > 0.5


def test_sample_matches_the_network_and_labels_are_components():
    gen = FoldedMixtureGenerator(centres=_centres(6, 3, 1), std=0.3)
    x, labels = gen.sample(500, generator=torch.Generator().manual_seed(9))
    h, g = _seeds(gen, 500, seed=9)  # same draw order: h then g
    assert torch.equal(x, gen(h, g)) and torch.equal(labels, gen.component(h))
    assert x.dtype == torch.float64 and labels.dtype == torch.int64 and x.shape == (500, 3)


def test_default_width_is_the_theorems_and_mismatch_is_below_delta():
    gen = FoldedMixtureGenerator(centres=_centres(50, 2, 0), std=0.2, tv_budget=0.3)
    assert gen.width == pytest.approx(0.3 / (100 * 50), rel=1e-15)
    assert gen.mismatch_probability() <= gen.ramp_bound() + 1e-12 <= 0.3


def test_centres_from_a_gaussian_mixture_make_the_infinite_mixture_exact():
    # grid(std=0.05), component std s = 0.03: centres = a grid mode + N(0, 0.05^2 - 0.03^2) per coordinate.
    # Chi-square interval for the variance of the 2 T residuals, alpha = 1e-3, T = 20,000, seed 21.
    target = grid(std=0.05)
    rng = torch.Generator().manual_seed(21)
    gen = mixture_generator_from_target(target, T=20_000, std=0.03, generator=rng)
    resid = gen.centres - torch.round(gen.centres / 2) * 2  # modes sit on even coordinates
    n = resid.numel()
    var = float((resid**2).sum()) / n  # known mean 0
    lo, hi = (n * var / stats.chi2.ppf([1 - 5e-4, 5e-4], n))
    assert lo <= 0.05**2 - 0.03**2 <= hi
    assert not lo <= 0.05**2 <= hi  # negative control: the unreduced variance is rejected
    assert gen.std == 0.03 and gen.T == 20_000


def test_centres_equal_the_modes_when_the_component_std_is_the_targets():
    target = gaussian_mixture(means=[[0.0, 1.0], [5.0, -2.0]], std=0.4)
    gen = mixture_generator_from_target(target, T=50, std=0.4, generator=torch.Generator().manual_seed(0))
    modes = target.means
    assert all(bool((modes == row).all(dim=1).any()) for row in gen.centres)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(centres=[[0.0, float("nan")]], std=1.0), "centres must be finite"),
        (dict(centres=[1.0, 2.0], std=1.0), "centres must have shape"),
        (dict(centres=[[0.0]], std=0.0), "std must"),
        (dict(centres=[[0.0]], std=-1.0), "std must"),
        (dict(centres=[[0.0], [1.0]], std=1.0, tv_budget=1.5), "tv_budget must"),
        (dict(centres=[[0.0], [1.0], [2.0]], std=1.0, width=2.0), "width must"),
        (dict(centres=[[0.0], [1.0]], std=1.0, K=0.0), "K must"),
        (dict(centres=[[0.0], [1.0]], std=1.0, gate_tail=1.0), "gate_tail must"),
    ],
)
def test_bad_construction_input_names_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FoldedMixtureGenerator(**kwargs)


def test_bad_call_input_names_the_parameter():
    gen = FoldedMixtureGenerator(centres=_centres(3, 2, 0), std=1.0)
    h = torch.zeros(4, dtype=torch.float64)
    with pytest.raises(ValueError, match="g must have shape"):
        gen(h, torch.zeros(4, 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="finite"):
        gen(torch.full((4,), math.nan, dtype=torch.float64), torch.zeros(4, 2, dtype=torch.float64))
    with pytest.raises(ValueError, match="n must"):
        gen.sample(0, generator=torch.Generator())
    with pytest.raises(ValueError, match="generator must"):
        gen.sample(3, generator=None)
    with pytest.raises(ValueError, match="std must be <="):
        mixture_generator_from_target(grid(std=0.05), T=3, std=0.1, generator=torch.Generator())
    with pytest.raises(ValueError, match="T must"):
        mixture_generator_from_target(grid(), T=0, std=0.01, generator=torch.Generator())
    with pytest.raises(ValueError, match="target must"):
        mixture_generator_from_target("grid", T=2, std=0.01, generator=torch.Generator())


def test_centres_from_a_learned_fit_follow_the_fitted_mixture_not_the_targets_parameters():
    """The fit sees only a finite sample. Two well-separated 1-D modes at -3 and 4 (std 0.5, weights 0.3 / 0.7):
    EM on 4,000 draws recovers them; T = 20,000 centres plus s g have the fitted law's mean and variance (normal
    interval for the mean and chi-square for the variance, alpha = 1e-3 each, seed 5); the share of centres in
    the left mode matches the fitted weight (Clopper-Pearson, alpha = 1e-3)."""
    target = gaussian_mixture(means=[[-3.0], [4.0]], std=0.5, weights=[0.3, 0.7])
    g = torch.Generator().manual_seed(5)
    sample, _ = target.sample(4000, generator=g)
    gen = mixture_generator_from_sample(sample, T=20_000, std=0.2, n_components=2, generator=g)
    c = gen.centres[:, 0]
    left = c < 0.5
    share = clopper_pearson(int(left.sum()), c.numel(), confidence=0.999)
    assert share.ci_low <= 0.3 + 0.03 and 0.3 - 0.03 <= share.ci_high  # the fit's weight is within 0.03 of 0.3
    x = c[~left] + 0.2 * torch.randn(int((~left).sum()), dtype=torch.float64, generator=g)  # right mode's outputs
    n = x.numel()
    mean, var = float(x.mean()), float(x.var())
    assert abs(mean - 4.0) < 0.05  # the fitted mean (EM on 2,800 draws: standard error 0.01)
    lo, hi = (n - 1) * var / stats.chi2.ppf([1 - 5e-4, 5e-4], n - 1)
    assert lo <= 0.25 * 1.1 and 0.25 * 0.9 <= hi  # the fitted variance, within 10% of the true 0.25


def test_learned_fold_is_deterministic_and_checks_its_input():
    x, _ = grid().sample(500, generator=torch.Generator().manual_seed(0))
    a = mixture_generator_from_sample(x, T=16, std=0.02, n_components=25, generator=torch.Generator().manual_seed(1))
    b = mixture_generator_from_sample(x, T=16, std=0.02, n_components=25, generator=torch.Generator().manual_seed(1))
    assert torch.equal(a.centres, b.centres) and a.T == 16
    with pytest.raises(ValueError, match="n_components"):
        mixture_generator_from_sample(x, T=4, std=0.02, n_components=0, generator=torch.Generator())
    with pytest.raises(ValueError, match="sample must"):
        mixture_generator_from_sample(x[:3], T=4, std=0.02, n_components=25, generator=torch.Generator())
    with pytest.raises(ValueError, match="T must"):
        mixture_generator_from_sample(x, T=0, std=0.02, n_components=2, generator=torch.Generator())
