# ruff: noqa: E741  (l and r are the lecture's names for the interval ends)
"""The two-Gaussian GAN model (Li et al. 2017, lecture 9): closed forms against independent oracles, the optimal
discriminator's roots, both dynamics, the outcome classifier and the discriminator-collapse detector."""

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from scipy import integrate, optimize
from sklearn.isotonic import IsotonicRegression

from ganlimits.theory.li17 import li17_numeric
from ganlimits.verify.lab.dynamics import (
    Li17Trajectory,
    classify_outcomes,
    density_difference_roots,
    detect_discriminator_collapse,
    first_order_dynamics,
    li17_gradients,
    li17_loss,
    mixture_density,
    optimal_discriminator,
    optimal_discriminator_dynamics,
    project_intervals,
    tv_mixtures,
)

F64 = torch.float64
MS = torch.tensor([-0.5, 0.5], dtype=F64)


def _random_state(rng, B):
    mu = rng.uniform(-3, 3, (B, 2))
    ms = rng.uniform(-3, 3, (B, 2))
    ends = np.sort(rng.uniform(-4, 4, (B, 4)), axis=1)
    return [torch.from_numpy(a) for a in (mu, ms, ends[:, [0, 2]], ends[:, [1, 3]])]


# ---- closed forms -------------------------------------------------------------------------------------------


def test_gradients_match_autograd_finite_differences_and_sympy():
    rng = np.random.default_rng(0)  # seed 0, 64 random states
    mu, ms, l, r = _random_state(rng, 64)
    g = li17_gradients(mu=mu, mu_star=ms, l=l, r=r)
    leaves = [t.clone().requires_grad_(True) for t in (mu, l, r)]
    li17_loss(mu=leaves[0], mu_star=ms, l=leaves[1], r=leaves[2]).sum().backward()
    for mine, leaf in zip((g.mu, g.l, g.r), leaves, strict=True):
        torch.testing.assert_close(mine, leaf.grad, rtol=0, atol=1e-7)
    h = 1e-6  # central differences: truncation ~h^2, rounding ~1e-16/h; both far below 1e-7
    for name, base in (("mu", mu), ("l", l), ("r", r)):
        for j in range(2):
            e = torch.zeros_like(base)
            e[:, j] = h
            args = {"mu": mu, "l": l, "r": r}
            up = li17_loss(mu_star=ms, **{**args, name: base + e})
            down = li17_loss(mu_star=ms, **{**args, name: base - e})
            fd = (up - down) / (2 * h)
            torch.testing.assert_close(getattr(g, name)[:, j], fd, rtol=0, atol=1e-7)
    f = li17_numeric()  # the sympy expressions, lambdified: a third, independent form
    cols = [mu[:, 0], mu[:, 1], ms[:, 0], ms[:, 1], l[:, 0], r[:, 0], l[:, 1], r[:, 1]]
    cols = [c.numpy() for c in cols]
    np.testing.assert_allclose(li17_loss(mu=mu, mu_star=ms, l=l, r=r).numpy(), f["L"](*cols), rtol=0, atol=1e-13)
    for name, got in (("mu_1", g.mu[:, 0]), ("r_2", g.r[:, 1]), ("l_1", g.l[:, 0])):
        np.testing.assert_allclose(got.numpy(), f[name](*cols), rtol=0, atol=1e-13)


def test_loss_equals_its_integral_definition():
    """L = E_{G_mu*} D + E_{G_mu}(1 - D) = 1 + int_D (p* - p_mu), by adaptive quadrature."""
    mu, ms = torch.tensor([0.3, 1.7], dtype=F64), torch.tensor([-0.8, 0.9], dtype=F64)
    l, r = torch.tensor([-1.5, 0.4], dtype=F64), torch.tensor([-0.2, 2.5], dtype=F64)

    def diff(x):
        x = torch.tensor([x], dtype=F64)
        return float(mixture_density(x, mu=ms) - mixture_density(x, mu=mu))

    quad = sum(integrate.quad(diff, float(l[j]), float(r[j]), epsabs=1e-14)[0] for j in range(2))
    assert float(li17_loss(mu=mu, mu_star=ms, l=l, r=r)) == pytest.approx(1 + quad, abs=1e-12)


def test_mixture_density_integrates_to_one():
    x = torch.linspace(-15, 15, 30001, dtype=F64)
    p = mixture_density(x, mu=torch.tensor([-1.0, 2.0], dtype=F64))
    assert float(torch.trapezoid(p, x)) == pytest.approx(1.0, abs=1e-10)


# ---- optimal discriminator --------------------------------------------------------------------------------

SPECIAL = [
    ((-0.5, 0.5), "identical"),
    ((0.5, -0.5), "identical, permuted"),
    ((-0.5, 1.3), "one mean shared"),
    ((0.0, 0.0), "merged generator"),
    ((-0.5 + 1e-9, 0.5 - 1e-6), "almost identical"),
    ((25.0, -30.0), "far away"),
    ((2.0, 2.6), "both right"),
]


@pytest.mark.parametrize("mu, case", SPECIAL)
def test_max_loss_is_one_plus_tv(mu, case):
    """L at the optimal discriminator equals 1 + TV, TV by adaptive quadrature of |p* - p_mu|/2, to 1e-9."""
    mu = torch.tensor(mu, dtype=F64)
    l, r = optimal_discriminator(mu=mu, mu_star=MS)
    assert bool(((r - l) >= 0).all()) and float(r[0]) <= float(l[1]), case
    tv_quad = float(tv_mixtures(mu=mu, mu_star=MS, method="quadrature"))
    assert float(li17_loss(mu=mu, mu_star=MS, l=l, r=r)) - 1 == pytest.approx(tv_quad, abs=1e-9), case
    assert float(tv_mixtures(mu=mu, mu_star=MS)) == pytest.approx(tv_quad, abs=1e-9), case


def test_identical_mixtures_have_no_sign_change():
    roots, sign = density_difference_roots(mu=torch.tensor([0.5, -0.5], dtype=F64), mu_star=MS)
    assert bool(torch.isnan(roots).all()) and float(sign) == 0.0
    l, r = optimal_discriminator(mu=MS, mu_star=MS)
    assert bool((l == r).all())
    assert float(li17_loss(mu=MS, mu_star=MS, l=l, r=r)) == 1.0


def test_optimal_beats_ten_thousand_random_interval_pairs():
    rng = np.random.default_rng(1)  # seed 1: 20 generators x 10^4 random ordered interval pairs in [-6, 6]
    mus = torch.from_numpy(rng.uniform(-3, 3, (20, 2)))
    ends = torch.from_numpy(np.sort(rng.uniform(-6, 6, (10_000, 4)), axis=1))
    lo, hi = optimal_discriminator(mu=mus, mu_star=MS)
    best = li17_loss(mu=mus, mu_star=MS, l=lo, r=hi)
    for i in range(20):
        others = li17_loss(mu=mus[i], mu_star=MS, l=ends[:, [0, 2]], r=ends[:, [1, 3]])
        assert float(others.max()) <= float(best[i]) + 1e-15
    # negative control: a random pair beats a *wrong* discriminator (the optimum shifted by 0.5)
    worse = li17_loss(mu=mus[0], mu_star=MS, l=(lo[0] + 0.5).clamp(max=hi[0, 0] + 0.5), r=hi[0] + 0.5)
    others = li17_loss(mu=mus[0], mu_star=MS, l=ends[:, [0, 2]], r=ends[:, [1, 3]])
    assert float(others.max()) > float(worse)


def _h(x, mu, ms):
    return sum(np.exp(-0.5 * (x - m) ** 2) for m in ms) - sum(np.exp(-0.5 * (x - m) ** 2) for m in mu)


@given(
    mu=st.tuples(st.floats(-4, 4), st.floats(-4, 4)),
    ms=st.tuples(st.floats(-4, 4), st.floats(-4, 4)),
)
@example(mu=(0.0, 0.0), ms=(-0.5, 0.5))
@example(mu=(-0.5, 0.7), ms=(-0.5, 0.5))
@example(mu=(0.0, 0.0), ms=(0.0, 1e-10))
@example(mu=(0.0, 0.0), ms=(1e-05, -1.0))
def test_every_reported_root_is_a_sign_change_and_none_is_missed(mu, ms):
    """Domain: means in [-4, 4]. Oracle: sign changes of p* - p_mu on a grid of step 1e-3 over [-14, 14]
    (sign changes closer than the grid step can hide from the grid but never from the Rolle recursion, so the
    grid count is a lower bound); each reported root within 38 of the means brackets a sign change at +-1e-7
    (relative), checked in 40-digit arithmetic, and a root beyond (where float64 densities underflow) has a true sign
    change on its side of the means (found for ms = (1e-5, -1): true root near 69,315, reported 26,063)."""
    roots, _ = density_difference_roots(mu=torch.tensor(mu, dtype=F64), mu_star=torch.tensor(ms, dtype=F64))
    found = roots[~torch.isnan(roots)].numpy()
    grid = np.linspace(-14, 14, 28_001)
    hg = _h(grid, mu, ms)
    s = np.sign(hg[np.abs(hg) > 1e-12])  # values below 1e-12 are rounding noise of the float64 oracle
    assert len(found) >= int((s[1:] != s[:-1]).sum())
    assert len(found) <= 3

    def h_exact(x):
        return sum(mpmath.exp(-((x - mpmath.mpf(m)) ** 2) / 2) for m in ms) - sum(
            mpmath.exp(-((x - mpmath.mpf(m)) ** 2) / 2) for m in mu)

    far = 38 + max(abs(m) for m in (*mu, *ms))  # beyond it both densities underflow in float64
    with mpmath.workdps(40):
        for x in found:
            if abs(x) <= far:
                d = mpmath.mpf(1e-7 * max(1.0, abs(x)))
                assert h_exact(mpmath.mpf(x) - d) * h_exact(mpmath.mpf(x) + d) < 0
            else:  # located only roughly (docstring): a true sign change lies out there, on the same side
                side = 1 if x > 0 else -1
                assert h_exact(mpmath.mpf(side * far)) * h_exact(mpmath.mpf(side * 1e9)) < 0


@pytest.fixture
def mp50():
    """50-digit mpmath for one test; the global precision is restored afterwards."""
    old = mpmath.mp.dps
    mpmath.mp.dps = 50
    yield
    mpmath.mp.dps = old


def test_close_roots_near_a_tangency_are_both_found(mp50):
    """mu* = (-2, 2), mu = (-1, m2): as m2 grows past t ~ 2.0783 a local extremum of p* - p_mu crosses 0 and two
    sign changes are born together (a tangency at m2 = t). Bisection on the number of reported roots locates t;
    at m2 = t + 1e-9 the two roots are ~1e-4 apart and must both be reported, matching 50-digit mpmath roots to
    1e-10; at m2 = t - 1e-9 the extremum has not crossed (mpmath) and no root may be reported near it. (Within a
    few ulps of t the sign of the extremum is below float64 resolution either way.)"""
    ms = torch.tensor([-2.0, 2.0], dtype=F64)

    def roots(m2):
        r, _ = density_difference_roots(mu=torch.tensor([-1.0, m2], dtype=F64), mu_star=ms)
        return r.numpy()

    a, b = 2.001, 2.2
    assert np.isnan(roots(a)).sum() == 2 and np.isnan(roots(b)).sum() == 0
    for _ in range(80):
        c = 0.5 * (a + b)
        a, b = (c, b) if np.isnan(roots(c)).sum() == 2 else (a, c)
    assert 2.07 < a < 2.09

    def h_at(m2):
        m2 = mpmath.mpf(m2)
        return lambda x: (mpmath.exp(-((x + 2) ** 2) / 2) + mpmath.exp(-((x - 2) ** 2) / 2)
                          - mpmath.exp(-((x + 1) ** 2) / 2) - mpmath.exp(-((x - m2) ** 2) / 2))

    after = roots(a + 1e-9)
    assert 1e-5 < after[2] - after[1] < 1e-3
    h = h_at(a + 1e-9)
    x_ext = mpmath.findroot(lambda x: mpmath.diff(h, x), mpmath.mpf(0.5 * (after[1] + after[2])))
    assert h(x_ext) * h(x_ext + mpmath.mpf("1e-3")) < 0  # the extremum has crossed: two genuine sign changes
    for x, lo, hi in ((after[1], x_ext - mpmath.mpf("1e-3"), x_ext), (after[2], x_ext, x_ext + mpmath.mpf("1e-3"))):
        exact = mpmath.findroot(h, (lo, hi), solver="anderson")
        assert abs(float(exact) - x) < 1e-10
    before = roots(a - 1e-9)
    h = h_at(a - 1e-9)
    x_ext = mpmath.findroot(lambda x: mpmath.diff(h, x), mpmath.mpf(after[1]))
    assert h(x_ext) * h(x_ext + mpmath.mpf("1e-3")) > 0  # not crossed yet: no sign change there ...
    assert np.isnan(before[1:]).all()  # ... and none reported


def test_roots_bad_input():
    with pytest.raises(ValueError, match="mu"):
        density_difference_roots(mu=torch.tensor([float("nan"), 0.0]), mu_star=MS)
    with pytest.raises(ValueError, match="mu_star"):
        optimal_discriminator(mu=MS, mu_star=torch.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="method"):
        tv_mixtures(mu=MS, mu_star=MS, method="grid")


# ---- input checks and sign conventions ----------------------------------------------------------------------


def test_bad_intervals_and_steps_raise():
    mu = torch.tensor([[0.0, 1.0]], dtype=F64)
    with pytest.raises(ValueError, match="l_1 <= r_1 <= l_2 <= r_2"):
        li17_loss(mu=mu, mu_star=MS, l=torch.tensor([[0.0, 1.0]]), r=torch.tensor([[-1.0, 2.0]]))
    with pytest.raises(ValueError, match="l_1 <= r_1 <= l_2 <= r_2"):
        li17_gradients(mu=mu, mu_star=MS, l=torch.tensor([[0.0, 0.5]]), r=torch.tensor([[1.0, 2.0]]))
    with pytest.raises(ValueError, match="l0"):
        first_order_dynamics(mu0=mu, l0=torch.tensor([[float("nan"), 1.0]]), r0=torch.tensor([[0.0, 2.0]]),
                             mu_star=MS, eta_g=0.1, eta_d=0.1, steps=3)
    with pytest.raises(ValueError, match="l0"):
        first_order_dynamics(mu0=mu, l0=torch.tensor([[-float("inf"), 1.0]]), r0=torch.tensor([[0.0, 2.0]]),
                             mu_star=MS, eta_g=0.1, eta_d=0.1, steps=3)
    for eta in (0.0, -0.1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="eta_g"):
            optimal_discriminator_dynamics(mu0=mu, mu_star=MS, eta_g=eta, steps=3)
        with pytest.raises(ValueError, match="eta_d"):
            first_order_dynamics(mu0=mu, l0=torch.tensor([[-1.0, 1.0]]), r0=torch.tensor([[0.0, 2.0]]),
                                 mu_star=MS, eta_g=0.1, eta_d=eta, steps=3)
    with pytest.raises(ValueError, match="steps"):
        optimal_discriminator_dynamics(mu0=mu, mu_star=MS, eta_g=0.1, steps=0)
    with pytest.raises(ValueError, match="mu0"):
        optimal_discriminator_dynamics(mu0=torch.tensor([[0.0, float("nan")]]), mu_star=MS, eta_g=0.1, steps=3)


def test_generator_descends_and_discriminator_ascends():
    """MATH.md section 4: one small generator step lowers L, one small discriminator step raises it. Negative
    control: the opposite signs move L the other way (the test distinguishes the conventions)."""
    rng = np.random.default_rng(2)  # seed 2, 32 random states, step 1e-4
    mu, _, l, r = _random_state(rng, 32)
    ms = MS.expand(32, 2)
    g = li17_gradients(mu=mu, mu_star=ms, l=l, r=r)
    base = li17_loss(mu=mu, mu_star=ms, l=l, r=r)
    keep = (g.mu.abs().sum(-1) > 1e-6) & ((g.l.abs() + g.r.abs()).sum(-1) > 1e-6)
    eta = 1e-4
    gen = first_order_dynamics(mu0=mu, l0=l, r0=r, mu_star=MS, eta_g=eta, eta_d=eta, steps=1,
                               train_generator=True)
    disc = first_order_dynamics(mu0=mu, l0=l, r0=r, mu_star=MS, eta_g=eta, eta_d=eta, steps=1,
                                train_generator=False)
    after_gen = li17_loss(mu=gen.mu[1], mu_star=ms, l=l, r=r)  # generator's move alone
    after_disc = disc.loss[1]
    assert bool((after_gen < base)[keep].all())
    assert bool((after_disc > base)[keep].all())
    wrong_gen = li17_loss(mu=mu + eta * g.mu, mu_star=ms, l=l, r=r)
    assert bool((wrong_gen > base)[keep].all())


# ---- projection and dynamics --------------------------------------------------------------------------------


def test_projection_matches_isotonic_regression_and_keeps_ordered_rows():
    rng = np.random.default_rng(3)  # seed 3: 200 unordered rows
    y = rng.normal(size=(200, 4))
    l, r = project_intervals(l=torch.from_numpy(y[:, [0, 2]]), r=torch.from_numpy(y[:, [1, 3]]))
    got = torch.stack([l[:, 0], r[:, 0], l[:, 1], r[:, 1]], -1).numpy()
    iso = IsotonicRegression()
    want = np.stack([iso.fit_transform(np.arange(4), row) for row in y])
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-14)
    ordered = np.sort(y, axis=1)
    l, r = project_intervals(l=torch.from_numpy(ordered[:, [0, 2]]), r=torch.from_numpy(ordered[:, [1, 3]]))
    assert np.array_equal(torch.stack([l[:, 0], r[:, 0], l[:, 1], r[:, 1]], -1).numpy(), ordered)


def test_first_order_matches_a_per_run_autograd_loop():
    """Oracle: each run alone, gradients by autograd, ordering restored by sklearn's isotonic regression."""
    rng = np.random.default_rng(4)  # seed 4: 6 runs x 60 steps, step 0.3
    mu, _, l, r = _random_state(rng, 6)
    traj = first_order_dynamics(mu0=mu, l0=l, r0=r, mu_star=MS, eta_g=0.3, eta_d=0.3, steps=60)
    iso = IsotonicRegression()
    for i in range(6):
        m, a, b = mu[i].clone(), l[i].clone(), r[i].clone()
        for _ in range(60):
            leaves = [t.clone().requires_grad_(True) for t in (m, a, b)]
            li17_loss(mu=leaves[0], mu_star=MS, l=leaves[1], r=leaves[2]).backward()
            m = m - 0.3 * leaves[0].grad
            ends = torch.stack([a[0], b[0], a[1], b[1]]) + 0.3 * torch.stack(
                [leaves[1].grad[0], leaves[2].grad[0], leaves[1].grad[1], leaves[2].grad[1]])
            if bool((ends[1:] < ends[:-1]).any()):
                ends = torch.from_numpy(iso.fit_transform(np.arange(4), ends.numpy()))
            a, b = ends[[0, 2]].detach(), ends[[1, 3]].detach()
        torch.testing.assert_close(traj.mu[-1, i], m.detach(), rtol=0, atol=1e-10)
        torch.testing.assert_close(traj.l[-1, i], a, rtol=0, atol=1e-10)
        torch.testing.assert_close(traj.r[-1, i], b, rtol=0, atol=1e-10)


def _slow_optimal(mu):
    """Independent oracle: sign changes on a fine grid refined by brentq (generic cases only)."""
    x = np.linspace(-15, 15, 60_001)
    h = _h(x, mu, (-0.5, 0.5))
    idx = np.flatnonzero(np.sign(h[1:]) * np.sign(h[:-1]) < 0)
    roots = [optimize.brentq(_h, x[i], x[i + 1], args=(mu, (-0.5, 0.5)), xtol=1e-15) for i in idx]
    pts = [-np.inf, *roots, np.inf]
    pieces = [(pts[j], pts[j + 1]) for j in range(len(pts) - 1) if _h(
        np.clip(0.5 * (pts[j] + pts[j + 1]), pts[j + 1] - 1, pts[j] + 1) if np.isfinite(pts[j] + pts[j + 1])
        else (pts[j + 1] - 1 if np.isfinite(pts[j + 1]) else pts[j] + 1), mu, (-0.5, 0.5)) > 0]
    return pieces


def test_optimal_dynamics_match_a_slow_oracle():
    rng = np.random.default_rng(5)  # seed 5: 4 runs x 15 steps of the optimal dynamics, step 0.1
    mu0 = torch.from_numpy(rng.uniform(-3, 3, (4, 2)))
    traj = optimal_discriminator_dynamics(mu0=mu0, mu_star=MS, eta_g=0.1, steps=15)
    for i in range(4):
        m = mu0[i].numpy().copy()
        for _ in range(15):
            pieces = _slow_optimal(tuple(m))
            grad = np.zeros(2)
            for lo, hi in pieces:
                grad += 0.5 * (np.exp(-0.5 * (hi - m) ** 2) - np.exp(-0.5 * (lo - m) ** 2)) / np.sqrt(2 * np.pi)
            m = m - 0.1 * grad
        np.testing.assert_allclose(traj.mu[-1, i].numpy(), m, rtol=0, atol=1e-10)


def test_same_input_same_trajectory_and_recording():
    rng = np.random.default_rng(6)
    mu, _, l, r = _random_state(rng, 5)
    a = first_order_dynamics(mu0=mu, l0=l, r0=r, mu_star=MS, eta_g=0.1, eta_d=0.1, steps=23, record_every=5)
    b = first_order_dynamics(mu0=mu, l0=l, r0=r, mu_star=MS, eta_g=0.1, eta_d=0.1, steps=23, record_every=1)
    assert a.steps_at.tolist() == [0, 5, 10, 15, 20, 23]
    assert torch.equal(a.mu, b.mu[a.steps_at]) and torch.equal(a.l, b.l[a.steps_at])


# ---- outcomes -------------------------------------------------------------------------------------------------


def _traj(mu_path, l=(-1.0, 1.0), r=(0.0, 2.0), dynamics="first-order"):
    """A hand-built one-run trajectory with a fixed discriminator."""
    mu = torch.tensor(mu_path, dtype=F64)[:, None, :]
    T = mu.shape[0]
    lt = torch.tensor(l, dtype=F64).expand(T, 1, 2).clone()
    rt = torch.tensor(r, dtype=F64).expand(T, 1, 2).clone()
    return Li17Trajectory(mu, lt, rt, torch.zeros(T, 1, dtype=F64), torch.arange(T), MS[None].clone(), dynamics,
                          0.1, 0.1, T - 1)


def test_classifier_on_constructed_runs():
    conv = _traj([(-2.0, 2.0)] * 5 + [(0.52, -0.49)] * 20)
    collapse = _traj([(-2.0, 2.0)] * 5 + [(0.01, -0.02)] * 20)
    stalled = _traj([(4.0, 6.0)] * 20, l=(-14.0, -11.0), r=(-12.0, -10.0))
    moving = _traj([(-2.0, 2.0)] * 5 + [(0.8, -0.9)] * 20)  # off target, separated, discriminator pulls it
    labels = [classify_outcomes(t).labels[0] for t in (conv, collapse, stalled, moving)]
    assert labels == ["converged", "mode-collapse", "vanishing-gradient", "other"]
    # the merged pair is not called a collapse when the target's own means are not apart
    same = _traj([(0.01, -0.02)] * 20)
    same = Li17Trajectory(same.mu, same.l, same.r, same.loss, same.steps_at, torch.tensor([[0.0, 0.05]], dtype=F64),
                          same.dynamics, 0.1, 0.1, 19)
    assert classify_outcomes(same).labels[0] == "converged"
    with pytest.raises(ValueError, match="window"):
        classify_outcomes(conv, window=0.0)


def test_optimal_dynamics_converge_and_merged_start_stays_merged():
    traj = optimal_discriminator_dynamics(mu0=torch.tensor([[2.5, -2.0], [0.3, 0.3]], dtype=F64), mu_star=MS,
                                          eta_g=0.1, steps=400, record_every=4)
    out = classify_outcomes(traj)
    assert out.labels.tolist() == ["converged", "mode-collapse"]
    assert float(traj.mu[-1, 1, 0]) == float(traj.mu[-1, 1, 1])  # symmetry: exactly equal for ever
    # the recorded loss of the optimal dynamics is 1 + TV at every record
    tv = tv_mixtures(mu=traj.mu[::10], mu_star=MS)
    torch.testing.assert_close(traj.loss[::10], 1 + tv, rtol=0, atol=1e-12)


def test_discriminator_collapse_detector():
    ms = torch.tensor([-2.0, 2.0], dtype=F64)
    mu0 = torch.tensor([[-1.0, 2.5]], dtype=F64)
    fig2c = first_order_dynamics(mu0=mu0, l0=torch.tensor([[-1.0, 1.0]], dtype=F64),
                                 r0=torch.tensor([[0.2, 2.5]], dtype=F64), mu_star=ms, eta_g=0.3, eta_d=0.3,
                                 steps=300, train_generator=False)
    det = detect_discriminator_collapse(fig2c)
    assert bool(det.collapsed[0]) and 0 < int(det.first_step[0]) < 300
    assert float(fig2c.r[-1, 0, 0] - fig2c.l[-1, 0, 0]) == 0.0  # the left interval has length exactly 0
    l_opt, r_opt = optimal_discriminator(mu=mu0, mu_star=ms)
    start_opt = first_order_dynamics(mu0=mu0, l0=l_opt.clamp(-12, 12), r0=r_opt.clamp(-12, 12), mu_star=ms,
                                     eta_g=0.3, eta_d=0.3, steps=300, train_generator=False)
    assert not bool(detect_discriminator_collapse(start_opt).collapsed[0])
    # an interval parked wholly in {p* < p_mu} at the end is flagged even before it has shrunk to zero
    parked = _traj([(-1.0, 2.5)] * 3, l=(-1.0, 1.0), r=(0.2, 2.5))
    parked = Li17Trajectory(parked.mu, parked.l, parked.r, parked.loss, parked.steps_at, ms[None].clone(),
                            "first-order", 0.3, 0.3, 2)
    det = detect_discriminator_collapse(parked)
    assert bool(det.negative_at_end[0]) and bool(det.collapsed[0]) and int(det.first_step[0]) == -1
    with pytest.raises(ValueError, match="first_order_dynamics"):
        detect_discriminator_collapse(optimal_discriminator_dynamics(mu0=mu0, mu_star=ms, eta_g=0.3, steps=2))
