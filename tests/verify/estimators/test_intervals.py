"""Confidence intervals of verify/estimators/_intervals.py: Clopper-Pearson against scipy, Hoeffding coverage by
simulation, Bonferroni width, the one-sided forms, empirical Bernstein, the normal approximation, the log-log slope
and the p-values (coverage of every interval type: test_coverage.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ganlimits.verify import clopper_pearson, hoeffding_interval
from ganlimits.verify.estimators.intervals import (
    binomial_pvalue,
    bonferroni_max,
    empirical_bernstein_interval,
    hoeffding_pvalue,
    loglog_slope,
    mean_interval,
    normal_interval,
)


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


# ----- one-sided forms ------------------------------------------------------------------------------------
@pytest.mark.parametrize("k,n", [(0, 20), (3, 20), (20, 20), (40, 500)])
def test_one_sided_clopper_pearson_is_the_beta_quantile_at_alpha(k, n):
    est = clopper_pearson(k, n, confidence=0.95, sides=1)
    lo = 0.0 if k == 0 else stats.beta.ppf(0.05, k, n - k + 1)
    hi = 1.0 if k == n else stats.beta.ppf(0.95, k + 1, n - k)
    assert (est.ci_low, est.ci_high) == pytest.approx((lo, hi), rel=1e-12, abs=1e-15)
    assert est.sides == 1 and est.method == "clopper-pearson, one-sided"
    two = clopper_pearson(k, n, confidence=0.90)  # a one-sided 95% limit is a two-sided 90% interval's end
    assert (est.ci_low, est.ci_high) == pytest.approx((two.ci_low, two.ci_high), rel=1e-12, abs=1e-15)


def test_one_sided_hoeffding_and_bonferroni_use_log_one_over_alpha():
    est = hoeffding_interval(0.2, n=400, value_range=1.0, confidence=0.95, sides=1)
    assert est.ci_high - 0.2 == pytest.approx(0.5 * math.sqrt(2 * math.log(1 / 0.05) / 400), rel=1e-12)
    b = bonferroni_max([0.1, 0.3], n=400, value_range=1.0, confidence=0.95, sides=1)
    assert b.ci_high - 0.3 == pytest.approx(0.5 * math.sqrt(2 * math.log(2 / 0.05) / 400), rel=1e-12)
    assert est.sides == b.sides == 1
    for bad in (0, 3, True):
        with pytest.raises(ValueError, match="sides"):
            hoeffding_interval(0.2, n=10, value_range=1.0, sides=bad)
    with pytest.raises(ValueError, match="confidence"):
        clopper_pearson(1, 10, confidence=0.4, sides=1)


# ----- empirical Bernstein and the normal approximation ---------------------------------------------------
def test_empirical_bernstein_is_maurer_pontil_theorem_4():
    values = np.random.default_rng(3).uniform(0.2, 0.4, size=101)
    V, n = values.var(ddof=1), values.size
    two = empirical_bernstein_interval(values, value_range=1.0, confidence=0.95)
    half = math.sqrt(2 * V * math.log(2 / 0.025) / n) + 7 * math.log(2 / 0.025) / (3 * (n - 1))
    assert two.ci_high - two.estimate == pytest.approx(half, rel=1e-12)
    one = empirical_bernstein_interval(values, value_range=1.0, confidence=0.95, sides=1)
    half1 = math.sqrt(2 * V * math.log(2 / 0.05) / n) + 7 * math.log(2 / 0.05) / (3 * (n - 1))
    assert one.ci_high - one.estimate == pytest.approx(half1, rel=1e-12)
    # Narrow data and n = 5000: far narrower than Hoeffding with the same range (the point of the instrument).
    many = np.random.default_rng(3).uniform(0.2, 0.4, size=5000)
    eb = empirical_bernstein_interval(many, value_range=1.0)
    assert eb.ci_high - eb.estimate < 0.3 * (mean_interval(many, value_range=1.0).ci_high - many.mean())
    with pytest.raises(ValueError, match="value_range"):
        empirical_bernstein_interval([0.0, 2.0], value_range=1.0)
    with pytest.raises(ValueError, match="at least 2"):
        empirical_bernstein_interval([0.5], value_range=1.0)


def test_normal_interval_is_mean_plus_minus_z_sd_over_root_n():
    values = np.random.default_rng(4).normal(size=50)
    est = normal_interval(values, confidence=0.9)
    half = stats.norm.ppf(0.95) * values.std(ddof=1) / math.sqrt(50)
    assert (est.ci_low, est.ci_high) == pytest.approx((values.mean() - half, values.mean() + half), rel=1e-12)
    one = normal_interval(values, confidence=0.95, sides=1)
    assert (one.ci_low, one.ci_high) == pytest.approx((est.ci_low, est.ci_high), rel=1e-12)


# ----- log-log slope --------------------------------------------------------------------------------------
def test_loglog_slope_recovers_an_exact_power_law_and_rejects_bad_input():
    base = np.random.default_rng(5).normal(size=400)
    xs = [4.0, 16.0, 64.0, 256.0]
    samples = [base / math.sqrt(x) for x in xs]  # variances exactly proportional to 1/x
    est = loglog_slope(xs, samples)
    assert est.estimate == pytest.approx(-1.0, abs=1e-12)
    # delta method: every sample has the same kurtosis k, so Var(slope) = sum_j c_j^2 (k - 1 + 2/399) / 400
    k = stats.kurtosis(base, fisher=False, bias=False)
    u = np.log(xs) - np.log(xs).mean()
    se = math.sqrt(float(((u / (u @ u)) ** 2).sum()) * (k - 1 + 2 / 399) / 400)
    assert est.ci_high - est.estimate == pytest.approx(stats.norm.ppf(0.975) * se, rel=1e-10)
    with pytest.raises(ValueError, match="same length"):
        loglog_slope([1.0, 2.0], [base])
    with pytest.raises(ValueError, match="at least 4"):
        loglog_slope(xs, [base[:3]] * 4)


# ----- p-values -------------------------------------------------------------------------------------------
def test_pvalues_match_their_intervals():
    # The one-sided Hoeffding limit at level 1 - a lies at distance t(a); the p-value at that distance is a.
    for K in (1, 7):
        b = bonferroni_max(np.zeros(K), n=300, value_range=1.0, confidence=0.95, sides=1)
        assert hoeffding_pvalue(b.ci_high, n=300, value_range=1.0, K=K) == pytest.approx(0.05, rel=1e-10)
    assert hoeffding_pvalue(-0.1, n=300, value_range=1.0) == 1.0
    assert binomial_pvalue(5, 10, 0.5, alternative="greater") == pytest.approx(stats.binom.sf(4, 10, 0.5))
    assert binomial_pvalue(5, 10, 0.5, alternative="less") == pytest.approx(stats.binom.cdf(5, 10, 0.5))
    with pytest.raises(ValueError, match="alternative"):
        binomial_pvalue(5, 10, 0.5, alternative="two")
