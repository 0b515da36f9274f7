"""Outcomes of two-Gaussian GAN dynamics (Li, Madry, Peebles & Schmidt 2017, via Madry's lecture 9;
``docs/papers/li17.md``): per-run classification, discriminator collapse and outcome fractions with intervals.

Shape letters as in :mod:`._li17_model`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ganlimits.theory import check_positive

from .._results import Estimate
from ..estimators import clopper_pearson
from ._li17_dynamics import Li17Trajectory
from ._li17_model import _gradients, _one_thread
from ._li17_roots import optimal_discriminator

__all__ = ["OUTCOMES", "Outcomes", "DiscriminatorCollapse", "classify_outcomes", "detect_discriminator_collapse",
           "outcome_fractions", "proportion_interval"]

OUTCOMES = ("converged", "mode-collapse", "vanishing-gradient", "other")

# ---- outcomes ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcomes:
    """Per-run outcome ``labels`` (B,) from :data:`OUTCOMES`, the quantities they were decided on (each (B,)),
    and the ``criterion`` in words."""

    labels: np.ndarray
    error: np.ndarray
    separation: np.ndarray
    grad: np.ndarray
    criterion: str

    def counts(self) -> dict[str, int]:
        return {o: int((self.labels == o).sum()) for o in OUTCOMES}


def _window(traj: Li17Trajectory, window: float) -> int:
    if not 0 < window <= 1:
        raise ValueError(f"window must lie in (0, 1], got {window!r}")
    return max(1, int(np.ceil(window * traj.mu.shape[0])))


@_one_thread
def classify_outcomes(
    traj: Li17Trajectory,
    *,
    tol: float = 0.1,
    merge: float = 0.25,
    grad_tol: float = 1e-3,
    window: float = 0.1,
) -> Outcomes:
    """Outcome of each run of a trajectory (the lecture's Figure 1 categories), decided in float64.

    With mu sorted, mu* sorted, Delta* = mu*_2 - mu*_1 and W the last ``window`` fraction of the records:

    .. math::
        \\text{error} = \\max_{t \\in W} \\max_i |\\hat\\mu_{(i)}^{(t)} - \\mu^*_{(i)}|, \\quad
        \\text{separation} = |\\hat\\mu_2^{(T)} - \\hat\\mu_1^{(T)}|, \\quad
        \\text{grad} = \\max_{t \\in W} \\|\\nabla_\\mu L\\|_\\infty

    ``converged`` if error <= ``tol``; else ``mode-collapse`` if separation <= ``merge`` * Delta* and
    Delta* > 2 ``tol`` (the target's modes are apart); else ``vanishing-gradient`` if grad <= ``grad_tol``
    (stalled away from the target); else ``other`` (still moving: oscillating or drifting).
    """
    for name, v in (("tol", tol), ("merge", merge), ("grad_tol", grad_tol)):
        check_positive(name, v)
    w = _window(traj, window)
    mu = torch.sort(traj.mu[-w:], dim=-1).values
    ms = torch.sort(traj.mu_star, dim=-1).values
    error = (mu - ms).abs().amax(dim=(0, 2)).numpy()
    final = mu[-1]
    separation = (final[:, 1] - final[:, 0]).numpy()
    g = _gradients(traj.mu[-w:], traj.mu_star.expand_as(traj.mu[-w:]), traj.l[-w:], traj.r[-w:]).mu
    grad = g.abs().amax(dim=(0, 2)).numpy()
    spread = (ms[:, 1] - ms[:, 0]).numpy()
    labels = np.full(error.shape, "other", dtype=object)
    conv = error <= tol
    coll = ~conv & (separation <= merge * spread) & (spread > 2 * tol)
    stall = ~conv & ~coll & (grad <= grad_tol)
    labels[conv], labels[coll], labels[stall] = "converged", "mode-collapse", "vanishing-gradient"
    crit = (
        f"over the last {w} of {traj.mu.shape[0]} records: converged if max |sorted mu - sorted mu*| "
        f"<= {tol:g} "
        f"throughout; mode-collapse if not and the final |mu_2 - mu_1| <= {merge:g} (mu*_2 - mu*_1) with "
        f"mu*_2 - mu*_1 > {2 * tol:g}; vanishing-gradient if neither and max |dL/dmu| <= {grad_tol:g} "
        "throughout; other otherwise"
    )
    return Outcomes(labels.astype(str), error, separation, grad, crit)


@dataclass(frozen=True)
class DiscriminatorCollapse:
    """Per-run flags (B,): ``collapsed``; ``first_step`` the first step at which an interval had shrunk to
    zero length while the generator was off the target (-1 if never); ``negative_at_end`` whether an
    interval of positive length lies wholly in {p* - p_mu < 0} at the last record; ``criterion`` in words."""

    collapsed: np.ndarray
    first_step: np.ndarray
    negative_at_end: np.ndarray
    criterion: str


@_one_thread
def detect_discriminator_collapse(
    traj: Li17Trajectory, *, length_tol: float = 1e-9, off_tol: float = 0.05
) -> DiscriminatorCollapse:
    """Discriminator collapse of first-order dynamics (Li et al. 2017; lecture 9, Figure 2).

    The generator is *off the target* at a record when ``max_i |mu_(i) - mu*_(i)|`` >= ``off_tol`` (sorted means).
    A run is flagged when, at some record where the generator is off the target, an interval that started with
    length > ``length_tol`` has length <= ``length_tol``; or when, at the last record (generator off the
    target), an interval of positive length lies wholly inside {p* - p_mu < 0}, where the loss pushes both its
    ends inward.

    .. math:: r_j^{(t)} - l_j^{(t)} \\le \\epsilon_\\ell \\;\\text{or}\\;
              [l_j, r_j] \\cap \\{p^* > p_\\mu\\} = \\emptyset

    Only first-order trajectories: the optimal-discriminator dynamics recompute D at every step, where an
    empty interval is part of the optimum rather than a collapse.
    """
    if traj.dynamics != "first-order":
        raise ValueError(
            "traj must come from first_order_dynamics (dynamics='first-order'); "
            f"got dynamics={traj.dynamics!r}"
        )
    check_positive("length_tol", length_tol)
    check_positive("off_tol", off_tol)
    B = traj.mu.shape[1]
    off = (torch.sort(traj.mu, dim=-1).values - torch.sort(traj.mu_star, dim=-1).values).abs().amax(
        -1
    ) >= off_tol
    length = traj.r - traj.l  # (T, B, 2)
    started = length[0] > length_tol  # (B, 2)
    shrunk = ((length <= length_tol) & started[None]).any(dim=-1) & off  # (T, B)
    ever = shrunk.any(dim=0)
    first = torch.where(ever, traj.steps_at[torch.argmax(shrunk.to(torch.int8), dim=0)], torch.tensor(-1))
    pl, pr = optimal_discriminator(mu=traj.mu[-1], mu_star=traj.mu_star)
    l_end, r_end = traj.l[-1], traj.r[-1]
    overlap = torch.zeros((B, 2), dtype=torch.bool)
    for j in range(2):  # positive piece j of {p* > p_mu}
        nonempty = (pr[:, j] > pl[:, j])[:, None]
        overlap |= nonempty & (
            torch.maximum(l_end, pl[:, j : j + 1]) < torch.minimum(r_end, pr[:, j : j + 1])
        )
    neg_end = ((r_end - l_end > length_tol) & ~overlap).any(dim=-1) & off[-1]
    crit = (
        f"generator off the target (max |sorted mu - sorted mu*| >= {off_tol:g}) and either an interval that "
        f"started longer than {length_tol:g} has length <= {length_tol:g} at some record, or at the last "
        "record "
        "an interval of positive length lies wholly in {p* - p_mu < 0}"
    )
    return DiscriminatorCollapse((ever | neg_end).numpy(), first.numpy(), neg_end.numpy(), crit)


def proportion_interval(successes: int, n: int, *, confidence: float = 0.95, sides: int = 2,
                        seed: int | None = None) -> Estimate:
    """Clopper-Pearson interval for a binomial proportion; ``sides=1`` gives one-sided limits at ``confidence``
    (each limit alone holds with probability >= ``confidence``: the two-sided interval at 1 - 2 alpha), for a
    claim decided on one side only."""
    if sides not in (1, 2):
        raise ValueError(f"sides must be 1 or 2, got {sides!r}")
    if sides == 2:
        return clopper_pearson(successes, n, confidence=confidence, seed=seed)
    est = clopper_pearson(successes, n, confidence=1 - 2 * (1 - confidence), seed=seed)
    return Estimate(est.estimate, est.ci_low, est.ci_high, confidence, est.n, "clopper-pearson (one-sided)", seed,
                    sides=1)


def outcome_fractions(
    outcomes: Outcomes, *, confidence: float = 0.95, seed: int | None = None, sides: int = 2
) -> dict[str, Estimate]:
    """Fraction of runs with each outcome, with a Clopper-Pearson interval (valid when the runs' initial
    states are i.i.d. draws; ``sides=1`` for one-sided limits); keys :data:`OUTCOMES`, ``"not-converged"``
    (every run not converged) and ``"failed"`` (mode-collapse or vanishing-gradient: a still-moving run is
    neither converged nor failed)."""
    n = int(outcomes.labels.size)
    counts = outcomes.counts()
    kw = {"confidence": confidence, "seed": seed, "sides": sides}
    out = {o: proportion_interval(c, n, **kw) for o, c in counts.items()}
    out["not-converged"] = proportion_interval(n - counts["converged"], n, **kw)
    out["failed"] = proportion_interval(counts["mode-collapse"] + counts["vanishing-gradient"], n, **kw)
    return out
