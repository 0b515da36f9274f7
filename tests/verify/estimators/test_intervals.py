"""Confidence intervals of verify/_intervals.py: Clopper-Pearson against scipy, Hoeffding coverage by
simulation, Bonferroni width."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ganlimits.verify import bonferroni_max, clopper_pearson, hoeffding_interval, mean_interval


# ----- Clopper-Pearson -----------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 7, 50, 1000])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.999])
def test_clopper_pearson_matches_scipy_binomtest(n, confidence):
    # Independent oracle: scipy.stats.binomtest(...).proportion_ci(method="exact"), including k = 0 and k = n.
    for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
        est = clopper_pearson(k, n, confidence=confidence)
        ref = stats.binomtest(k, n).proportion_ci(confidence_level=confidence, method="exact")
        assert est.ci_low == pytest.approx(ref.low, rel=1e-9, abs=1e-15), (k, n)
        assert est.ci_high == pytest.approx(ref.high, rel=1e-9, abs=1e-15), (k, n)
        assert est.estimate == k / n and est.n == n and est.method == "clopper-pearson"


def test_clopper_pearson_coverage_by_simulation():
    # Statistical test: p = 0.1, n = 40, R = 2,000 repeats, nominal 95%, numpy seed 0. The exact interval
    # covers with probability >= 0.95, so misses ~ Binomial(2000, q <= 0.05); fail threshold is the 0.999
    # quantile of Binomial(2000, 0.05). Negative control: the Wald interval p^ +- 1.96 sqrt(p^(1 - p^)/n),
    # which under-covers at this small p, must exceed the threshold on the same draws.
    rng = np.random.default_rng(0)
    R, n, p = 2000, 40, 0.1
    ks = rng.binomial(n, p, size=R)
    threshold = stats.binom.ppf(0.999, R, 0.05)
    misses = 0
    for k in ks:
        est = clopper_pearson(int(k), n)
        misses += not (est.ci_low <= p <= est.ci_high)
    assert misses <= threshold, misses
    ph = ks / n
    wald_misses = int(np.sum(np.abs(ph - p) > 1.96 * np.sqrt(ph * (1 - ph) / n)))
    assert wald_misses > threshold, f"control: the Wald interval missed only {wald_misses} times"


@pytest.mark.parametrize("args,match", [((3, 0), "n"), ((-1, 5), "successes"), ((6, 5), "successes")])
def test_clopper_pearson_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        clopper_pearson(*args)


# ----- Hoeffding -----------------------------------------------------------------------------------------
def test_hoeffding_half_width_formula():
    # Written out: values in a range of length R = 2 Delta, half-width Delta sqrt(2 log(2/alpha) / n).
    est = hoeffding_interval(0.3, n=400, value_range=2.0, confidence=0.9)
    assert est.ci_high - 0.3 == pytest.approx(1.0 * math.sqrt(2 * math.log(2 / 0.1) / 400), rel=1e-12)
    assert 0.3 - est.ci_low == pytest.approx(est.ci_high - 0.3, rel=1e-12)
    assert est.method == "hoeffding" and est.n == 400 and est.confidence == 0.9


@pytest.mark.parametrize("law", ["bernoulli", "uniform", "two-point"])
def test_hoeffding_coverage_by_simulation(law):
    # Statistical test: R = 3,000 repeats of n = 30 values, nominal 95%, numpy seed 1. Valid intervals give
    # misses ~ Binomial(3000, q <= 0.05); threshold the 0.999 quantile. Negative control: the same means with
    # a value_range 4x too small (the wrong range) must miss more than that threshold.
    rng = np.random.default_rng(1)
    R, n = 3000, 30
    if law == "bernoulli":
        values, mean, rng_len = rng.binomial(1, 0.5, size=(R, n)).astype(float), 0.5, 1.0
    elif law == "uniform":
        values, mean, rng_len = rng.uniform(-2.0, 2.0, size=(R, n)), 0.0, 4.0
    else:  # extreme two-point law on {0, 1} with mass 0.9 at 0
        values, mean, rng_len = (rng.uniform(size=(R, n)) < 0.1).astype(float), 0.1, 1.0
    threshold = stats.binom.ppf(0.999, R, 0.05)
    misses = wrong = 0
    for row in values:
        est = mean_interval(row, value_range=rng_len)
        misses += not (est.ci_low <= mean <= est.ci_high)
        narrow = hoeffding_interval(float(row.mean()), n=n, value_range=rng_len / 4)
        wrong += not (narrow.ci_low <= mean <= narrow.ci_high)
    assert misses <= threshold, misses
    assert wrong > threshold, f"control: only {wrong} misses with a 4x too small range"


def test_mean_interval_rejects_values_beyond_the_declared_range():
    with pytest.raises(ValueError, match="value_range"):
        mean_interval([0.0, 1.5], value_range=1.0)
    with pytest.raises(ValueError, match="NaN"):
        mean_interval([0.0, float("nan")], value_range=1.0)
    with pytest.raises(ValueError, match="value_range"):
        hoeffding_interval(0.0, n=10, value_range=0.0)


# ----- Bonferroni ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("K", [1, 2, 10, 256])
def test_bonferroni_width_is_hoeffding_at_alpha_over_K(K):
    means = np.linspace(0.1, 0.4, K)
    est = bonferroni_max(means, n=500, value_range=1.0, confidence=0.95)
    half = 0.5 * math.sqrt(2 * math.log(2 * K / 0.05) / 500)
    assert est.estimate == 0.4 if K > 1 else est.estimate == 0.1
    assert est.ci_high - est.estimate == pytest.approx(half, rel=1e-12)
    assert est.estimate - est.ci_low == pytest.approx(half, rel=1e-12)
    assert est.method == f"bonferroni-hoeffding(K={K})"
    if K == 1:
        single = hoeffding_interval(0.1, n=500, value_range=1.0)
        assert (est.ci_low, est.ci_high) == pytest.approx((single.ci_low, single.ci_high), rel=1e-12)


def test_bonferroni_simultaneous_coverage_by_simulation():
    # Statistical test: K = 100 Bernoulli(0.5) means of n = 25 values, R = 1,000 repeats, nominal 95%, numpy
    # seed 2. Event checked: ALL K Bonferroni intervals (the max's half-width) cover at once, so the max's
    # interval covers the arg-max member's mean. Threshold: 0.999 quantile of Binomial(1000, 0.05).
    # Negative control: per-member Hoeffding intervals without the correction fail that union event far more
    # often than the threshold.
    rng = np.random.default_rng(2)
    R, K, n = 1000, 100, 25
    means = rng.binomial(n, 0.5, size=(R, K)) / n
    est = bonferroni_max(means[0], n=n, value_range=1.0)
    half = est.ci_high - est.estimate
    single = hoeffding_interval(0.0, n=n, value_range=1.0).ci_high
    threshold = stats.binom.ppf(0.999, R, 0.05)
    fails = int(np.sum(np.any(np.abs(means - 0.5) > half, axis=1)))
    fails_single = int(np.sum(np.any(np.abs(means - 0.5) > single, axis=1)))
    assert fails <= threshold, fails
    assert fails_single > threshold, f"control: uncorrected intervals failed only {fails_single} times"
