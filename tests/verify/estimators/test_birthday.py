"""The birthday-paradox test: exact collision counting, calibration on a known support, the non-uniformity
flag, the threshold rules, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ganlimits.theory import beta_upper_bound, support_from_s_half
from ganlimits.verify import (
    birthday_test,
    pool_sampler,
    threshold_from_noise,
    threshold_from_reference,
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
    """Uniform on N = 400 points, 14 sizes from 6 to 70, R = 100 repeats, torch seed 7: the support interval
    (95%, simultaneous bands) and the likelihood-ratio interval contain 400; not flagged non-uniform
    (alpha = 0.01). With a fixed seed this cannot flake."""
    N = 400
    sizes = sorted({int(v) for v in np.geomspace(6, 70, 14)})
    res = birthday_test(LabelledPoints(N, seed=3), sizes=sizes, repeats=100, threshold=THRESHOLD,
                        generator=torch.Generator().manual_seed(7))
    est = res.support_estimate
    assert est.ci_low <= N <= est.ci_high, est
    assert N / 1.5 <= est.estimate <= 1.5 * N, est
    assert res.support_mle.ci_low <= N <= res.support_mle.ci_high, res.support_mle
    assert not res.nonuniform and res.nonuniform_pvalue > 0.01
    # the interval endpoints are the stated functions of the s_half interval
    assert est.ci_low == pytest.approx(support_from_s_half(s_half=res.s_half.ci_low))
    paper = support_from_s_half(s_half=res.s_half.estimate, exact=False)
    assert res.support_estimate_paper == pytest.approx(paper)
    # the beta bound is the theory's formula at the chosen size, and beta = N lies below its upper limit
    c = next(c for c in res.curve if c.s == res.beta_size)
    assert res.beta_bound.estimate == pytest.approx(beta_upper_bound(M=c.s, gamma=c.collisions / c.repeats))
    assert res.beta_bound.ci_high >= N


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
    assert res.support_estimate.ci_low == pytest.approx(support_from_s_half(s_half=9.0))
    # every collision involves the same point (the origin): the flag names it
    assert res.nonuniform and res.frequent[0].count == 80 and float(res.frequent[0].point.abs().max()) == 0.0


def test_no_collisions_give_an_open_interval():
    res = birthday_test(_sample_normal, sizes=[5, 10], repeats=20, threshold=1e-3,
                        generator=torch.Generator().manual_seed(1))
    assert res.support_estimate.ci_high == float("inf") and np.isnan(res.s_half.estimate)
    assert res.support_mle.estimate == float("inf") and res.support_mle.ci_low > 10
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
        ({"sizes": [5], "generator": None}, _sample_normal, "generator"),
    ],
)
def test_bad_input_raises(kwargs, sampler, match):
    args = {"repeats": 2, "threshold": 0.1, "generator": torch.Generator().manual_seed(0), **kwargs}
    with pytest.raises(ValueError, match=match):
        birthday_test(sampler, **args)
