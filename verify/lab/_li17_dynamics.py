"""Optimal-discriminator and first-order GAN dynamics on a mixture of two unit Gaussians (Li, Madry, Peebles &
Schmidt 2017, via Madry's lecture 9; ``docs/papers/li17.md``), vectorised over B runs, in float64.

Shape letters as in :mod:`._li17_model`.
"""

# ruff: noqa: E741  (l and r are the lecture's names for the interval ends)
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ._li17_model import _check_intervals, _check_step, _gradients, _mass, _one_thread, _tensor
from ._li17_roots import optimal_discriminator

__all__ = ["Li17Trajectory", "project_intervals", "optimal_discriminator_dynamics", "first_order_dynamics"]

_UPPER = np.triu(np.ones((4, 4), dtype=bool))  # a <= b in the isotonic min-max formula
_LENGTH = (np.arange(4)[None, :] - np.arange(4)[:, None] + 1).astype(np.float64)  # [a, b]: b - a + 1

# ---- dynamics ---------------------------------------------------------------------------------------------


def _isotonic4(y: np.ndarray) -> np.ndarray:
    """Isotonic regression of each row of ``y`` (n, 4) by the min-max formula (see :func:`project_intervals`)."""
    c = np.concatenate([np.zeros((y.shape[0], 1)), np.cumsum(y, axis=1)], axis=1)
    with np.errstate(invalid="ignore"):
        means = (c[:, None, 1:] - c[:, :-1, None]) / _LENGTH  # [a, b] = mean(y_a, ..., y_b) for a <= b
    means = np.where(_UPPER, means, np.inf)
    inner = np.minimum.accumulate(means[..., ::-1], axis=-1)[..., ::-1]  # [a, i] = min_{b >= i}
    return np.where(_UPPER, inner, -np.inf).max(axis=-2)  # [i] = max_{a <= i}


def _project_rows(y: np.ndarray) -> np.ndarray:
    """``y`` (B, 4) = (l_1, r_1, l_2, r_2) with the unordered rows projected; ordered rows untouched."""
    bad = (y[:, 1:] < y[:, :-1]).any(axis=1)
    if bad.any():
        y = y.copy()
        y[bad] = _isotonic4(y[bad])
    return y


_SIGN = np.array([-1.0, 1.0, -1.0, 1.0])  # dL/dl_j = -(p* - p_mu)(l_j), dL/dr_j = +(p* - p_mu)(r_j)
_HALF_PHI = 0.5 / np.sqrt(2 * np.pi)


def _step_gradients(y: np.ndarray, means: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of L for the numpy inner loop, from one (B, 4, 4) table of exp(-(y_e - m)^2 / 2).

    ``y`` (B, 4) = (l_1, r_1, l_2, r_2); ``means`` (B, 4) = (mu*_1, mu*_2, mu_1, mu_2). Returns dL/dy (B, 4)
    and dL/dmu (B, 2): the closed forms of :func:`~ganlimits.verify.lab.dynamics.li17_gradients` (dL/dr_j = p*(r_j) -
    p_mu(r_j), dL/dl_j = -(p*(l_j) - p_mu(l_j)), dL/dmu_i = 1/2 sum_j [phi(r_j - mu_i) - phi(l_j - mu_i)]).
    """
    e = y[:, :, None] - means[:, None, :]
    t = np.exp(-0.5 * e * e)
    g_y = _HALF_PHI * _SIGN * (t[:, :, 0] + t[:, :, 1] - t[:, :, 2] - t[:, :, 3])
    g_mu = _HALF_PHI * (t[:, 1, 2:] + t[:, 3, 2:] - t[:, 0, 2:] - t[:, 2, 2:])
    return g_y, g_mu


def project_intervals(*, l, r) -> tuple[torch.Tensor, torch.Tensor]:
    """Euclidean projection of (l_1, r_1, l_2, r_2) onto the ordered set l_1 <= r_1 <= l_2 <= r_2.

    .. math:: \\hat y_i = \\max_{a \\le i} \\min_{b \\ge i} \\operatorname{mean}(y_a, \\dots, y_b)

    (isotonic regression, min-max formula, the means from prefix sums). Rows already ordered are returned
    unchanged, bit for bit. ``l``, ``r`` (..., 2), finite. Deviation: the lecture leaves the ordering constraint of
    the first-order dynamics implicit; this code restores it after every step by this projection, so an interval
    pushed to negative length becomes an empty interval at the midpoint of its crossed ends.
    """
    l, r = _tensor("l", l), _tensor("r", r)
    l, r = torch.broadcast_tensors(l, r)
    y = torch.stack([l[..., 0], r[..., 0], l[..., 1], r[..., 1]], dim=-1)
    flat = torch.from_numpy(_project_rows(y.reshape(-1, 4).numpy())).reshape(y.shape)
    return flat[..., 0::2], flat[..., 1::2]


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
    d_steps: int | tuple[int, ...] = 1


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
    d_steps: int = 1,
) -> Li17Trajectory:
    """Simultaneous first-order dynamics of Li et al. (2017), lecture 9 section 2, vectorised over B runs.

    .. math::
        \\hat\\mu^{(t+1)} = \\hat\\mu^{(t)} - \\eta_g \\nabla_\\mu L, \\quad
        r^{(t+1)} = r^{(t)} + \\eta_d \\nabla_r L, \\quad l^{(t+1)} = l^{(t)} + \\eta_d \\nabla_l L

    (all gradients at step t), followed by :func:`project_intervals`. ``mu0``, ``l0``, ``r0`` (B, 2), finite,
    ordered; ``mu_star`` (2,) or (B, 2); ``eta_g``, ``eta_d`` > 0. With ``train_generator=False`` only the
    discriminator moves (the lecture's Figure 2(c)). Deviation: see :func:`project_intervals`.

    ``d_steps`` = k >= 1 (an integer, or one per run) discriminator steps per generator step (the unrolled
    discriminator of the lecture's section 1: "take multiple steps on V ... for each step on G"): within
    generator step t the discriminator
    takes k gradient-ascent steps against the fixed mu^(t), and the generator steps with its gradient at the
    discriminator of the k-th of them (simultaneously with it), so ``d_steps=1`` is the simultaneous dynamics
    above, bit for bit. ``steps`` and the records count generator steps.
    """
    eta_g, eta_d = _check_step("eta_g", eta_g), _check_step("eta_d", eta_d)
    _check_run(steps, record_every)
    mu = _tensor("mu0", mu0).reshape(-1, 2).clone()
    B = mu.shape[0]
    k_run = np.broadcast_to(np.asarray(d_steps), (B,)).copy() if np.ndim(d_steps) <= 1 else None
    if k_run is None or k_run.dtype.kind not in "iu" or (k_run < 1).any():
        raise ValueError(f"d_steps must be an integer >= 1 or one such integer per run, got {d_steps!r}")
    uniform = bool((k_run == k_run[0]).all())
    l, r = _tensor("l0", l0).expand(B, 2).clone(), _tensor("r0", r0).expand(B, 2).clone()
    _check_intervals(l, r)
    ms = _tensor("mu_star", mu_star).expand(B, 2).clone()
    plan = _record_plan(steps, record_every)
    rec_mu = np.empty((len(plan), B, 2))
    rec_y = np.empty((len(plan), B, 4))
    # numpy inner loop (a step on (B, 4) arrays costs a fraction of the same step in torch):
    # y = (l_1, r_1, l_2, r_2) per row, means = (mu*_1, mu*_2, mu_1, mu_2)
    means = torch.cat([ms, mu], dim=1).numpy().copy()
    y = torch.stack([l[:, 0], r[:, 0], l[:, 1], r[:, 1]], dim=-1).numpy().copy()
    extra = k_run - 1  # discriminator-only steps before the joint one, per run
    k = 0
    for t in range(steps + 1):
        if t == plan[k]:
            rec_mu[k], rec_y[k] = means[:, 2:], y
            k += 1
        if t == steps:
            break
        for j in range(int(extra.max())):  # the discriminator alone, against the fixed generator
            y_next = _project_rows(y + eta_d * _step_gradients(y, means)[0])
            y = y_next if uniform else np.where((extra > j)[:, None], y_next, y)
        g_y, g_mu = _step_gradients(y, means)
        if train_generator:
            means[:, 2:] -= eta_g * g_mu
        y = _project_rows(y + eta_d * g_y)
    mu_t, y_t = torch.from_numpy(rec_mu), torch.from_numpy(rec_y)
    l_t, r_t = y_t[..., 0::2].contiguous(), y_t[..., 1::2].contiguous()
    loss = 1.0 + _mass(l_t, r_t, ms) - _mass(l_t, r_t, mu_t)
    return Li17Trajectory(mu_t, l_t, r_t, loss, torch.tensor(plan), ms, "first-order", eta_g, eta_d, int(steps),
                          int(k_run[0]) if uniform else tuple(int(v) for v in k_run))
