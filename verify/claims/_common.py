"""What every claim shares: its settings resolved once, its result built once, the shared constants, and the
verdict helpers (``docs/design.md``, "Claims, measurements, verdicts").

A claim module defines a frozen ``Settings`` dataclass with ``quick()`` and ``full()`` classmethods and
``run(config, settings=None)``; it calls :func:`resolve_settings` first and :func:`make_result` last, so claim,
source, seed and the settings used are filled in here and nowhere else.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ganlimits.theory import CLAIMS

from .._registry import RunConfig
from .._results import ClaimResult, Estimate
from .._settings import CheckedSettings, settings_dict
from .._streams import Streams

__all__ = ["CheckedSettings", "CONFIDENCE", "DIGITS_JITTER", "NEAR_BOUNDARY", "MAX_RESOLUTION_FACTOR", "POWER",
           "NearBoundaryControl", "PowerCurve", "power_curve", "decide", "power_figure", "resolve_settings",
           "make_result", "streams_for", "support_text"]

CONFIDENCE = 0.95
"""Confidence level of every interval a verdict is taken on (per claim; the report adds the family-wise view)."""

DIGITS_JITTER = 0.05
"""Per-pixel N(0, 0.05²) jitter of the 8×8 digits (pixels in [0, 1]): the "real-life image" target as a kernel
density, so that its support is unbounded (``docs/design.md``, "Target distributions: mind their support")."""

_S = TypeVar("_S")


def resolve_settings(settings_cls: type[_S], config: RunConfig, settings: _S | None) -> _S:
    """``settings`` when given (checked to be of the claim's class), else ``quick()`` or ``full()`` by
    ``config.quick``."""
    if settings is None:
        return settings_cls.quick() if config.quick else settings_cls.full()  # type: ignore[attr-defined]
    if not isinstance(settings, settings_cls):
        raise ValueError(f"settings must be a {settings_cls.__module__}.{settings_cls.__qualname__}, "
                         f"got {type(settings).__name__}")
    return settings


def streams_for(config: RunConfig) -> Streams:
    """The named random streams of a run: every claim draws from ``streams_for(config).torch(name)`` etc."""
    return Streams(config.seed)


def make_result(claim_id: str, config: RunConfig, settings: Any, *, verdict: str, measured: Estimate,
                bound: dict[str, Any], near_control: NearBoundaryControl | None = None,
                power: PowerCurve | None = None, **fields: Any) -> ClaimResult:
    """The :class:`ClaimResult` of one run, with claim, source, seed and settings filled in.

    ``near_control`` fills ``control``, ``control_caught`` and ``control_true_value`` (and its full record goes
    to ``measurements["near_boundary_control"]``); ``power`` fills ``resolution`` with the power curve.
    """
    claim = CLAIMS[claim_id]
    if near_control is not None:
        fields.setdefault("control", near_control.measured)
        fields.setdefault("control_caught", near_control.caught)
        fields.setdefault("control_true_value", near_control.true_value)
        fields.setdefault("measurements", {})["near_boundary_control"] = near_control.to_dict()
    if power is not None:
        fields.setdefault("resolution", power.to_dict())
    return ClaimResult(claim=claim.id, source=claim.source, verdict=verdict, seed=config.seed, measured=measured,
                       bound=bound, settings=settings_dict(settings), **fields)


def support_text(target) -> str | int:
    """A target's support for the JSON (strict JSON has no infinity): an integer, or ``"unbounded"``."""
    return "unbounded" if math.isinf(target.support) else int(target.support)


# ---- verdicts that could have failed (docs/design.md, "A verdict that could not have failed is a defect") ----

NEAR_BOUNDARY = (1.5, 3.0)
"""A near-boundary control's true value lies between these multiples of the bound (measured from the baseline)."""

MAX_RESOLUTION_FACTOR = 3.0
"""A verdict needs a resolution no coarser than this multiple of the bound."""

POWER = 0.8
"""The resolution is the smallest planted strength detected with at least this power."""

_DIRECTIONS = ("upper", "lower")


def _excess(value: float, bound: float, baseline: float) -> float:
    """How many times the bound's distance from the baseline ``value`` lies from the baseline."""
    return (value - baseline) / (bound - baseline)


@dataclass(frozen=True)
class NearBoundaryControl:
    """A planted case that violates the claim by a known amount, attacked exactly as the verdict is.

    ``true_value`` is known without the attack (analytically, exactly, or by a much larger computation named in
    ``truth``) and lies between 1.5 and 3 times the bound (distances measured from ``baseline``, e.g. chance
    accuracy); ``measured`` is what the verdict's own attack found at the verdict's n. For an ``"upper"`` claim
    (quantity <= bound) the control is caught when the lower limit exceeds the bound; for a ``"lower"`` claim
    (quantity >= bound) when the upper limit is below it.

    >>> from ganlimits.verify import Estimate
    >>> c = NearBoundaryControl("m = 4", true_value=0.2, truth="exact", bound=0.1,
    ...                         measured=Estimate(0.19, 0.13, 0.25, 0.95, 1000))
    >>> c.ratio, c.caught
    (2.0, True)
    """

    name: str
    true_value: float
    truth: str
    measured: Estimate
    bound: float
    baseline: float = 0.0
    direction: str = "upper"

    def __post_init__(self) -> None:
        if self.direction not in _DIRECTIONS:
            raise ValueError(f"direction must be 'upper' or 'lower', got {self.direction!r}")
        if self.bound == self.baseline:
            raise ValueError("bound and baseline must differ")
        lo, hi = NEAR_BOUNDARY
        ratio = self.ratio
        if not lo - 1e-12 <= ratio <= hi + 1e-12:
            raise ValueError(f"control {self.name!r}: its true value {self.true_value:.6g} is {ratio:.3g} times the "
                             f"bound {self.bound:.6g} (from baseline {self.baseline:g}); a near-boundary control "
                             f"must lie between {lo} and {hi} times it")

    @property
    def ratio(self) -> float:
        """True value over bound, both measured from the baseline."""
        return _excess(self.true_value, self.bound, self.baseline)

    @property
    def caught(self) -> bool:
        if self.direction == "upper":
            return bool(self.measured.ci_low > self.bound)
        return bool(self.measured.ci_high < self.bound)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "true_value": self.true_value, "truth": self.truth, "bound": self.bound,
                "baseline": self.baseline, "direction": self.direction, "ratio": self.ratio, "caught": self.caught,
                "measured": self.measured.to_dict()}


@dataclass(frozen=True)
class PowerCurve:
    """Detection rate of a claim's own attack against a graded family of planted cases, at the verdict's n.

    ``strengths[i]`` is the known true value of planted case i (in the claim's units, e.g. the true gap),
    ``detected[i]`` how many of ``repeats`` independent attacks caught it. ``resolution`` is the smallest strength
    from which on every larger one is detected with at least :data:`POWER`: the smallest violation the verdict can
    see. Detection rates carry Clopper-Pearson bands (:meth:`rates`).

    >>> curve = PowerCurve(strengths=(0.12, 0.2, 0.3), detected=(3, 17, 20), repeats=20, n=1000, bound=0.1)
    >>> curve.resolution, round(curve.resolution_factor, 3)
    (0.2, 2.0)
    """

    strengths: tuple[float, ...]
    detected: tuple[int, ...]
    repeats: int
    n: int
    bound: float
    baseline: float = 0.0
    power: float = POWER
    label: str = ""
    confidence: float = CONFIDENCE

    def __post_init__(self) -> None:
        if len(self.strengths) != len(self.detected) or not self.strengths:
            raise ValueError("strengths and detected must be non-empty and of equal length")
        if any(not 0 <= d <= self.repeats for d in self.detected):
            raise ValueError(f"detected counts must lie in [0, repeats={self.repeats}]")
        gaps = [abs(s - self.baseline) for s in self.strengths]
        if gaps != sorted(gaps):
            raise ValueError("strengths must move away from the baseline monotonically")

    def rates(self) -> list[Estimate]:
        """Detection rate at each strength, Clopper-Pearson interval."""
        from ..estimators import clopper_pearson

        return [clopper_pearson(d, self.repeats, confidence=self.confidence) for d in self.detected]

    @property
    def resolution(self) -> float | None:
        """The smallest strength with detection rate >= ``power`` there and at every larger strength."""
        best = None
        for s, d in zip(reversed(self.strengths), reversed(self.detected), strict=True):
            if d / self.repeats >= self.power:
                best = s
            else:
                break
        return best

    @property
    def resolution_factor(self) -> float | None:
        """Resolution over bound (both from the baseline); None when no strength reached the power."""
        r = self.resolution
        return None if r is None else _excess(r, self.bound, self.baseline)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "strengths": list(self.strengths), "detected": list(self.detected),
                "repeats": self.repeats, "n": self.n, "bound": self.bound, "baseline": self.baseline,
                "power": self.power, "resolution": self.resolution, "resolution_factor": self.resolution_factor,
                "rates": [r.to_dict() for r in self.rates()]}


def power_curve(trial: Callable[[dict, int], dict], configs: Sequence[dict], *, strengths: Sequence[float],
                repeats: int, n: int, bound: float, streams: Streams, baseline: float = 0.0, label: str = "",
                path=None, resume: bool = False, n_jobs: int = 1, progress: bool = False) -> PowerCurve:
    """Run ``trial(configs[i], seed)`` ``repeats`` times for each planted strength and count detections.

    ``trial`` is a pure, picklable function returning a dict with a boolean ``"detected"`` (the verdict's own
    attack, at the verdict's n, said the planted case violates the bound); ``configs[i]`` describes the planted
    case of true value ``strengths[i]``. Seeds come from ``streams.seed("power", label, i, r)``; trials go
    through the sweep machinery (``path`` for a resumable JSON Lines log, ``n_jobs`` worker processes).
    """
    from .._sweep import run_trials

    if len(configs) != len(strengths):
        raise ValueError("configs and strengths must have the same length")
    jobs = [(dict(cfg), streams.seed("power", label, i, r)) for i, cfg in enumerate(configs) for r in range(repeats)]
    rows = run_trials(trial, jobs, path=path, resume=resume, n_jobs=n_jobs, desc=f"power {label}".strip(),
                      progress=progress)
    detected = [sum(bool(rows[i * repeats + r]["detected"]) for r in range(repeats)) for i in range(len(configs))]
    return PowerCurve(strengths=tuple(float(s) for s in strengths), detected=tuple(detected), repeats=repeats, n=n,
                      bound=bound, baseline=baseline, label=label)


def decide(measured: Estimate, bound: float, *, control: NearBoundaryControl, resolution: PowerCurve | None,
           direction: str = "upper") -> tuple[str, str]:
    """The verdict rule of ``docs/design.md`` and its reason in words.

    ``refuted`` when the measurement's limit lies beyond the bound (lower limit above it for an ``"upper"``
    claim); otherwise ``consistent`` only when the limit on the other side is within the bound, the near-boundary
    control was caught, and the resolution is no coarser than :data:`MAX_RESOLUTION_FACTOR` times the bound;
    ``inconclusive`` otherwise.
    """
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be 'upper' or 'lower', got {direction!r}")
    upper = direction == "upper"
    beyond = measured.ci_low > bound if upper else measured.ci_high < bound
    within = measured.ci_high <= bound if upper else measured.ci_low >= bound
    if beyond:
        side = "lower" if upper else "upper"
        return "refuted", f"the measurement's {side} limit lies beyond the bound {bound:.4g}"
    if not control.caught:
        return "inconclusive", (f"the near-boundary control {control.name!r} (true value {control.ratio:.2g} times "
                                "the bound) was not caught: the attack lacks power at this n")
    factor = None if resolution is None else resolution.resolution_factor
    if factor is None:
        return "inconclusive", f"no planted strength was detected with {POWER:.0%} power"
    if factor > MAX_RESOLUTION_FACTOR:
        return "inconclusive", (f"the resolution is {factor:.2g} times the bound, coarser than "
                                f"{MAX_RESOLUTION_FACTOR:g} times")
    if not within:
        side = "upper" if upper else "lower"
        return "inconclusive", f"the measurement's {side} limit is not within the bound {bound:.4g}"
    return "consistent", (f"within the bound, near-boundary control caught (true value {control.ratio:.2g} times the "
                          f"bound), resolution {factor:.2g} times the bound")


def power_figure(curve: PowerCurve, out_dir, name: str, *, xlabel: str, title: str = "") -> str:
    """Detection rate vs planted strength with Clopper-Pearson bands, the bound, the 80% line and the resolution;
    saved as ``<out_dir>/<name>.png``."""
    from .._figures import new_figure, save_figure

    fig, axes = new_figure()
    ax = axes[0, 0]
    rates = curve.rates()
    est = [r.estimate for r in rates]
    ax.errorbar(curve.strengths, est, yerr=[[e - r.ci_low for e, r in zip(est, rates, strict=True)],
                                            [r.ci_high - e for e, r in zip(est, rates, strict=True)]],
                fmt="o-", capsize=3, label=f"detection rate ({curve.repeats} repeats, n = {curve.n})")
    ax.axvline(curve.bound, color="k", ls="--", label="bound")
    ax.axhline(curve.power, color="grey", ls=":", label=f"{curve.power:.0%} power")
    if curve.resolution is not None:
        ax.axvline(curve.resolution, color="C3", ls="-.", label=f"resolution {curve.resolution:.3g}")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of attacks that caught it")
    ax.set_title(title or f"power of the verdict's attack: {curve.label}")
    ax.legend(fontsize=7)
    return save_figure(fig, out_dir, name)
