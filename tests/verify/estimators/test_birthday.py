"""The birthday-paradox test: exact collision counting, calibration on a known support, the support intervals
and their p-value, the pilot's sizes, the non-uniformity flag, the threshold rules, and bad input. Coverage of the
intervals over many seeds: test_birthday_coverage.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganlimits.theory import beta_upper_bound, support_from_s_half
from ganlimits.verify import birthday_test, pilot_sizes, threshold_from_reference
from ganlimits.verify.estimators import pool_sampler, threshold_from_noise
from ganlimits.verify.estimators.support import (
    HEADLINE_INTERVAL,
    SUPPORT_INTERVALS,
    support_fisher_width,
    support_intervals,
    support_lr_pvalue,
)

DIM, NOISE = 8, 0.01
THRESHOLD = threshold_from_noise(sigma=NOISE, dim=DIM)


class LabelledPoints:
    """Uniform law on ``N`` random centers of R^8 plus N(0, 0.01^2) noise; remembers which center each draw
    came from, so that the true collisions of every sample are known exactly."""

    def __init__(self, N: int, seed: int, heavy: float = 0.0) -> None:
        self.N, self.heavy = N, heavy
        self.centers = torch.randn(N, DIM, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        self.labels: list[np.ndarray] = []

    def __call__(self, s: int, g: torch.Generator) -> torch.Tensor:
        idx = torch.randint(0, self.N, (s,), generator=g)
        if self.heavy:  # center 0 gets mass `heavy`, the rest share 1 - heavy
            idx = torch.where(torch.rand(s, generator=g, dtype=torch.float64) < self.heavy, 0,
                              torch.randint(1, self.N, (s,), generator=g))
        self.labels.append(idx.numpy().copy())
        return self.centers[idx] + NOISE * torch.randn(s, DIM, generator=g, dtype=torch.float64)


def test_collisions_are_counted_exactly():
    """Every sample's collision indicator equals the ground truth (a repeated center), for each size."""
    law = LabelledPoints(300, seed=1)
    sizes, R = [5, 10, 20, 40], 30
    res = birthday_test(law, sizes=sizes, repeats=R, threshold=THRESHOLD,
                        generator=torch.Generator().manual_seed(2))
    truth = np.array([len(np.unique(lab)) < len(lab) for lab in law.labels]).reshape(len(sizes), R)
    assert [c.collisions for c in res.curve] == truth.sum(axis=1).tolist()
    assert ((res.min_distances < res.threshold) == truth).all()
    for c in res.curve:
        assert c.probability.method == "clopper-pearson" and c.probability.n == R


def test_calibration_on_a_known_support():
    """Uniform on N = 400 points, 14 sizes from 6 to 70, R = 100 repeats, torch seed 7: every interval type (95%)
    contains 400, the estimate is within a factor 1.5; not flagged non-uniform (alpha = 0.01). With a fixed seed
    this cannot flake."""
    N = 400
    sizes = sorted({int(v) for v in np.geomspace(6, 70, 14)})
    res = birthday_test(LabelledPoints(N, seed=3), sizes=sizes, repeats=100, threshold=THRESHOLD,
                        generator=torch.Generator().manual_seed(7))
    est = res.support_estimate
    assert est is res.support_intervals[HEADLINE_INTERVAL] and set(res.support_intervals) == set(SUPPORT_INTERVALS)
    for name, e in res.support_intervals.items():
        assert e.ci_low <= N <= e.ci_high, (name, e)
        assert e.n == 100 * len(sizes) and e.confidence == 0.95
    assert N / 1.5 <= est.estimate <= 1.5 * N, est
    assert not res.nonuniform and res.nonuniform_pvalue > 0.01
    # the point estimate maximises the uniform model's likelihood: the curve's own counts reproduce it
    again = support_intervals(sizes, res.collision_counts, 100, generator=np.random.default_rng(0))
    assert again["lr"].estimate == pytest.approx(est.estimate, rel=1e-9)
    assert again["lr"].ci_low == pytest.approx(res.support_intervals["lr"].ci_low, rel=1e-9)
    # the efficient width at the estimate is what the design carries
    assert res.fisher_width == pytest.approx(support_fisher_width(sizes, 100, est.estimate))
    assert 1 < res.fisher_width < est.ci_high / est.ci_low * 1.2
    paper = support_from_s_half(s_half=res.s_half.estimate, exact=False)
    assert res.support_estimate_paper == pytest.approx(paper)
    # the beta bound is the theory's formula at the chosen size, and beta = N lies below its upper limit
    c = next(c for c in res.curve if c.s == res.beta_size)
    assert res.beta_bound.estimate == pytest.approx(beta_upper_bound(M=c.s, gamma=c.collisions / c.repeats))
    assert res.beta_bound.ci_high >= N


def test_intervals_on_an_exact_curve():
    """Counts equal to R times the exact uniform curve of N = 1000 (rounded): the maximum likelihood is within 2%
    of 1000 and every interval contains it; the headline's simulated curves are recorded in the method."""
    from ganlimits.theory import uniform_collision_probability

    sizes, R = [20, 30, 40, 50, 60, 80], 400
    counts = np.round(R * uniform_collision_probability(N=1000, s=np.array(sizes, float))).astype(int)
    est = support_intervals(sizes, counts, R, generator=np.random.default_rng(1))
    assert est["lr"].estimate == pytest.approx(1000, rel=0.02)
    for name in SUPPORT_INTERVALS:
        assert est[name].ci_low <= 1000 <= est[name].ci_high, name
    assert "over 1000 simulated curves" in est[HEADLINE_INTERVAL].method
    # the Neyman and chi-square likelihood-ratio intervals are close here (many repeats): widths within 10%
    w = {k: est[k].ci_high / est[k].ci_low for k in ("lr", HEADLINE_INTERVAL)}
    assert w[HEADLINE_INTERVAL] == pytest.approx(w["lr"], rel=0.1)
    # Clopper-Pearson inversion is wider (Bonferroni over six sizes)
    assert est["cp"].ci_high / est["cp"].ci_low > w["lr"]


def test_lr_pvalue():
    """The p-value of 'N within [low, high]': 1 when the estimate lies inside; tiny for a curve of N = 1000 against
    [100, 150]; and, for curves simulated under N = 150 itself (the hypothesis' edge), not below 0.05 in more than
    5% + 3 sd of 100 runs (numpy seed 3): the simulated law calibrates it."""
    from ganlimits.theory import uniform_collision_probability

    sizes, R = [10, 15, 20, 30, 45], 40
    counts = np.round(R * uniform_collision_probability(N=1000, s=np.array(sizes, float))).astype(int)
    rng = np.random.default_rng(3)
    assert support_lr_pvalue(sizes, counts, R, low=500, high=2000, generator=rng) == 1.0
    assert support_lr_pvalue(sizes, counts, R, low=100, high=150, generator=rng) < 0.01
    p150 = uniform_collision_probability(N=150, s=np.array(sizes, float))
    small = sum(support_lr_pvalue(sizes, rng.binomial(R, p150), R, low=100, high=150, generator=rng, draws=200)
                < 0.05 for _ in range(100))
    assert small <= 5 + 3 * np.sqrt(100 * 0.05 * 0.95), small


def test_pilot_sizes_bracket_the_crossing():
    """The pilot (10 samples per doubling size, torch seed 5) puts its sizes around 1.18 sqrt(N): the crossing of
    the uniform law on N = 1000 points lies inside the grid, which spans a factor 4."""
    law = LabelledPoints(1000, seed=2)
    sizes = pilot_sizes(law, threshold=THRESHOLD, generator=torch.Generator().manual_seed(5), n_sizes=8)
    assert len(sizes) == 8 and list(sizes) == sorted(set(sizes)) and sizes[0] >= 2
    assert sizes[0] < 1.18 * np.sqrt(1000) < sizes[-1]
    assert sizes[-1] / sizes[0] == pytest.approx(4.0, rel=0.15)
    # a law without duplicates within the budget is a usage error naming the budget
    with pytest.raises(ValueError, match="max_size"):
        pilot_sizes(_sample_normal, threshold=1e-6, generator=torch.Generator().manual_seed(0), max_size=64)


def test_heavy_point_is_flagged_and_named():
    """Negative control for uniformity: center 0 carries 10% mass, the other 9,999 centers share the rest.
    Flagged (p < 0.01) and the most frequent collider is center 0; torch seed 7, R = 60."""
    law = LabelledPoints(10_000, seed=4, heavy=0.1)
    res = birthday_test(law, sizes=[5, 10, 15, 20, 30, 40], repeats=60, threshold=THRESHOLD,
                        generator=torch.Generator().manual_seed(7))
    assert res.nonuniform and res.nonuniform_pvalue < 0.01
    top = res.frequent[0]
    assert float(torch.linalg.vector_norm(top.point - law.centers[0])) < 5 * NOISE * np.sqrt(DIM)
    assert top.share > 0.9
    s, r, i = top.example
    assert law.labels[res.sizes.index(s) * 60 + r][i] == 0
    # the uniform model's estimate is far below the true support: the flag is what warns
    assert res.support_estimate.ci_high < 10_000 / 10


def test_s_half_interpolation_and_grid_interval():
    """A deterministic law: samples of size >= 10 always hold a duplicate, smaller ones never. Then the curve
    is 0 up to s = 9 and 1 from s = 10: s_half = 9.5 by interpolation, interval (9, 10]."""

    def sample(s, g):
        x = torch.arange(s, dtype=torch.float64)[:, None].repeat(1, 3)
        if s >= 10:
            x[1] = x[0]
        return x

    res = birthday_test(sample, sizes=[2, 5, 9, 10, 20], repeats=40, threshold=0.5,
                        generator=torch.Generator().manual_seed(0))
    assert [c.collisions for c in res.curve] == [0, 0, 0, 40, 40]
    assert res.s_half.estimate == pytest.approx(9.5)
    assert (res.s_half.ci_low, res.s_half.ci_high) == (9.0, 10.0)
    assert res.support_intervals["cp_crossing"].ci_low == pytest.approx(support_from_s_half(s_half=9.0))
    # every collision involves the same point (the origin): the flag names it
    assert res.nonuniform and res.frequent[0].count == 80 and float(res.frequent[0].point.abs().max()) == 0.0


def test_no_collisions_give_an_open_interval():
    res = birthday_test(_sample_normal, sizes=[5, 10], repeats=20, threshold=1e-3,
                        generator=torch.Generator().manual_seed(1))
    assert res.support_estimate.ci_high == float("inf") and np.isnan(res.s_half.estimate)
    lr = res.support_intervals["lr"]
    assert lr.estimate == float("inf") and lr.ci_low > 10 and res.support_estimate.ci_low > 10
    assert not res.nonuniform


def test_threshold_from_reference_rule():
    g = torch.Generator().manual_seed(8)
    x = torch.randn(400, 6, generator=g, dtype=torch.float64)
    D = torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist")
    D.fill_diagonal_(float("inf"))
    nn = D.min(dim=1).values.numpy()
    t = threshold_from_reference(x, quantile=0.05, factor=0.5)
    assert t == pytest.approx(0.5 * np.quantile(nn, 0.05), rel=1e-12)
    assert t < nn.min() or (nn < t).mean() < 0.05
    # coords are honoured
    t2 = threshold_from_reference(x, coords=[0, 1], quantile=0.05, factor=1.0)
    D2 = torch.cdist(x[:, :2], x[:, :2], compute_mode="donot_use_mm_for_euclid_dist")
    D2.fill_diagonal_(float("inf"))
    assert t2 == pytest.approx(np.quantile(D2.min(dim=1).values.numpy(), 0.05), rel=1e-12)
    # negative control: a reference with duplicated rows gives no usable threshold
    with pytest.raises(ValueError, match="duplicate"):
        threshold_from_reference(torch.cat([x[:10]] * 3), quantile=0.5)


def test_threshold_from_noise_misses_at_the_stated_rate():
    """miss = 0.05, d = 8: of n = 20,000 pairs of noisy copies (torch seed 12) the fraction beyond the
    threshold must lie in a 99.9% Clopper-Pearson interval around it (exact chi-square rule)."""
    from scipy import stats

    t = threshold_from_noise(sigma=0.3, dim=8, miss=0.05)
    assert (t / 0.3) ** 2 / 2 == pytest.approx(stats.chi2.isf(0.05, 8), rel=1e-12)
    g = torch.Generator().manual_seed(12)
    n = 20000
    d = torch.linalg.vector_norm(0.3 * torch.randn(n, 8, generator=g, dtype=torch.float64)
                                 - 0.3 * torch.randn(n, 8, generator=g, dtype=torch.float64), dim=1)
    missed = int((d >= t).sum())
    lo = stats.beta.ppf(0.0005, missed, n - missed + 1)
    hi = stats.beta.ppf(0.9995, missed + 1, n - missed)
    assert lo <= 0.05 <= hi, (missed, lo, hi)


def test_pool_sampler_draws_distinct_rows():
    x = torch.arange(30, dtype=torch.float64)[:, None]
    sample = pool_sampler(x)
    got = sample(30, torch.Generator().manual_seed(0))
    assert sorted(got.flatten().tolist()) == list(range(30))
    res = birthday_test(sample, sizes=[10, 30], repeats=5, threshold=0.5,
                        generator=torch.Generator().manual_seed(1))
    assert all(c.collisions == 0 for c in res.curve)  # distinct rows never collide


def _sample_normal(s, g):
    return torch.randn(s, 3, generator=g, dtype=torch.float64)


@pytest.mark.parametrize(
    "kwargs,sampler,match",
    [
        ({"sizes": [1, 5]}, _sample_normal, "s must be >= 2"),
        ({"sizes": []}, _sample_normal, "sizes"),
        ({"sizes": [2.5]}, _sample_normal, "sizes"),
        ({"sizes": [5, 40]}, pool_sampler(torch.randn(20, 3)), "larger than the sample"),
        ({"sizes": [5]}, lambda s, g: torch.randn(s - 1, 3, generator=g), "s = 5 points"),
        ({"sizes": [5]}, lambda s, g: torch.full((s, 3), float("nan")), "NaN"),
        ({"sizes": [5], "threshold": 0.0}, _sample_normal, "threshold"),
        ({"sizes": [5], "threshold": -1.0}, _sample_normal, "threshold"),
        ({"sizes": [5], "threshold": float("nan")}, _sample_normal, "threshold"),
        ({"sizes": [5], "repeats": 0}, _sample_normal, "repeats"),
        ({"sizes": [5], "confidence": 1.0}, _sample_normal, "confidence"),
        ({"sizes": [5], "rng": None}, _sample_normal, "rng"),
        ({"sizes": [5], "rng": -1}, _sample_normal, "rng"),
        ({"sizes": [5], "rng": 0.5}, _sample_normal, "rng"),
        ({"sizes": [5], "generator": 3}, _sample_normal, "generator"),
        ({"sizes": [5, 40]}, torch.randn(20, 3), "larger than the sample"),
        ({"sizes": [10**12]}, _sample_normal, "sizes = 1000000000000 would need"),
        ({"sizes": [5]}, torch.ones(20, 3) * 1j, "complex"),
        ({"sizes": [5]}, lambda s, g: torch.ones(s, 3) * 1j, "complex"),
        ({"sizes": [5]}, torch.ones(20, 3, device="meta"), "meta"),
        ({"sizes": [5]}, lambda s, g: torch.ones(s, 3, device="meta"), "meta"),
        ({"sizes": [5]}, torch.nn.Linear(2, 2), "torch module"),
        ({"sizes": [5], "calibration_draws": 10}, _sample_normal, "calibration_draws"),
    ],
)
def test_bad_input_raises(kwargs, sampler, match):
    args = {"repeats": 2, "threshold": 0.1, **({} if "generator" in kwargs else {"rng": 0}), **kwargs}
    with pytest.raises(ValueError, match=match):
        birthday_test(sampler, **args)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: support_intervals([5, 10], [1], 10, generator=np.random.default_rng(0)), "equal length"),
        (lambda: support_intervals([1, 10], [0, 1], 10, generator=np.random.default_rng(0)), "sizes"),
        (lambda: support_intervals([5, 10], [0, 11], 10, generator=np.random.default_rng(0)), "counts"),
        (lambda: support_intervals([5, 10], [0, 1], 10), "generator"),
        (lambda: support_intervals([5, 10], [0, 1], 10, confidence=1.0, generator=np.random.default_rng(0)),
         "confidence"),
        (lambda: support_fisher_width([5, 10], 10, 0.5), "N"),
        (lambda: support_lr_pvalue([5, 10], [0, 1], 10, low=100, high=50, generator=np.random.default_rng(0)),
         "high"),
        (lambda: pilot_sizes(_sample_normal, threshold=0.1, generator=torch.Generator(), span=(2.0, 1.0)), "span"),
        (lambda: pilot_sizes(_sample_normal, threshold=0.0, generator=torch.Generator()), "threshold"),
    ],
)
def test_interval_functions_reject_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_headline_interval_at_the_edges_of_the_model():
    """Curves where the maximum likelihood sits at an edge take the exact or the grid path of the headline: every
    sample colliding (the upper end is where that curve has probability 2.5%, exactly), and a support smaller than
    the largest size (pigeonhole: N = 3 tested at sizes 3, 4, 5, 25 samples each, numpy seed 0, where sizes 4 and 5
    always collide) still holds the truth."""
    from ganlimits.theory import uniform_collision_probability

    sizes = [10, 20]
    est = support_intervals(sizes, [30, 30], 30, generator=np.random.default_rng(0))[HEADLINE_INTERVAL]
    p_all = np.prod([uniform_collision_probability(N=est.ci_high, s=s) for s in sizes]) ** 30
    assert est.ci_low == 1.0 and p_all == pytest.approx(0.025, rel=1e-3)
    rng = np.random.default_rng(0)
    counts = [rng.binomial(25, 1 - (2 / 3) * (1 / 3)), 25, 25]
    small = support_intervals([3, 4, 5], counts, 25, generator=rng)[HEADLINE_INTERVAL]
    assert small.ci_low <= 3 <= small.ci_high < 10, (counts, small)
