"""Optimal-discriminator and first-order GAN dynamics on a mixture of two unit Gaussians (Li, Madry, Peebles &
Schmidt 2017, via Madry's lecture 9; ``docs/papers/li17.md``), vectorised over B runs, in float64.

Shape letters as in :mod:`._li17_model`.
"""

# ruff: noqa: E741  (l and r are the lecture's names for the interval ends)
from __future__ import annotations

from dataclasses import dataclass

import torch

from ._li17_model import _check_intervals, _check_step, _gradients, _mass, _one_thread, _tensor
from ._li17_roots import optimal_discriminator

__all__ = ["Li17Trajectory", "project_intervals", "optimal_discriminator_dynamics", "first_order_dynamics"]

_UPPER = torch.triu(torch.ones(4, 4, dtype=torch.bool))  # a <= i in the isotonic min-max formula

# ---- dynamics ---------------------------------------------------------------------------------------------


def project_intervals(*, l, r) -> tuple[torch.Tensor, torch.Tensor]:
    """Euclidean projection of (l_1, r_1, l_2, r_2) onto the ordered set l_1 <= r_1 <= l_2 <= r_2.

    .. math:: \\hat y_i = \\max_{a \\le i} \\min_{b \\ge i} \\operatorname{mean}(y_a, \\dots, y_b)

    (isotonic regression, min-max formula). Rows already ordered are returned unchanged, bit for bit.
    ``l``, ``r`` (..., 2), finite. Deviation: the lecture leaves the ordering constraint of the first-order
    dynamics implicit; this code restores it after every step by this projection, so an interval pushed to
    negative length becomes an empty interval at the midpoint of its crossed ends.
    """
    l, r = _tensor("l", l), _tensor("r", r)
    y = torch.stack([l[..., 0], r[..., 0], l[..., 1], r[..., 1]], dim=-1)
    bad = (y[..., 1:] < y[..., :-1]).any(dim=-1)
    if bool(bad.any()):
        big = torch.full((*y.shape[:-1], 4, 4), float("inf"), dtype=torch.float64)
        for a in range(4):
            for b in range(a, 4):
                big[..., a, b] = y[..., a : b + 1].mean(dim=-1)
        inner = torch.flip(torch.cummin(torch.flip(big, dims=(-1,)), dim=-1).values, dims=(-1,))  # min_{b>=i}
        proj = torch.where(_UPPER, inner, torch.tensor(-float("inf"), dtype=torch.float64)).max(dim=-2).values
        y = torch.where(bad[..., None], proj, y)
    return torch.stack([y[..., 0], y[..., 2]], dim=-1), torch.stack([y[..., 1], y[..., 3]], dim=-1)


@dataclass(frozen=True)
class Li17Trajectory:
    """Recorded states of B runs: ``mu``, ``l``, ``r`` (T, B, 2), ``loss`` (T, B), ``steps_at`` (T,) the step
    index of each record; ``mu_star`` (B, 2). ``dynamics`` is ``"optimal"`` or ``"first-order"``."""

    mu: torch.Tensor
    l: torch.Tensor
    r: torch.Tensor
    loss: torch.Tensor
    steps_at: torch.Tensor
    mu_star: torch.Tensor
    dynamics: str
    eta_g: float
    eta_d: float | None
    steps: int


def _record_plan(steps: int, record_every: int) -> list[int]:
    at = list(range(0, steps + 1, record_every))
    if at[-1] != steps:
        at.append(steps)
    return at


def _check_run(steps: int, record_every: int) -> None:
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if int(record_every) != record_every or record_every < 1:
        raise ValueError(f"record_every must be an integer >= 1, got {record_every!r}")


@_one_thread
def optimal_discriminator_dynamics(
    *, mu0, mu_star, eta_g: float, steps: int, record_every: int = 1
) -> Li17Trajectory:
    """Optimal-discriminator dynamics of Li et al. (2017), lecture 9 section 2, vectorised over B runs.

    .. math::
        (l^{(t)}, r^{(t)}) = \\arg\\max_{l, r} L(\\hat\\mu^{(t)}, l, r), \\qquad
        \\hat\\mu^{(t+1)} = \\hat\\mu^{(t)} - \\eta_g \\nabla_\\mu L(\\hat\\mu^{(t)}, l^{(t)}, r^{(t)})

    ``mu0`` (B, 2) initial means; ``mu_star`` (2,) or (B, 2) target means; ``eta_g`` > 0; ``steps`` >= 1.
    Records every ``record_every`` steps and the last; the recorded (l, r) is the optimal discriminator at the
    recorded mu, so the recorded loss is 1 + TV.
    """
    eta_g = _check_step("eta_g", eta_g)
    _check_run(steps, record_every)
    mu = _tensor("mu0", mu0).reshape(-1, 2).clone()
    ms = _tensor("mu_star", mu_star).expand(mu.shape).clone()
    plan = _record_plan(steps, record_every)
    T, B = len(plan), mu.shape[0]
    rec = {k: torch.empty((T, B, 2), dtype=torch.float64) for k in ("mu", "l", "r")}
    loss = torch.empty((T, B), dtype=torch.float64)
    k = 0
    with torch.no_grad():
        for t in range(steps + 1):
            l, r = optimal_discriminator(mu=mu, mu_star=ms)
            if t == plan[k]:
                rec["mu"][k], rec["l"][k], rec["r"][k] = mu, l, r
                loss[k] = 1.0 + _mass(l, r, ms) - _mass(l, r, mu)
                k += 1
            if t == steps:
                break
            mu = mu - eta_g * _gradients(mu, ms, l, r).mu
    return Li17Trajectory(
        rec["mu"], rec["l"], rec["r"], loss, torch.tensor(plan), ms, "optimal", eta_g, None, int(steps)
    )


@_one_thread
def first_order_dynamics(
    *,
    mu0,
    l0,
    r0,
    mu_star,
    eta_g: float,
    eta_d: float,
    steps: int,
    record_every: int = 1,
    train_generator: bool = True,
) -> Li17Trajectory:
    """Simultaneous first-order dynamics of Li et al. (2017), lecture 9 section 2, vectorised over B runs.

    .. math::
        \\hat\\mu^{(t+1)} = \\hat\\mu^{(t)} - \\eta_g \\nabla_\\mu L, \\quad
        r^{(t+1)} = r^{(t)} + \\eta_d \\nabla_r L, \\quad l^{(t+1)} = l^{(t)} + \\eta_d \\nabla_l L

    (all gradients at step t), followed by :func:`project_intervals`. ``mu0``, ``l0``, ``r0`` (B, 2), finite,
    ordered; ``mu_star`` (2,) or (B, 2); ``eta_g``, ``eta_d`` > 0. With ``train_generator=False`` only the
    discriminator moves (the lecture's Figure 2(c)). Deviation: see :func:`project_intervals`.
    """
    eta_g, eta_d = _check_step("eta_g", eta_g), _check_step("eta_d", eta_d)
    _check_run(steps, record_every)
    mu = _tensor("mu0", mu0).reshape(-1, 2).clone()
    B = mu.shape[0]
    l, r = _tensor("l0", l0).expand(B, 2).clone(), _tensor("r0", r0).expand(B, 2).clone()
    _check_intervals(l, r)
    ms = _tensor("mu_star", mu_star).expand(B, 2).clone()
    plan = _record_plan(steps, record_every)
    T = len(plan)
    rec = {k: torch.empty((T, B, 2), dtype=torch.float64) for k in ("mu", "l", "r")}
    loss = torch.empty((T, B), dtype=torch.float64)
    k = 0
    with torch.no_grad():
        for t in range(steps + 1):
            if t == plan[k]:
                rec["mu"][k], rec["l"][k], rec["r"][k] = mu, l, r
                loss[k] = 1.0 + _mass(l, r, ms) - _mass(l, r, mu)
                k += 1
            if t == steps:
                break
            g = _gradients(mu, ms, l, r)
            if train_generator:
                mu = mu - eta_g * g.mu
            l, r = project_intervals(l=l + eta_d * g.l, r=r + eta_d * g.r)
    return Li17Trajectory(
        rec["mu"], rec["l"], rec["r"], loss, torch.tensor(plan), ms, "first-order", eta_g, eta_d, int(steps)
    )
