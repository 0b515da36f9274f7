r"""When a training run has settled: the lab's stated rule over its evaluation snapshots (``docs/papers/veegan.md``,
"Settled horizon").

A GAN trained at a constant learning rate does not converge to a point: its snapshots oscillate (on the grid the
share of high-quality samples of one run moves by 10–15 points between snapshots 250 steps apart). And it passes
through plateaus that are not its end: on the grid the generator is a diffuse cloud for the first 3,000–4,000 steps
(high-quality share 1.5–2%, flat) before it sharpens. So "settled" compares *window means*, not single snapshots,
and is not declared while the run is still at the diffuse level.

The rule (:class:`SettleRule`). With snapshots :math:`s_1, s_2, \dots` (step, modes, high-quality share) taken
every ``eval_every`` steps, a run has settled at snapshot j when

- :math:`s_j` is at step :math:`\ge` ``min_steps`` and the ``2 W`` snapshots :math:`s_{j-2W+1}, \dots, s_j` exist
  (W = ``window``);
- the mean mode count of the last W snapshots differs from that of the W before by at most ``modes_tol`` (default
  :math:`\max(1, K/10)` for a target of K components);
- the mean high-quality share of the last W differs from that of the W before by at most ``hq_tol``;
- the mean high-quality share of the last W is above ``hq_floor`` (a run still at the diffuse level has not
  settled; the regime gate, :mod:`ganlimits.verify.lab._regime`, supplies the diffuse baseline as the floor);
- and all of this already held at the ``persist`` - 1 snapshots before (a single lucky window during a slow rise does
  not stop a run).

Defaults (W = 5, ``hq_tol`` = 0.05, ``persist`` = 2) were chosen on single-seed trajectories of the lab's GAN,
PacGAN2, ALI and VEEGAN on the three targets at a constant rate (snapshots every 250 steps): with them the GAN on the
grid settles at 8,000–13,000 steps at 54–74% high quality, and a run whose share at the stop is below 80% of its
share 3,000 steps later was seen once in 15 runs (W = 4 without persistence: 7 times).

A run trained to a settled horizon stops at the first snapshot where the rule holds, or at the step cap; a run of
fixed length is *settled* when the rule holds at its last snapshot, and ``settled_step`` is then the first step of
the final stretch of snapshots where it held without interruption.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from ganlimits.theory import check_number

__all__ = ["SettleRule", "Horizon", "assess_horizon"]


@dataclass(frozen=True)
class SettleRule:
    """The settled-horizon rule of the module docstring. Every field is checked; a bad one is a ``ValueError``
    naming it.

    >>> rule = SettleRule(window=2, hq_tol=0.05, persist=1)
    >>> snaps = [(0, 0, 0.0), (250, 9, 0.30), (500, 8, 0.50), (750, 8, 0.62), (1000, 8, 0.60), (1250, 8, 0.58)]
    >>> [rule.holds(snaps[:j + 1], n_modes=8) for j in range(len(snaps))]
    [False, False, False, False, False, True]
    """

    window: int = 5
    modes_tol: float | None = None
    hq_tol: float = 0.05
    hq_floor: float = 0.0
    min_steps: int = 0
    persist: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "window", check_number("window", self.window, low=1, integer=True))
        if self.modes_tol is not None:
            object.__setattr__(self, "modes_tol", check_number("modes_tol", self.modes_tol, low=0))
        object.__setattr__(self, "hq_tol", check_number("hq_tol", self.hq_tol, low=0, high=1))
        object.__setattr__(self, "hq_floor", check_number("hq_floor", self.hq_floor, low=0, high=1,
                                                          high_open=True))
        object.__setattr__(self, "min_steps", check_number("min_steps", self.min_steps, low=0, integer=True))
        object.__setattr__(self, "persist", check_number("persist", self.persist, low=1, integer=True))

    @property
    def snapshots_needed(self) -> int:
        """The fewest snapshots (step 0 included) at which the rule can hold: 2 W + persist - 1."""
        return 2 * self.window + self.persist - 1

    def mode_tolerance(self, n_modes: int) -> float:
        """``modes_tol``, or max(1, K / 10) for a target of K = ``n_modes`` components."""
        return self.modes_tol if self.modes_tol is not None else max(1.0, n_modes / 10)

    def holds(self, snapshots, *, n_modes: int) -> bool:
        """Whether the rule holds at the last of ``snapshots`` (a sequence of :class:`~ganlimits.verify.lab.Snapshot`
        or of ``(step, modes, high_quality)`` triples, in step order) for a target of ``n_modes`` components."""
        rows = [_triple(s) for s in snapshots]
        return all(self._holds_at(rows[:len(rows) - k], n_modes) for k in range(self.persist))

    def _holds_at(self, rows, n_modes: int) -> bool:
        w = self.window
        if len(rows) < 2 * w or rows[-1][0] < self.min_steps:
            return False
        last, before = rows[-w:], rows[-2 * w:-w]
        modes_now, modes_before = _mean(r[1] for r in last), _mean(r[1] for r in before)
        hq_now, hq_before = _mean(r[2] for r in last), _mean(r[2] for r in before)
        return (abs(modes_now - modes_before) <= self.mode_tolerance(n_modes) + 1e-12
                and abs(hq_now - hq_before) <= self.hq_tol + 1e-12 and hq_now > self.hq_floor)

    def describe(self, n_modes: int | None = None) -> str:
        """The rule in one sentence (with the mode tolerance for ``n_modes`` components when given)."""
        tol = (f"{self.mode_tolerance(n_modes):g}" if n_modes is not None else
               (f"{self.modes_tol:g}" if self.modes_tol is not None else "max(1, K/10)"))
        return (f"settled when the means over the last {self.window} snapshots differ from those over the "
                f"{self.window} before by at most {tol} modes and {self.hq_tol:g} in high-quality share, that share's "
                f"mean is above {self.hq_floor:.4g} and the step is at least {self.min_steps}, at each of the last "
                f"{self.persist} snapshots")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Horizon:
    """How long a run trained and whether it settled: ``steps`` trained, ``cap`` the step cap (the requested steps
    of a fixed-length run), ``settled`` whether the rule held at the last snapshot, ``settled_step`` the first step
    of the final uninterrupted stretch where it held (None when not settled), ``stopped_early`` whether training
    stopped before the cap because the run settled, and the rule (with its mode tolerance for the target)."""

    steps: int
    cap: int
    settled: bool
    settled_step: int | None
    stopped_early: bool
    rule: SettleRule
    n_modes: int

    def to_dict(self) -> dict:
        return {"steps": self.steps, "cap": self.cap, "settled": self.settled, "settled_step": self.settled_step,
                "stopped_early": self.stopped_early, "rule": self.rule.to_dict(),
                "modes_tol": self.rule.mode_tolerance(self.n_modes), "rule_text": self.rule.describe(self.n_modes)}

    def reason(self) -> str:
        """Why a run is or is not settled, in words."""
        if self.settled:
            return f"settled at step {self.settled_step} ({self.steps} trained)"
        return f"not settled by step {self.steps} (cap {self.cap})"


def assess_horizon(snapshots, *, rule: SettleRule, n_modes: int, cap: int, stopped_early: bool = False) -> Horizon:
    """The :class:`Horizon` of a run with these ``snapshots`` (in step order) under ``rule``.

    >>> snaps = [(0, 0, 0.0), (250, 9, 0.30), (500, 8, 0.50), (750, 8, 0.62), (1000, 8, 0.60), (1250, 8, 0.58)]
    >>> h = assess_horizon(snaps, rule=SettleRule(window=2, persist=1), n_modes=8, cap=1250)
    >>> h.settled, h.settled_step
    (True, 1250)
    """
    rows = [_triple(s) for s in snapshots]
    if not rows:
        raise ValueError("snapshots must not be empty")
    held = [rule.holds(rows[:j + 1], n_modes=n_modes) for j in range(len(rows))]
    settled = held[-1]
    first = None
    if settled:
        j = len(held) - 1
        while j > 0 and held[j - 1]:
            j -= 1
        first = rows[j][0]
    return Horizon(steps=int(rows[-1][0]), cap=int(cap), settled=bool(settled), settled_step=first,
                   stopped_early=bool(stopped_early), rule=rule, n_modes=int(n_modes))


def _triple(s) -> tuple[int, float, float]:
    if hasattr(s, "step"):
        return int(s.step), float(s.modes), float(s.high_quality)
    step, modes, hq = s[:3]
    return int(step), float(modes), float(hq)


def _mean(values) -> float:
    v = list(values)
    return math.fsum(v) / len(v)
