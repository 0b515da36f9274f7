"""Coverage of every interval type the project reports, by simulation on cases whose answer is known.

For each type, R independent data sets are drawn (numpy seed stated per case), the interval is computed at nominal
level 95% (alpha = 0.05), and the misses are counted: for a two-sided interval, truth outside [ci_low, ci_high];
for a one-sided one (``sides=1``), each limit separately (truth below ci_low, truth above ci_high). With coverage at
least nominal, misses ~ Binomial(R, q <= alpha); a test fails when misses exceed the 0.999 quantile of
Binomial(R, alpha) — i.e. the assertion is "coverage >= 95% minus the Monte-Carlo margin", with error rate
<= 1e-3 per assertion, and fixed seeds so nothing flakes. The default tier runs a smoke version (R = 200, or 100
for the bootstrap, margin about 5-6 points); ``@pytest.mark.slow`` runs R = 2,000 (margin 1.35 points).

The Hoeffding, Clopper-Pearson, Bonferroni and empirical-Bernstein intervals are valid at every n; the normal
(CLT), delta-method and percentile-bootstrap intervals are asymptotic, and their cases state where they are used:
near-symmetric laws at n >= 100 (the identity check of arz-lemA2 averages many terms), normal draws for the slope of
log variances (arz-lemA2's f are averages), a ratio of means at n = 400.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ganlimits.verify import clopper_pearson, hoeffding_interval
from ganlimits.verify.estimators import gap_from_values, reconstruction_ratio
from ganlimits.verify.estimators.intervals import (
    bonferroni_max,
    empirical_bernstein_interval,
    loglog_slope,
    mean_interval,
    normal_interval,
)

ALPHA = 0.05


def _limits(est) -> tuple[float, float]:
    return est.ci_low, est.ci_high


def _hoeffding(rng, sides):  # Bernoulli(0.1), n = 30, through mean_interval (range 1)
    x = (rng.uniform(size=30) < 0.1).astype(float)
    return _limits(mean_interval(x, value_range=1.0, sides=sides)), 0.1


def _hoeffding_raw(rng, sides):  # the mean of 50 uniforms on [-2, 2], hoeffding_interval with range 4
    x = rng.uniform(-2, 2, size=50)
    return _limits(hoeffding_interval(float(x.mean()), n=50, value_range=4.0, sides=sides)), 0.0


def _clopper_pearson(rng, sides):  # p = 0.1, n = 40
    return _limits(clopper_pearson(int(rng.binomial(40, 0.1)), 40, sides=sides)), 0.1


_BONF_P = np.linspace(0.2, 0.6, 20)


def _bonferroni(rng, sides):  # 20 members with means 0.2..0.6, n = 25 each; truth: the arg-max member's mean
    means = rng.binomial(25, _BONF_P) / 25
    est = bonferroni_max(means, n=25, value_range=1.0, sides=sides)
    lo, hi = _limits(est)
    # the lower limit bounds the arg-max member's mean; the upper limit bounds every member's (their max)
    return (lo, hi), (float(_BONF_P[int(np.argmax(means))]), float(_BONF_P.max()))


_GAP_P = np.array([0.3, 0.5, 0.5, 0.6, 0.45])
_GAP_Q = np.array([0.35, 0.4, 0.5, 0.55, 0.5])


def _gap_two_sample(rng, sides):  # 5 members, real Bernoulli(p_k), fake Bernoulli(q_k), 200 pairs per side
    real = (rng.uniform(size=(5, 200)) < _GAP_P[:, None]).astype(float)
    fake = (rng.uniform(size=(5, 200)) < _GAP_Q[:, None]).astype(float)
    est = gap_from_values(real, fake, phi="identity")
    return _limits(est), float(np.abs(_GAP_P - _GAP_Q).max())


def _empirical_bernstein(rng, sides):  # Beta(2, 5) values in [0, 1], n = 60; mean 2/7
    return _limits(empirical_bernstein_interval(rng.beta(2, 5, size=60), value_range=1.0, sides=sides)), 2 / 7


def _normal(rng, sides):  # Beta(2, 2) values (symmetric), n = 100; mean 1/2
    return _limits(normal_interval(rng.beta(2, 2, size=100), sides=sides)), 0.5


def _ratio_bootstrap(rng, sides):  # a ~ Exp(mean 2), b ~ Exp(mean 1), n = 400 pairs; ratio of means 2
    est = reconstruction_ratio(rng.exponential(2.0, size=400), rng.exponential(1.0, size=400), B=400,
                               rng=np.random.default_rng(rng.integers(2**32)))
    return _limits(est), 2.0


def _slope_delta(rng, sides):  # normal draws with variance 1/m at m = 4, 16, 64, 256, 200 each; slope -1
    xs = [4.0, 16.0, 64.0, 256.0]
    return _limits(loglog_slope(xs, [rng.normal(0, 1 / math.sqrt(x), size=200) for x in xs])), -1.0


CASES = {  # name: (simulate, seed, sides available, repeats in the smoke tier)
    "hoeffding_interval via mean_interval": (_hoeffding, 1, (2, 1), 200),
    "hoeffding_interval": (_hoeffding_raw, 2, (2, 1), 200),
    "clopper_pearson": (_clopper_pearson, 3, (2, 1), 200),
    "bonferroni_max": (_bonferroni, 4, (2, 1), 200),
    "gap_from_values two-sample": (_gap_two_sample, 5, (2,), 200),
    "empirical_bernstein_interval": (_empirical_bernstein, 6, (2, 1), 200),
    "normal_interval": (_normal, 7, (2, 1), 200),
    "reconstruction_ratio bootstrap": (_ratio_bootstrap, 8, (2,), 100),
    "loglog_slope delta method": (_slope_delta, 9, (2,), 200),
}
PARAMS = [(name, sides) for name, (_, _, all_sides, _) in CASES.items() for sides in all_sides]


def _coverage(name: str, sides: int, R: int) -> None:
    simulate, seed, _, _ = CASES[name]
    rng = np.random.default_rng([seed, sides])
    below = above = 0
    for _ in range(R):
        (lo, hi), truth = simulate(rng, sides)
        t_lo, t_hi = truth if isinstance(truth, tuple) else (truth, truth)
        below += t_lo < lo
        above += t_hi > hi
    margin = int(stats.binom.ppf(0.999, R, ALPHA))
    where = f"{name}, sides={sides}, R={R}, alpha={ALPHA}, numpy seed [{seed}, {sides}]"
    if sides == 2:
        assert below + above <= margin, f"{where}: {below + above} misses > {margin}"
    else:
        assert below <= margin and above <= margin, f"{where}: misses {below} below, {above} above > {margin}"


@pytest.mark.parametrize("name,sides", PARAMS)
def test_coverage_smoke(name, sides):
    _coverage(name, sides, CASES[name][3])


@pytest.mark.slow
@pytest.mark.parametrize("name,sides", PARAMS)
def test_coverage_many_repetitions(name, sides):
    _coverage(name, sides, 2000)


def test_a_wrong_interval_is_caught_by_the_same_check():
    """Negative control of the procedure: the normal interval with half its width (nominal about 67%) must fail the
    smoke check (R = 200, numpy seed 10)."""
    rng = np.random.default_rng(10)
    misses = 0
    for _ in range(200):
        x = rng.beta(2, 2, size=100)
        est = normal_interval(x)
        half = (est.ci_high - est.ci_low) / 4
        misses += not (est.estimate - half <= 0.5 <= est.estimate + half)
    assert misses > stats.binom.ppf(0.999, 200, ALPHA)
