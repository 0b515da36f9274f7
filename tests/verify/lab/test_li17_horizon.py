# ruff: noqa: E741  (l and r are the lecture's names for the interval ends)
"""k discriminator steps per generator step, outcomes against the step count, the settled horizon, and the
one-sided Clopper-Pearson limits the li17 verdict is decided on."""

import numpy as np
import pytest
import torch
from scipy import stats
from sklearn.isotonic import IsotonicRegression

from ganlimits.verify.lab.dynamics import first_order_dynamics, li17_loss, outcomes_until_settled, proportion_interval

F64 = torch.float64
MS = torch.tensor([-0.5, 0.5], dtype=F64)


def _starts(seed, B):
    rng = np.random.default_rng(seed)
    ends = np.sort(rng.uniform(-3, 3, (B, 4)), axis=1)
    return (torch.from_numpy(rng.uniform(-3, 3, (B, 2))), torch.from_numpy(ends[:, [0, 2]]),
            torch.from_numpy(ends[:, [1, 3]]))


def _autograd_step(m, a, b, eta, move_generator):
    iso = IsotonicRegression()
    leaves = [t.clone().requires_grad_(True) for t in (m, a, b)]
    li17_loss(mu=leaves[0], mu_star=MS, l=leaves[1], r=leaves[2]).backward()
    if move_generator:
        m = m - eta * leaves[0].grad
    ends = torch.stack([a[0], b[0], a[1], b[1]]) + eta * torch.stack(
        [leaves[1].grad[0], leaves[2].grad[0], leaves[1].grad[1], leaves[2].grad[1]])
    if bool((ends[1:] < ends[:-1]).any()):
        ends = torch.from_numpy(iso.fit_transform(np.arange(4), ends.numpy()))
    return m.detach(), ends[[0, 2]].detach(), ends[[1, 3]].detach()


def test_k_discriminator_steps_match_a_per_run_autograd_loop():
    """Oracle: per run, k - 1 discriminator-only autograd steps, then one joint step whose generator gradient is
    taken at the same state as the discriminator's k-th step (seed 7: 4 runs x 25 generator steps, k = 3)."""
    mu, l, r = _starts(7, 4)
    traj = first_order_dynamics(mu0=mu, l0=l, r0=r, mu_star=MS, eta_g=0.3, eta_d=0.3, steps=25, d_steps=3)
    assert traj.d_steps == 3
    for i in range(4):
        m, a, b = mu[i].clone(), l[i].clone(), r[i].clone()
        for _ in range(25):
            for _ in range(2):
                _, a, b = _autograd_step(m, a, b, 0.3, move_generator=False)
            m, a, b = _autograd_step(m, a, b, 0.3, move_generator=True)
        torch.testing.assert_close(traj.mu[-1, i], m, rtol=0, atol=1e-10)
        torch.testing.assert_close(traj.l[-1, i], a, rtol=0, atol=1e-10)
        torch.testing.assert_close(traj.r[-1, i], b, rtol=0, atol=1e-10)


def test_per_run_step_counts_equal_separate_runs():
    mu, l, r = _starts(8, 6)
    ks = np.array([1, 1, 2, 2, 5, 5])
    mixed = first_order_dynamics(mu0=mu, l0=l, r0=r, mu_star=MS, eta_g=0.1, eta_d=0.1, steps=40, d_steps=ks)
    for k in (1, 2, 5):
        rows = np.flatnonzero(ks == k)
        alone = first_order_dynamics(mu0=mu[rows], l0=l[rows], r0=r[rows], mu_star=MS, eta_g=0.1, eta_d=0.1,
                                     steps=40, d_steps=k)
        assert torch.equal(mixed.mu[:, rows], alone.mu) and torch.equal(mixed.l[:, rows], alone.l)
    with pytest.raises(ValueError, match="d_steps"):
        first_order_dynamics(mu0=mu, l0=l, r0=r, mu_star=MS, eta_g=0.1, eta_d=0.1, steps=5, d_steps=0)


def test_segments_are_one_long_run_and_the_horizon_is_the_first_settled_checkpoint():
    mu, l, r = _starts(9, 30)
    kw = dict(mu0=mu, l0=l, r0=r, mu_star=MS, eta_g=0.1, eta_d=0.1, record_every=10)
    curve = outcomes_until_settled(dynamics="first-order", checkpoints=(100, 300, 600), settled_share=0.99,
                                   extra_checkpoints=1, **kw)
    # settled_share 0.99: settled at the first checkpoint unless 30 of 30 runs still move; then one extra
    assert curve.settled and curve.horizon == 100 and curve.checkpoints == (100, 300)
    one = first_order_dynamics(steps=300, **kw)
    assert torch.equal(curve.trajectory.mu, one.mu) and torch.equal(curve.trajectory.r, one.r)
    assert curve.trajectory.steps_at.tolist() == one.steps_at.tolist()
    never = outcomes_until_settled(dynamics="first-order", checkpoints=(20, 40), settled_share=1e-9, **kw)
    assert not never.settled and never.horizon == 40 and never.checkpoints == (20, 40)
    assert sum(never.counts[-1].values()) == 30 and len(never.table()) == 2
    with pytest.raises(ValueError, match="checkpoints"):
        outcomes_until_settled(dynamics="first-order", checkpoints=(300, 100), **kw)
    with pytest.raises(ValueError, match="dynamics"):
        outcomes_until_settled(dynamics="second-order", checkpoints=(100,), **kw)


def test_known_outcome_runs_are_classified_as_known():
    """Merged starts never separate (symmetry: both means get the same gradient); a start at the equilibrium with
    empty intervals is a fixed point (every gradient is 0), so it is converged at every horizon."""
    rng = np.random.default_rng(10)
    u = rng.uniform(-3, 3, (6, 1))
    _, l, r = _starts(10, 6)
    pts = torch.from_numpy(np.sort(rng.uniform(-3, 3, (6, 2)), axis=1))
    curve = outcomes_until_settled(
        dynamics="first-order", mu0=torch.cat([torch.from_numpy(np.repeat(u, 2, axis=1)), MS.expand(6, 2)]),
        l0=torch.cat([l, pts]), r0=torch.cat([r, pts]), mu_star=MS, eta_g=0.1, eta_d=0.1, checkpoints=(400,))
    assert curve.outcomes.labels.tolist() == ["mode-collapse"] * 6 + ["converged"] * 6
    assert torch.equal(curve.trajectory.mu[-1, 6:], MS.expand(6, 2))


@pytest.mark.parametrize("n", [30, 150])
def test_one_sided_clopper_pearson_has_exact_coverage_at_least_nominal(n):
    """Exact coverage (binomial enumeration, no Monte Carlo) of each one-sided 95% limit over a grid of true p."""
    counts = np.arange(n + 1)
    lows = np.array([proportion_interval(int(c), n, sides=1).ci_low for c in counts])
    highs = np.array([proportion_interval(int(c), n, sides=1).ci_high for c in counts])
    for p in np.linspace(0.01, 0.99, 41):
        pmf = stats.binom.pmf(counts, n, p)
        assert pmf[lows <= p].sum() >= 0.95 - 1e-12
        assert pmf[highs >= p].sum() >= 0.95 - 1e-12
    one = proportion_interval(17, 40, sides=1)
    assert one.sides == 1 and one.confidence == 0.95
    assert one.ci_low == pytest.approx(proportion_interval(17, 40, confidence=0.90).ci_low, rel=1e-12)
