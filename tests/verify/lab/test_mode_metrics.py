"""VEEGAN's mode-collapse metrics: exact on hand-built samples, against a brute-force oracle, and the 1200-D caveat."""

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from ganlimits.constructions import digits, grid, mixture_1200d, ring
from ganlimits.verify import clopper_pearson
from ganlimits.verify.lab import lab_target, mode_metrics
from ganlimits.verify.lab.metrics import HQ_COVERAGE, calibrated_threshold, lab_threshold, veegan_threshold

F64 = torch.float64


def _oracle(x: np.ndarray, means: np.ndarray, std: float, t: float):
    """Brute force, one sample at a time: (modes, n_hq, counts)."""
    counts = [0] * len(means)
    n_hq = 0
    for row in x:
        if not np.all(np.isfinite(row)):
            continue
        d = [math.sqrt(sum((float(a) - float(b)) ** 2 for a, b in zip(row, mu, strict=True))) for mu in means]
        i = int(np.argmin(d))
        if d[i] / std <= t:
            n_hq += 1
            counts[i] += 1
    return sum(c > 0 for c in counts), n_hq, counts


def _kl_exact(counts, K):
    """Reverse KL from the counts with exact fractions for q (log in float64)."""
    total = sum(counts)
    return sum(float(Fraction(c, total)) * math.log(K * c / total) for c in counts if c)


@pytest.mark.parametrize("name", ["ring", "grid", "mixture_1200d"])
def test_all_modes_exactly_on_the_means(name):
    t = lab_target(name)
    K = t.n_components
    x = t.means.repeat(3, 1)  # every mode three times
    m = mode_metrics(x, t)
    assert (m.modes, m.high_quality, m.reverse_kl, m.n) == (K, 1.0, 0.0, 3 * K)
    assert m.counts == (3,) * K and m.median_distance == 0.0


@pytest.mark.parametrize("name", ["ring", "grid", "mixture_1200d"])
def test_a_subset_of_modes_with_unequal_counts(name):
    t = lab_target(name)
    K = t.n_components
    picked = [0, 2, K - 1]
    reps = [5, 1, 2]
    x = torch.cat([t.means[[i]].repeat(r, 1) for i, r in zip(picked, reps, strict=True)])
    m = mode_metrics(x, t)
    assert m.modes == 3 and m.high_quality == 1.0
    counts = [0] * K
    for i, r in zip(picked, reps, strict=True):
        counts[i] = r
    assert list(m.counts) == counts
    assert m.reverse_kl == pytest.approx(_kl_exact(counts, K), rel=1e-14)


def test_threshold_is_three_std_on_either_side():
    t = grid(std=0.05)  # 3 std = 0.15
    base = t.means[[12]]  # the mode at (0, 0)
    inside = base + torch.tensor([[0.1499, 0.0]], dtype=F64)
    outside = base + torch.tensor([[0.1501, 0.0]], dtype=F64)
    assert mode_metrics(inside, t).modes == 1 and mode_metrics(inside, t).high_quality == 1.0
    m = mode_metrics(outside, t)
    assert (m.modes, m.high_quality) == (0, 0.0) and math.isnan(m.reverse_kl)


def test_uniform_noise_matches_the_brute_force_oracle():
    """Uniform noise over the ring's box: a few points fall within 3 std of a mode; the count is exact."""
    t = ring(std=0.05)
    g = torch.Generator().manual_seed(11)
    x = (torch.rand(3000, 2, generator=g, dtype=F64) * 3.0) - 1.5
    m = mode_metrics(x, t)
    modes, n_hq, counts = _oracle(x.numpy(), t.means.numpy(), 0.05, 3.0)
    assert 0 < n_hq < 3000  # the case is not trivial
    assert (m.modes, round(m.high_quality * 3000), list(m.counts)) == (modes, n_hq, counts)


@given(st.integers(0, 2**31 - 1), st.sampled_from(["ring", "grid"]), st.floats(0.5, 6.0))
@example(0, "ring", 3.0)
def test_random_samples_match_the_oracle(seed, name, spread):
    """Domain: 200 points = random modes + N(0, (spread std)^2) noise, 2-D targets; oracle: brute force."""
    t = lab_target(name)
    s = float(t.std[0])
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(t.n_components, (200,), generator=g)
    x = t.means[idx] + spread * s * torch.randn(200, 2, generator=g, dtype=F64)
    m = mode_metrics(x, t)
    modes, n_hq, counts = _oracle(x.numpy(), t.means.numpy(), s, 3.0)
    assert (m.modes, list(m.counts)) == (modes, counts)
    assert m.high_quality == n_hq / 200
    if n_hq:
        assert m.reverse_kl == pytest.approx(_kl_exact(counts, t.n_components), rel=1e-12)


@given(st.sets(st.integers(0, 24), min_size=1, max_size=25), st.integers(0, 2**31 - 1))
def test_a_generator_on_a_fixed_subset_of_modes_gives_exactly_that_many(subset, seed):
    """A generator G(z) = mean of mode S[bucket(z_1)] + small noise, on a fixed subset S of the grid's modes."""
    t = grid(std=0.05)
    modes = torch.tensor(sorted(subset))
    means = t.means

    def G(z: torch.Tensor) -> torch.Tensor:
        u = torch.special.ndtr(z[:, 0])  # uniform from the first coordinate
        k = (u * len(modes)).long().clamp(max=len(modes) - 1)
        return means[modes[k]] + 0.02 * z[:, 1:3]  # 0.02 |N(0, I_2)| < 0.15 = 3 std unless |N| > 7.5

    z = torch.randn(2500, 4, generator=torch.Generator().manual_seed(seed), dtype=F64)
    assert float((0.02 * z[:, 1:3]).norm(dim=1).max()) < 0.15  # every sample is high quality by construction
    m = mode_metrics(G(z), t)
    assert m.modes == len(modes) and m.high_quality == 1.0
    assert {i for i, c in enumerate(m.counts) if c} == set(modes.tolist())


def test_mixture_1200d_true_draws_lie_26_std_away_and_score_zero_under_the_published_rule():
    """MATH caveat made visible: sqrt(chi^2_700) is about 26.4, so the target scores 0% high quality at VEEGAN's 10
    std, while every draw's nearest mean is its own component."""
    t = mixture_1200d()
    x, labels = t.sample(500, generator=torch.Generator().manual_seed(3))
    m = mode_metrics(x, t, threshold=lab_threshold(t, "published"))
    assert m.high_quality == 0.0 and m.modes == 0
    assert 25.5 < m.median_distance < 27.5  # chi_700 median ~ 26.45; 500 draws: s.d. of the median ~ 0.04
    d = torch.cdist(x, t.means)
    assert torch.equal(d.argmin(dim=1), labels)
    ok = mode_metrics(x, t, threshold=30.0)  # a looser threshold sees them all
    assert ok.high_quality == 1.0 and ok.modes == len(torch.unique(labels))


@pytest.mark.parametrize("name", ["ring", "grid", "mixture_1200d"])
def test_the_calibrated_rule_scores_the_targets_own_draws_on_every_component(name):
    """The lab's default rule: 2,500 true draws (seed 4) score every component, and the high-quality share is the
    rule's coverage 1 - exp(-4.5) = 98.89% within its 99.9% binomial interval (2,500 draws: s.d. 0.21 points)."""
    t = lab_target(name)
    x, _ = t.sample(2500, generator=torch.Generator().manual_seed(4))
    m = mode_metrics(x, t)
    assert m.modes == t.n_components and m.threshold == calibrated_threshold(t)
    ci = clopper_pearson(round(m.high_quality * 2500), 2500, confidence=0.999)
    assert ci.ci_low <= HQ_COVERAGE <= ci.ci_high, m.high_quality


def test_calibrated_threshold_is_the_chi_quantile_and_veegans_three_in_2d():
    """Exact in 2-D (P(chi_2 <= 3) = 1 - exp(-4.5)); in 1200-D the chi_700 quantile at that coverage, checked against
    scipy's chi distribution directly."""
    from scipy import stats

    assert calibrated_threshold(ring()) == 3.0 == calibrated_threshold(grid()) == veegan_threshold(grid())
    t = calibrated_threshold(mixture_1200d())
    assert stats.chi(700).cdf(t) == pytest.approx(HQ_COVERAGE, rel=1e-12)
    assert calibrated_threshold(grid(), coverage=0.5) == pytest.approx(stats.chi(2).ppf(0.5), rel=1e-12)
    assert lab_threshold(mixture_1200d(), "published") == 10.0 and lab_threshold(mixture_1200d()) == t
    with pytest.raises(ValueError, match="rule"):
        lab_threshold(grid(), "loose")


def test_non_finite_rows_are_low_quality():
    t = ring(std=0.01)
    x = t.means[:4].clone()
    x[1, 0] = float("nan")
    x[2, 1] = float("inf")
    m = mode_metrics(x, t)
    assert (m.modes, m.high_quality) == (2, 0.5)


def test_thresholds_by_dimension():
    assert veegan_threshold(ring()) == 3.0 and veegan_threshold(mixture_1200d()) == 10.0


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: mode_metrics(torch.zeros(3, 3), ring()), "samples"),
        (lambda: mode_metrics(torch.zeros(0, 2), ring()), "samples"),
        (lambda: mode_metrics(torch.zeros(3, 2), "ring"), "target"),
        (lambda: mode_metrics(torch.zeros(3, 2), ring(), threshold=0.0), "threshold"),
        (lambda: veegan_threshold(digits(jitter=0.05)), "threshold"),
        (lambda: calibrated_threshold(ring(), coverage=1.0), "coverage"),
        (lambda: mode_metrics(torch.zeros(3, 2), ring(std=0.0)), "target"),
    ],
)
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()
