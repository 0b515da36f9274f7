"""Coverage and width of the birthday test's support intervals on known uniform supports.

Every run is the whole procedure a user runs on a law of unknown support: a pilot picks the sizes
(``pilot_sizes``), ``birthday_test`` draws R samples per size and reports the four interval types. The headline
(``HEADLINE_INTERVAL``, the likelihood-ratio interval calibrated by simulation) must cover at its nominal 95%
(exact one-sided binomial test at alpha = 0.01 does not reject) and be near the efficient width of the design
(median ``ci_high / ci_low`` within 1.2 times the Fisher-information width). The other types are measured and
printed beside it. A smaller smoke version runs in the default tier; the >= 50-seed version is ``slow``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

from ganlimits.verify import (
    HEADLINE_INTERVAL,
    SUPPORT_INTERVALS,
    birthday_test,
    pilot_sizes,
    support_intervals,
    threshold_from_noise,
)
from ganlimits.verify._streams import Streams

DIM, NOISE = 8, 0.01
THRESHOLD = threshold_from_noise(sigma=NOISE, dim=DIM)
REPEATS, N_SIZES = 25, 8  # the claim's quick design: 200 samples per test


def _uniform(N: int, g: torch.Generator):
    centers = torch.randn(N, DIM, generator=g, dtype=torch.float64)

    def sample(s: int, gen: torch.Generator) -> torch.Tensor:
        idx = torch.randint(0, N, (s,), generator=gen)
        return centers[idx] + NOISE * torch.randn(s, DIM, generator=gen, dtype=torch.float64)

    return sample


def _run(N: int, seed: int) -> dict:
    """One whole test on the uniform law on N random points (new points for every seed)."""
    g = torch.Generator().manual_seed(seed)
    sample = _uniform(N, g)
    sizes = pilot_sizes(sample, threshold=THRESHOLD, generator=g, n_sizes=N_SIZES)
    res = birthday_test(sample, sizes=sizes, repeats=REPEATS, threshold=THRESHOLD, generator=g)
    return {"covered": {k: v.ci_low <= N <= v.ci_high for k, v in res.support_intervals.items()},
            "width": {k: v.ci_high / v.ci_low for k, v in res.support_intervals.items()},
            "fisher": res.fisher_width}


def _table(N: int, seeds: int, stream: str) -> dict:
    streams = Streams(20170707)
    runs = [_run(N, streams.seed(stream, N, i)) for i in range(seeds)]
    out = {"n": seeds, "fisher": float(np.median([r["fisher"] for r in runs]))}
    for k in SUPPORT_INTERVALS:
        out[k] = (sum(r["covered"][k] for r in runs), float(np.median([r["width"][k] for r in runs])))
    return out


def _print(N: int, t: dict) -> None:
    cells = "  ".join(f"{k} {c}/{t['n']} width {w:.2f}" for k, (c, w) in ((k, t[k]) for k in SUPPORT_INTERVALS))
    print(f"N = {N}: {cells}  (efficient width {t['fisher']:.2f})")


def _check_headline(t: dict, N: int) -> None:
    covered, width = t[HEADLINE_INTERVAL]
    p = stats.binom.cdf(covered, t["n"], 0.95)  # P(X <= covered) when the coverage is exactly 95%
    assert p >= 0.01, f"N = {N}: {HEADLINE_INTERVAL} covered {covered}/{t['n']} (one-sided p = {p:.3g})"
    assert width <= 1.2 * t["fisher"], f"N = {N}: median width {width:.2f}, efficient {t['fisher']:.2f}"


def test_headline_interval_covers_smoke():
    """Smoke: 20 seeds on N = 300 (streams of master seed 20170707)."""
    t = _table(300, 20, "smoke")
    _print(300, t)
    _check_headline(t, 300)
    # the landed crossing interval is valid but far wider than the information allows
    assert t["cp_crossing"][1] > 2 * t[HEADLINE_INTERVAL][1]


@pytest.mark.slow
@pytest.mark.parametrize("N", [100, 1000, 10_000])
def test_headline_interval_covers(N):
    """60 seeds per support (streams of master seed 20170707); prints the coverage table of all four types."""
    t = _table(N, 60, "slow")
    _print(N, t)
    _check_headline(t, N)
    # Clopper-Pearson inversion (Bonferroni) is conservative: it covers at least as often, and is wider
    assert stats.binom.cdf(t["cp"][0], t["n"], 0.95) >= 0.01
    assert t["cp"][1] > t[HEADLINE_INTERVAL][1]


def test_calibration_repairs_a_short_chi_square_cut():
    """Exact coverage, by enumerating every possible curve: one size s = 40, R = 12 samples, support N = 1000. The
    chi-square cut of the likelihood ratio covers only 92.2% here (binomial data, few repeats); the cut calibrated
    by simulation (numpy seed c for the curve with c collisions) covers at least the nominal 95%."""
    from ganlimits.theory import uniform_collision_probability

    N, s, R = 1000, 40, 12
    pmf = stats.binom.pmf(np.arange(R + 1), R, uniform_collision_probability(N=N, s=s))
    coverage = dict.fromkeys(SUPPORT_INTERVALS, 0.0)
    for c in range(R + 1):
        for name, e in support_intervals([s], [c], R, generator=np.random.default_rng(c)).items():
            coverage[name] += pmf[c] * (e.ci_low <= N <= e.ci_high)
    assert coverage["lr"] == pytest.approx(0.9224, abs=1e-4)
    assert coverage["lr_calibrated"] >= 0.95, coverage
