# ruff: noqa: E741  (l and r are the lecture's names for the interval ends)
"""Outcomes of two-Gaussian GAN dynamics against the step count, and the horizon at which they have settled (Li,
Madry, Peebles & Schmidt 2017, via Madry's lecture 9; ``docs/papers/li17.md``).

A run that is still moving at the last step is neither converged nor failed: whether a share of runs "converges"
depends on how long they ran. :func:`outcomes_until_settled` runs the dynamics in segments up to a list of
checkpoints, classifies every run at each checkpoint (on the records up to it), and stops once the share of
still-moving runs (label ``"other"``) is below ``settled_share``: that checkpoint is the horizon.

Shape letters as in :mod:`._li17_model`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from ganlimits.theory import check_open_unit

from .._results import Estimate
from ._li17_dynamics import Li17Trajectory, first_order_dynamics, optimal_discriminator_dynamics
from ._li17_outcomes import OUTCOMES, Outcomes, classify_outcomes, outcome_fractions

__all__ = ["OutcomeCurve", "outcomes_until_settled", "SETTLED_SHARE"]

SETTLED_SHARE = 0.01
"""Default: the runs have settled once fewer than 1% of them are still moving."""


@dataclass(frozen=True)
class OutcomeCurve:
    """Outcome counts of B runs at each checkpoint (generator steps), the chosen ``horizon`` (the first checkpoint
    with a still-moving share below ``settled_share``; the last one run when none was, with ``settled`` False),
    the :class:`Outcomes` at the horizon and the trajectory up to the last checkpoint run."""

    dynamics: str
    d_steps: int
    checkpoints: tuple[int, ...]
    counts: tuple[dict[str, int], ...]
    n: int
    settled_share: float
    horizon: int
    settled: bool
    outcomes: Outcomes
    trajectory: Li17Trajectory

    def fractions(self, *, confidence: float = 0.95, sides: int = 2, seed: int | None = None
                  ) -> dict[str, Estimate]:
        """Outcome fractions at the horizon with Clopper-Pearson intervals (see :func:`outcome_fractions`)."""
        return outcome_fractions(self.outcomes, confidence=confidence, sides=sides, seed=seed)

    def table(self) -> list[dict]:
        """One row per checkpoint: ``steps`` and the count of every outcome."""
        return [{"steps": c, **counts} for c, counts in zip(self.checkpoints, self.counts, strict=True)]

    def to_dict(self, *, confidence: float = 0.95, sides: int = 2, seed: int | None = None) -> dict:
        fr = self.fractions(confidence=confidence, sides=sides, seed=seed)
        return {"dynamics": self.dynamics, "d_steps": self.d_steps, "n": self.n, "horizon": self.horizon,
                "settled": self.settled, "settled_share": self.settled_share,
                "counts": self.outcomes.counts(), "fractions": {k: e.to_dict() for k, e in fr.items()},
                "vs_steps": self.table(), "criterion": self.outcomes.criterion}


def _check_checkpoints(checkpoints) -> tuple[int, ...]:
    cps = tuple(checkpoints)
    if not cps or any(isinstance(c, bool) or int(c) != c or c < 1 for c in cps):
        raise ValueError(f"checkpoints must be a non-empty sequence of integers >= 1, got {checkpoints!r}")
    if any(b <= a for a, b in zip(cps, cps[1:], strict=False)):
        raise ValueError(f"checkpoints must increase strictly, got {checkpoints!r}")
    return tuple(int(c) for c in cps)


def _append(head: Li17Trajectory | None, seg: Li17Trajectory, offset: int) -> Li17Trajectory:
    """``seg`` (run from ``head``'s last state) appended to ``head``, its step counter shifted by ``offset``."""
    seg = dataclasses.replace(seg, steps_at=seg.steps_at + offset, steps=seg.steps + offset)
    if head is None:
        return seg
    cat = {f: torch.cat([getattr(head, f), getattr(seg, f)[1:]]) for f in ("mu", "l", "r", "loss", "steps_at")}
    return dataclasses.replace(head, **cat, steps=seg.steps)


def outcomes_until_settled(
    *,
    dynamics: str,
    mu0,
    mu_star,
    eta_g: float,
    checkpoints,
    l0=None,
    r0=None,
    eta_d: float | None = None,
    d_steps: int = 1,
    settled_share: float = SETTLED_SHARE,
    extra_checkpoints: int = 0,
    record_every: int = 10,
    decide_rows: int | None = None,
    **classify_kwargs,
) -> OutcomeCurve:
    """Run ``dynamics`` (``"optimal"`` or ``"first-order"``) from B starts up to the first checkpoint at which
    fewer than ``settled_share`` of the runs are still moving, then ``extra_checkpoints`` further checkpoints (to
    show that the fractions have stopped changing), classifying every run at every checkpoint with
    :func:`classify_outcomes` (``classify_kwargs``) on the records up to it.

    ``mu0`` (B, 2); for first-order dynamics also ``l0``, ``r0`` (B, 2), ``eta_d`` and ``d_steps`` (k
    discriminator steps per generator step, see :func:`first_order_dynamics`); ``checkpoints`` increasing
    generator step counts. The dynamics are run in segments between checkpoints, each continuing from the last
    state of the previous one (the dynamics are deterministic and Markov in their state, so this is the same
    trajectory as one long run). ``decide_rows``: only the first that many runs count towards the stopping rule
    (further rows, e.g. known-outcome controls, ride along); the :class:`OutcomeCurve`'s per-checkpoint
    ``counts`` are those of the deciding rows, its ``outcomes`` and ``n`` cover every row.
    """
    if dynamics not in ("optimal", "first-order"):
        raise ValueError(f"dynamics must be 'optimal' or 'first-order', got {dynamics!r}")
    cps = _check_checkpoints(checkpoints)
    share = check_open_unit("settled_share", settled_share)
    if isinstance(extra_checkpoints, bool) or int(extra_checkpoints) != extra_checkpoints or extra_checkpoints < 0:
        raise ValueError(f"extra_checkpoints must be an integer >= 0, got {extra_checkpoints!r}")
    if dynamics == "first-order" and (l0 is None or r0 is None or eta_d is None):
        raise ValueError("first-order dynamics need l0, r0 and eta_d")
    mu, l, r = torch.as_tensor(mu0, dtype=torch.float64), l0, r0
    head: Li17Trajectory | None = None
    done: list[int] = []
    counts: list[dict[str, int]] = []
    horizon, at_horizon, left, prev = None, None, 0, 0
    for c in cps:
        if dynamics == "optimal":
            seg = optimal_discriminator_dynamics(mu0=mu, mu_star=mu_star, eta_g=eta_g, steps=c - prev,
                                                 record_every=record_every)
        else:
            seg = first_order_dynamics(mu0=mu, l0=l, r0=r, mu_star=mu_star, eta_g=eta_g, eta_d=eta_d,
                                       steps=c - prev, record_every=record_every, d_steps=d_steps)
            l, r = seg.l[-1], seg.r[-1]
        mu = seg.mu[-1]
        head = _append(head, seg, prev)
        out = classify_outcomes(head, **classify_kwargs)
        done.append(c)
        counts.append({o: int((out.labels[:decide_rows] == o).sum()) for o in OUTCOMES})
        prev = c
        if horizon is None:
            still = int((out.labels[:decide_rows] == "other").sum())
            if still < share * out.labels[:decide_rows].size:
                horizon, at_horizon, left = c, out, int(extra_checkpoints)
            else:
                continue
        elif left > 0:
            left -= 1
        if left == 0:
            break
    settled = horizon is not None
    if not settled:
        horizon, at_horizon = done[-1], out
    return OutcomeCurve(dynamics=dynamics, d_steps=int(d_steps), checkpoints=tuple(done), counts=tuple(counts),
                        n=int(at_horizon.labels.size), settled_share=share, horizon=int(horizon), settled=settled,
                        outcomes=at_horizon, trajectory=head)

