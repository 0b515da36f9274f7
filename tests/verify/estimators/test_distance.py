"""Wasserstein-1 against closed forms and brute force; the neural-net distance: power, a null case, and the
held-out scoring replayed by hand."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.stats import wasserstein_distance

from ganlimits.verify import MLPFamily, neural_net_distance, wasserstein1
from ganlimits.verify.estimators import NNDInfo


# ----- Wasserstein-1 ---------------------------------------------------------------------------------------
def _lp_oracle(x, y, wx, wy):
    """Independent oracle: the transport LP solved by scipy's HiGHS (linprog), not by POT."""
    from scipy.optimize import linprog

    n, m = len(wx), len(wy)
    cost = np.linalg.norm(x[:, None, :] - y[None, :, :], axis=-1).ravel()
    rows = np.zeros((n + m, n * m))
    for i in range(n):
        rows[i, i * m:(i + 1) * m] = 1
    for j in range(m):
        rows[n + j, j::m] = 1
    res = linprog(cost, A_eq=rows, b_eq=np.concatenate([wx, wy]), bounds=(0, None), method="highs")
    assert res.status == 0
    return res.fun


def test_exact_equals_the_sorted_1d_formula():
    # 1-D points embedded in R^2 (second coordinate 0): W1 between two equal-size empirical laws is the mean gap
    # of the sorted samples; unequal sizes: scipy's quantile formula.
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=300), rng.exponential(size=300)
    closed = float(np.mean(np.abs(np.sort(a) - np.sort(b))))
    emb = wasserstein1(np.c_[a, np.zeros(300)], np.c_[b, np.zeros(300)], method="exact")
    assert emb.estimate == pytest.approx(closed, rel=1e-10) and emb.method == "exact (ot.emd2)"
    assert emb.ci_low == emb.ci_high == emb.estimate
    c = rng.normal(size=123)
    assert wasserstein1(a, c).estimate == pytest.approx(wasserstein_distance(a, c), rel=1e-10)


def test_exact_matches_brute_force_over_permutations():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 3)) + 0.5
    brute = min(np.mean(np.linalg.norm(x - y[list(perm)], axis=1)) for perm in itertools.permutations(range(6)))
    assert wasserstein1(x, y, method="exact").estimate == pytest.approx(brute, rel=1e-12)


@pytest.mark.parametrize("seed", [2, 3, 4])
def test_exact_with_unequal_sizes_and_weights_matches_an_independent_lp(seed):
    # unequal sizes (5 vs 8 atoms in R^3), random weights: POT's network simplex against scipy's HiGHS LP
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(8, 3)) + 0.3
    wx, wy = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(8))
    got = wasserstein1(x, y, weights_x=wx, weights_y=wy, method="exact").estimate
    assert got == pytest.approx(_lp_oracle(x, y, wx, wy), rel=1e-9, abs=1e-12)
    uniform = wasserstein1(x, y, method="exact").estimate
    assert uniform == pytest.approx(_lp_oracle(x, y, np.full(5, 0.2), np.full(8, 0.125)), rel=1e-9)


def test_repeated_atoms_are_the_same_law_as_weights():
    # an empirical measure on m points written as copies equals the same points with integer weights
    rng = np.random.default_rng(5)
    pts, fresh = rng.normal(size=(4, 2)), rng.normal(size=(9, 2))
    copies = np.repeat(pts, [1, 2, 3, 4], axis=0)
    a = wasserstein1(copies, fresh, method="exact").estimate
    b = wasserstein1(pts, fresh, weights_x=[1, 2, 3, 4], method="exact").estimate
    assert a == pytest.approx(b, rel=1e-12)


@pytest.mark.parametrize("d", [1, 3])
def test_translation_moves_w1_by_the_norm_of_the_shift(d):
    # W1(mu, mu + v) = ||v|| in any dimension (lower bound from f(x) = <x, v/||v||>, upper from the shift).
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, d))
    v = np.array([0.7, -1.1, 0.4][:d])
    assert wasserstein1(x, x + v, method="exact").estimate == pytest.approx(np.linalg.norm(v), rel=1e-10)


def test_sliced_is_a_lower_bound_and_matches_the_translation_closed_form():
    # For a pure translation every projection's 1-D W1 is |<theta, v>|, and for theta uniform on S^2,
    # E|theta_1| = 1/2: SW1 = ||v|| / 2. Sliced estimates never exceed the exact W1 (per direction).
    rng = np.random.default_rng(3)
    x = rng.normal(size=(150, 3))
    v = np.array([1.0, 2.0, -2.0])  # ||v|| = 3
    sw = wasserstein1(x, x + v, method="sliced", n_projections=4000, rng=torch.Generator().manual_seed(0))
    assert sw.ci_low <= 1.5 <= sw.ci_high, sw
    assert "lower bound" in sw.method and sw.n == 4000
    y = rng.standard_t(3, size=(90, 3))  # unequal sizes
    exact = wasserstein1(x, y, method="exact").estimate
    sliced = wasserstein1(x, y, method="sliced", n_projections=500, rng=torch.Generator().manual_seed(1))
    assert sliced.estimate <= exact + 1e-12  # every projected W1 is <= W1 of the same pair, so is their mean


def test_auto_picks_exact_for_small_and_sliced_for_large_samples():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(50, 2)), rng.normal(size=(60, 2))
    assert wasserstein1(x, y).method.startswith("exact")
    assert wasserstein1(x, y, max_exact=10, rng=torch.Generator()).method.startswith("sliced")


@pytest.mark.parametrize("kwargs,match", [
    (dict(method="emd"), "method"), (dict(method="sliced"), "rng"), (dict(method="sliced", rng=-1), "rng"),
    (dict(method="sliced", rng=0, n_projections=0), "n_projections"),
    (dict(method="exact", max_exact=3), "max_exact"), (dict(weights_x=[1, 1]), "weights_x"),
    (dict(weights_y=[-1, 1, 1, 1, 1]), "weights_y"),
])
def test_wasserstein_bad_arguments(kwargs, match):
    x = np.zeros((5, 2))
    with pytest.raises(ValueError, match=match):
        wasserstein1(x, x + 1, **kwargs)


def test_wasserstein_bad_samples():
    with pytest.raises(ValueError, match="same width"):
        wasserstein1(np.zeros((5, 2)), np.zeros((5, 3)))
    with pytest.raises(ValueError, match="NaN"):
        wasserstein1(np.full((5, 2), np.nan), np.zeros((5, 2)))


# ----- neural-net distance -------------------------------------------------------------------------------
NND = dict(hidden=(32, 32), K=8, steps=200, lr=0.01)


@pytest.mark.parametrize("phi,threshold", [("identity", 0.1), ("log", 0.1)])
def test_nnd_separates_a_point_mass_from_a_spread_target(phi, threshold):
    # P = N(0, 4 I_2), Q = a point mass at (0.5, 0.5); 2,000 points each, half for training, half held out.
    # The lower confidence limit (95%, Bonferroni over K = 8) must exceed the stated threshold
    # (measured with this seed: estimates 0.27 and 0.46, lower limits 0.19 and 0.29).
    g = torch.Generator().manual_seed(0)
    p = 2.0 * torch.randn(2000, 2, generator=g)
    q = torch.full((2000, 2), 0.5)
    est, info = neural_net_distance(p, q, phi=phi, generator=g, return_info=True, **NND)
    assert est.ci_low > threshold, est
    assert isinstance(info, NNDInfo) and info.capacity == 2 * 32 + 32 + 32 * 32 + 32 + 32 + 1
    assert f"p={info.capacity}" in est.method and info.K == 8
    assert float(info.test_values.max()) == est.estimate
    assert info.best_member == int(info.test_values.argmax())


def test_nnd_of_one_distribution_is_about_zero():
    # Two independent samples of N(0, 4 I_2): the attacker overfits its training half, but on the held-out
    # halves the interval must contain 0.
    g = torch.Generator().manual_seed(1)
    p, q = 2.0 * torch.randn(2000, 2, generator=g), 2.0 * torch.randn(2000, 2, generator=g)
    est, info = neural_net_distance(p, q, generator=g, return_info=True, **NND)
    assert est.ci_low <= 0.0 <= est.ci_high, est
    assert abs(est.estimate) < 0.05


def test_nnd_of_a_ready_family_replays_the_documented_split():
    # steps=0: only held-out scoring. Replay: randperm of P, randperm of Q from the same generator; the
    # estimate is max_k mean D_k(P_test) - mean D_k(Q_test) (identity), computed here by hand.
    g0 = torch.Generator().manual_seed(2)
    p, q = torch.randn(101, 3, generator=g0), torch.randn(80, 3, generator=g0) + 0.3
    fam = MLPFamily(in_dim=3, hidden=(5,), K=4, input_radius=4.0, generator=g0)
    est = neural_net_distance(p, q, family=fam, steps=0, generator=torch.Generator().manual_seed(7))
    g = torch.Generator().manual_seed(7)
    perm_p, perm_q = torch.randperm(101, generator=g), torch.randperm(80, generator=g)
    p_te, q_te = p.double()[perm_p[50:]], q.double()[perm_q[40:]]
    by_hand = (fam(p_te).double().mean(1) - fam(q_te).double().mean(1)).max()
    assert est.estimate == pytest.approx(float(by_hand), rel=0, abs=1e-12)
    half = math.sqrt(0.5 * (1 / 51 + 1 / 40) * math.log(2 * 4 / 0.05))
    assert est.ci_high - est.estimate == pytest.approx(half, rel=1e-12)


@pytest.mark.parametrize("kwargs,match", [
    (dict(train_fraction=1.0), "train_fraction"), (dict(train_fraction=0.001), "train_fraction"),
    (dict(phi="exp"), "phi"), (dict(confidence=0.0), "confidence"),
])
def test_nnd_bad_arguments(kwargs, match):
    x = torch.zeros(20, 2)
    with pytest.raises(ValueError, match=match):
        neural_net_distance(x, x + 1, generator=torch.Generator(), steps=0, **kwargs)


def test_nnd_bad_samples():
    g = torch.Generator()
    with pytest.raises(ValueError, match="same width"):
        neural_net_distance(torch.zeros(20, 2), torch.zeros(20, 3), generator=g, steps=0)
    with pytest.raises(ValueError, match="in_dim"):
        fam = MLPFamily(in_dim=3, K=1, generator=g)
        neural_net_distance(torch.zeros(20, 2), torch.zeros(20, 2), family=fam, generator=g, steps=0)
    with pytest.raises(ValueError, match="sample_p"):
        neural_net_distance(torch.full((20, 2), float("nan")), torch.zeros(20, 2), generator=g, steps=0)
