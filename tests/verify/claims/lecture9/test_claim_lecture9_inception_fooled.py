"""Claim lecture-inception-fooled: exact inception scores of finite-support generators, the planted deficits'
known outcomes, the one-sided t limit, and a small run's record."""

import math

import numpy as np
import pytest

from ganlimits.verify import RunConfig
from ganlimits.verify.claims.lecture9 import inception_fooled as claim
from ganlimits.verify.estimators import inception_score


def test_finite_inception_score_equals_the_sample_score_of_the_atoms_repeated():
    """Oracle: a sample holding each atom equally often has the plug-in score of the law on the atoms."""
    rng = np.random.default_rng(1)
    P = rng.dirichlet(np.ones(3), size=(5, 3))  # 5 generators of 3 atoms
    exact = claim.finite_inception_score(P)
    for g in range(5):
        assert exact[g] == pytest.approx(inception_score(np.repeat(P[g], 7, axis=0)), rel=1e-12)
    w = np.array([0.5, 0.25, 0.25])  # weights: the sample holds atom 0 twice as often
    assert claim.finite_inception_score(P[0], w) == pytest.approx(inception_score(np.repeat(P[0], [2, 1, 1], axis=0)),
                                                                  rel=1e-12)


def test_the_uninformative_atom_raises_the_deficit_monotonically():
    """Known outcome of the planted family: more weight on the atom where p(y|x) is uniform lowers the score."""
    P = np.tile(np.eye(3)[None] * 0.9 + 0.1 / 3, (4, 1, 1))  # confident atoms, IS of the support-3 law
    flat = np.full(3, 1 / 3)
    is_true = 2.5
    d = [claim._deficits(P, flat, w, is_true).mean() for w in (0.0, 0.2, 0.5, 0.9)]
    assert all(a < b for a, b in zip(d, d[1:], strict=False))
    assert claim._deficits(P, flat, 1.0 - 1e-15, is_true).mean() == pytest.approx(1.0, abs=1e-9)  # IS -> 1


def test_one_sided_t_limit_covers_the_mean_deficit_at_its_nominal_rate():
    """Coverage of the upper limit on the claim's own deficit distribution: 20,000 random triples (seed 0) are the
    population; 1,000 repetitions of n = 200 drawn from it. Nominal 95%; the binomial 99.9% lower quantile of
    Bin(1000, 0.95) is 929. (On strongly right-skewed data such as an exponential the t limit under-covers,
    92.4% measured; the deficits are mildly left-skewed, skewness about -0.2.)"""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X, y = claim._true_np(3000, rng)
    clf = LogisticRegression(max_iter=2000).fit(X, y)
    is_true = inception_score(clf.predict_proba(claim._true_np(50000, rng)[0]))
    atoms = claim._triples(rng, 20000)
    P = clf.predict_proba(atoms.reshape(-1, claim.DIM)).reshape(20000, 3, 3)
    flat = clf.predict_proba(claim._modes().mean(axis=0)[None])[0]
    pool = claim._deficits(P, flat, 0.0, is_true)
    hits = sum(claim._mean_upper(rng.choice(pool, 200)).ci_high >= pool.mean() for _ in range(1000))
    assert hits >= 929


def test_certified_deficit_covers_the_mean():
    """Coverage of the two-sided Hoeffding certificate (nominal 1 - 1e-3) on deficits with a known mean: 300
    repetitions of 5,000 i.i.d. draws of (IS(true) - 3)/(IS(true) - 1) + range x Beta(2, 5) with IS(true) = 2
    (range 2, mean -1 + 2 x 2/7), numpy seed 3. Expected misses at most 0.3 (and far fewer: Hoeffding is
    conservative), so any miss fails; a half-width 20 times too small (below the standard error) misses often."""
    rng = np.random.default_rng(3)
    mean = -1 + 2 * 2 / 7
    misses = narrow = 0
    for _ in range(300):
        v = -1 + 2 * rng.beta(2, 5, size=5000)
        lo, hi = claim.certify_deficit(v, is_true=2.0)
        misses += not lo <= mean <= hi
        half = (hi - lo) / 40
        narrow += not v.mean() - half <= mean <= v.mean() + half
    assert misses == 0 and narrow > 100


def test_small_run_records_the_distribution_and_the_contrast(tmp_path):
    s = claim.Settings(n_train=800, atom_draws=40, n_truth=5000, power_repeats=5, fake_sizes=(2, 4, 8),
                       fake_repeats=20, true_sizes=(50,), true_repeats=4, n_reference=400, n_nnd=300, nnd_steps=60,
                       nnd_K=2, nnd_hidden=(8,))
    r = claim.run(RunConfig(quick=True, seed=0, out_dir=tmp_path, progress=False, figures=False), s)
    m = r.measurements
    q = m["probability_support3_at_least_true"]
    assert q["n"] == 40 and 0 <= q["ci_low"] <= q["estimate"] <= q["ci_high"] <= 1
    assert m["difference_support3_minus_true"]["n"] == 40 and r.measured.sides == 1
    assert r.resolution is not None and r.resolution["repeats"] == 5
    # the planted deficits are certified from both sides; the power curve's strengths are their upper ends
    certs = m["planted_certified_deficits"]
    assert all(lo < hi for lo, hi in certs) and r.resolution["strengths"] == [hi for _, hi in certs]
    assert r.resolution["direction"] == "upper" and r.resolution["n"] == r.measured.n == 40
    assert m["birthday_exposes"] and m["true_collisions"] == 0  # the contrast: the generator has 3 points
    assert math.isfinite(m["inception_true"]) and 1 < m["inception_true"] < 3


def test_settings_refuse_too_few_atom_draws():
    import dataclasses

    with pytest.raises(ValueError, match="atom_draws"):
        dataclasses.replace(claim.Settings.quick(), atom_draws=5)
