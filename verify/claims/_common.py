"""What every claim shares: its settings resolved once, its result built once, the shared constants, and the
verdict helpers (``docs/design.md``, "Claims, measurements, verdicts").

A claim module defines a frozen ``Settings`` dataclass with ``quick()`` and ``full()`` classmethods and
``run(config, settings=None)``; it calls :func:`resolve_settings` first and :func:`make_result` last, so claim,
source, seed and the settings used are filled in here and nowhere else.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ganlimits.theory import CLAIMS

from .._registry import RunConfig
from .._results import ClaimResult, Estimate
from .._settings import CheckedSettings, settings_dict
from .._streams import Streams

__all__ = ["CheckedSettings", "CONFIDENCE", "DIGITS_JITTER", "NEAR_BOUNDARY", "MAX_RESOLUTION_FACTOR", "POWER",
           "POWER_CONFIDENCE", "NearBoundaryControl", "PowerCurve", "power_curve", "min_power_repeats",
           "check_decision_inputs", "decide", "power_figure", "resolve_settings", "make_result", "streams_for",
           "support_text", "one_torch_thread"]

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
"""A near-boundary control's certified true value lies between these multiples of the bound (from the baseline)."""

MAX_RESOLUTION_FACTOR = 3.0
"""A verdict needs a resolution no coarser than this multiple of the bound."""

POWER = 0.8
"""The resolution is the smallest planted strength whose detection rate is at least this, at 95% confidence."""

POWER_CONFIDENCE = 0.95
"""Confidence of the one-sided Clopper-Pearson lower limit that must reach :data:`POWER` (14 of 14 detections)."""

_DIRECTIONS = ("upper", "lower")


def min_power_repeats(power: float = POWER, confidence: float = POWER_CONFIDENCE) -> int:
    """The fewest repeats at one strength whose perfect detection rate has a one-sided Clopper-Pearson lower limit
    ``>= power``: the smallest r with :math:`(1 - \\text{confidence})^{1/r} \\ge` ``power``.

    >>> min_power_repeats()
    14
    """
    return math.ceil(math.log(1 - confidence) / math.log(power))


def _excess(value: float, bound: float, baseline: float) -> float:
    """How many times the bound's distance from the baseline ``value`` lies from the baseline."""
    return (value - baseline) / (bound - baseline)


def _check_direction(direction: str) -> str:
    if direction not in _DIRECTIONS:
        raise ValueError(f"direction must be 'upper' or 'lower', got {direction!r}")
    return direction


@dataclass(frozen=True)
class NearBoundaryControl:
    """A planted case that violates the claim by a certified amount, attacked exactly as the verdict is.

    Its true value is certified from both sides, without the verdict's attack: ``truth_low`` by a lower certificate
    (e.g. the lower confidence limit of a much stronger attack at a much larger n, or an analytic value) and
    ``truth_high`` by an upper one (e.g. a total-variation ceiling, or the analytic value); ``lower_certificate``
    and ``upper_certificate`` say how. The whole certified interval lies between 1.5 and 3 times the bound
    (distances measured from ``baseline``, e.g. chance accuracy), or there is no control. ``measured`` is what the
    verdict's own attack found at the verdict's n and confidence. For an ``"upper"`` claim (quantity <= bound) the
    control is caught when the lower limit exceeds the bound; for a ``"lower"`` claim (quantity >= bound) when the
    upper limit is below it.

    >>> from ganlimits.verify import Estimate
    >>> c = NearBoundaryControl.exact("m = 4", 0.2, truth="exact", bound=0.1,
    ...                               measured=Estimate(0.19, 0.13, 0.25, 0.95, 1000))
    >>> c.ratio_interval, c.caught
    ((2.0, 2.0), True)
    >>> NearBoundaryControl("m = 4", truth_low=0.12, truth_high=0.2, lower_certificate="attack at n = 10^6",
    ...                     upper_certificate="TV ceiling", bound=0.1, measured=Estimate(0.19, 0.13, 0.25, 0.95, 1000))
    Traceback (most recent call last):
    ...
    ValueError: control 'm = 4': its certified true value [0.12, 0.2] is [1.2, 2] times the bound 0.1 ...
    """

    name: str
    truth_low: float
    truth_high: float
    lower_certificate: str
    upper_certificate: str
    measured: Estimate
    bound: float
    baseline: float = 0.0
    direction: str = "upper"

    def __post_init__(self) -> None:
        _check_direction(self.direction)
        for field in ("truth_low", "truth_high", "bound", "baseline"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"control {self.name!r}: {field} must be a finite number, got {value!r}")
            object.__setattr__(self, field, float(value))
        if self.bound == self.baseline:
            raise ValueError("bound and baseline must differ")
        if self.truth_low > self.truth_high:
            raise ValueError(f"control {self.name!r}: truth_low {self.truth_low:.6g} exceeds truth_high "
                             f"{self.truth_high:.6g}")
        for field in ("lower_certificate", "upper_certificate"):
            if not isinstance(getattr(self, field), str) or not getattr(self, field).strip():
                raise ValueError(f"control {self.name!r}: {field} must say how the true value is certified")
        lo, hi = NEAR_BOUNDARY
        r_lo, r_hi = self.ratio_interval
        if not (lo - 1e-12 <= r_lo and r_hi <= hi + 1e-12):
            raise ValueError(f"control {self.name!r}: its certified true value [{self.truth_low:.6g}, "
                             f"{self.truth_high:.6g}] is [{r_lo:.3g}, {r_hi:.3g}] times the bound {self.bound:.6g} "
                             f"(from baseline {self.baseline:g}); a near-boundary control must lie between {lo:g} and "
                             f"{hi:g} times it")

    @classmethod
    def exact(cls, name: str, value: float, *, truth: str, measured: Estimate, bound: float, baseline: float = 0.0,
              direction: str = "upper") -> NearBoundaryControl:
        """A control whose true value is known exactly (analytically, or by an exact oracle named in ``truth``):
        both certificates are that value."""
        return cls(name, truth_low=value, truth_high=value, lower_certificate=truth, upper_certificate=truth,
                   measured=measured, bound=bound, baseline=baseline, direction=direction)

    @property
    def true_value(self) -> float:
        """The middle of the certified interval (the exact value when both certificates agree)."""
        return (self.truth_low + self.truth_high) / 2

    @property
    def ratio_interval(self) -> tuple[float, float]:
        """The certified interval in multiples of the bound (both ends measured from the baseline), ordered."""
        a, b = (_excess(v, self.bound, self.baseline) for v in (self.truth_low, self.truth_high))
        return (min(a, b), max(a, b))

    @property
    def ratio(self) -> float:
        """The middle of the certified interval over the bound, both measured from the baseline."""
        return _excess(self.true_value, self.bound, self.baseline)

    @property
    def caught(self) -> bool:
        if self.direction == "upper":
            return bool(self.measured.ci_low > self.bound)
        return bool(self.measured.ci_high < self.bound)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "truth_low": self.truth_low, "truth_high": self.truth_high,
                "lower_certificate": self.lower_certificate, "upper_certificate": self.upper_certificate,
                "true_value": self.true_value, "bound": self.bound, "baseline": self.baseline,
                "direction": self.direction, "ratio_interval": list(self.ratio_interval), "caught": self.caught,
                "measured": self.measured.to_dict()}


@dataclass(frozen=True)
class PowerCurve:
    """Detection rate of a claim's own attack against a graded family of planted cases, at the verdict's n.

    ``strengths[i]`` is the known true value of planted case i (in the claim's units, e.g. the true gap),
    ``detected[i]`` how many of ``repeats`` independent attacks caught it. ``n``, ``confidence`` (of the attack's
    interval in each repeat), ``bound`` and ``direction`` are those of the verdict the curve serves;
    :func:`decide` refuses a curve where any of them differs from the measurement's. ``resolution`` is the
    smallest strength whose detection rate has a one-sided 95% Clopper-Pearson lower limit of at least
    :data:`POWER` (and no larger strength detected less often than that): the smallest violation the verdict can
    see. With fewer than :func:`min_power_repeats` repeats no strength can qualify.

    >>> curve = PowerCurve(strengths=(0.12, 0.2, 0.3), detected=(3, 14, 14), repeats=14, n=1000, bound=0.1)
    >>> curve.resolution, round(curve.resolution_factor, 3)
    (0.2, 2.0)
    >>> PowerCurve(strengths=(0.12, 0.2, 0.3), detected=(3, 10, 10), repeats=10, n=1000, bound=0.1).resolution
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
    direction: str = "upper"

    def __post_init__(self) -> None:
        _check_direction(self.direction)
        if len(self.strengths) != len(self.detected) or not self.strengths:
            raise ValueError("strengths and detected must be non-empty and of equal length")
        if isinstance(self.repeats, bool) or not isinstance(self.repeats, int) or self.repeats < 1:
            raise ValueError(f"repeats must be a positive integer, got {self.repeats!r}")
        if any(not 0 <= d <= self.repeats for d in self.detected):
            raise ValueError(f"detected counts must lie in [0, repeats={self.repeats}]")
        gaps = [abs(s - self.baseline) for s in self.strengths]
        if gaps != sorted(gaps):
            raise ValueError("strengths must move away from the baseline monotonically")

    def rates(self) -> list[Estimate]:
        """Detection rate at each strength, two-sided 95% Clopper-Pearson interval (the figure's bands)."""
        from ..estimators import clopper_pearson

        return [clopper_pearson(d, self.repeats, confidence=POWER_CONFIDENCE) for d in self.detected]

    def power_lower_limits(self) -> list[float]:
        """One-sided 95% Clopper-Pearson lower limit of the detection rate at each strength."""
        from ..estimators import clopper_pearson

        return [clopper_pearson(d, self.repeats, confidence=POWER_CONFIDENCE, sides=1).ci_low
                for d in self.detected]

    @property
    def resolution(self) -> float | None:
        """The smallest strength whose detection rate's lower limit reaches ``power``, with no larger strength
        detected less often than ``power``; None when no strength qualifies."""
        lows = self.power_lower_limits()
        best = None
        for i in reversed(range(len(self.strengths))):
            if self.detected[i] / self.repeats < self.power:
                break
            if lows[i] >= self.power:
                best = self.strengths[i]
        return best

    @property
    def resolution_factor(self) -> float | None:
        """Resolution over bound (both from the baseline); None when no strength reached the power."""
        r = self.resolution
        return None if r is None else _excess(r, self.bound, self.baseline)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "strengths": list(self.strengths), "detected": list(self.detected),
                "repeats": self.repeats, "n": self.n, "bound": self.bound, "baseline": self.baseline,
                "direction": self.direction, "confidence": self.confidence, "power": self.power,
                "power_confidence": POWER_CONFIDENCE, "min_repeats": min_power_repeats(self.power),
                "resolution": self.resolution, "resolution_factor": self.resolution_factor,
                "power_lower_limits": self.power_lower_limits(), "rates": [r.to_dict() for r in self.rates()]}


def power_curve(trial: Callable[[dict, int], dict], configs: Sequence[dict], *, strengths: Sequence[float],
                repeats: int, n: int, bound: float, streams: Streams, baseline: float = 0.0, label: str = "",
                direction: str = "upper", confidence: float = CONFIDENCE, path=None, resume: bool = False,
                n_jobs: int = 1, progress: bool = False) -> PowerCurve:
    """Run ``trial(configs[i], seed)`` ``repeats`` times for each planted strength and count detections.

    ``trial`` is a pure, picklable function returning a dict with a boolean ``"detected"`` (the verdict's own
    attack, at the verdict's n and confidence, said the planted case violates the bound); ``configs[i]`` describes
    the planted case of true value ``strengths[i]``. Seeds come from ``streams.seed("power", label, i, r)``; trials
    go through the sweep machinery (``path`` for a resumable JSON Lines log, ``n_jobs`` worker processes).
    """
    from .._sweep import run_trials

    if len(configs) != len(strengths):
        raise ValueError("configs and strengths must have the same length")
    jobs = [(dict(cfg), streams.seed("power", label, i, r)) for i, cfg in enumerate(configs) for r in range(repeats)]
    rows = run_trials(trial, jobs, path=path, resume=resume, n_jobs=n_jobs, desc=f"power {label}".strip(),
                      progress=progress)
    detected = [sum(bool(rows[i * repeats + r]["detected"]) for r in range(repeats)) for i in range(len(configs))]
    return PowerCurve(strengths=tuple(float(s) for s in strengths), detected=tuple(detected), repeats=repeats, n=n,
                      bound=bound, baseline=baseline, label=label, direction=direction, confidence=confidence)


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)


def check_decision_inputs(measured: Estimate, bound: float, *, control: NearBoundaryControl | None,
                          resolution: PowerCurve | None, direction: str) -> None:
    """Refuse a control or power curve that does not serve this measurement: its bound, direction, n or
    confidence differs from the measurement's (or the measurement's confidence is below :data:`CONFIDENCE`).

    >>> from ganlimits.verify import Estimate
    >>> m = Estimate(0.05, 0.0, 0.07, 0.95, 6000)
    >>> c = NearBoundaryControl.exact("m = 4", 0.2, truth="exact", bound=0.1,
    ...                               measured=Estimate(0.19, 0.13, 0.25, 0.95, 2000))
    >>> check_decision_inputs(m, 0.1, control=c, resolution=None, direction="upper")
    Traceback (most recent call last):
    ...
    ValueError: control 'm = 4': its n 2000 differs from the measurement's n 6000
    """
    _check_direction(direction)
    if not isinstance(measured, Estimate):
        raise ValueError(f"measured must be an Estimate, got {type(measured).__name__}")
    if isinstance(bound, bool) or not isinstance(bound, (int, float)) or not math.isfinite(bound):
        raise ValueError(f"bound must be a finite number, got {bound!r}")
    if measured.confidence < CONFIDENCE - 1e-12:
        raise ValueError(f"measured: a verdict needs an interval at confidence >= {CONFIDENCE:g}, got "
                         f"{measured.confidence:g}")
    if control is not None:
        what = f"control {control.name!r}"
        if not _same(control.bound, bound):
            raise ValueError(f"{what}: its bound {control.bound:.6g} differs from the verdict's bound {bound:.6g}")
        if control.direction != direction:
            raise ValueError(f"{what}: its direction {control.direction!r} differs from the verdict's {direction!r}")
        if control.measured.n != measured.n:
            raise ValueError(f"{what}: its n {control.measured.n} differs from the measurement's n {measured.n}")
        if not _same(control.measured.confidence, measured.confidence) or control.measured.sides != measured.sides:
            raise ValueError(f"{what}: its interval ({control.measured.confidence:g}, {control.measured.sides}-sided) "
                             f"differs from the measurement's ({measured.confidence:g}, {measured.sides}-sided)")
    if resolution is not None:
        what = f"power curve {resolution.label!r}"
        if not _same(resolution.bound, bound):
            raise ValueError(f"{what}: its bound {resolution.bound:.6g} differs from the verdict's bound {bound:.6g}")
        if resolution.direction != direction:
            raise ValueError(f"{what}: its direction {resolution.direction!r} differs from the verdict's "
                             f"{direction!r}")
        if resolution.n != measured.n:
            raise ValueError(f"{what}: its n {resolution.n} differs from the measurement's n {measured.n}")
        if not _same(resolution.confidence, measured.confidence):
            raise ValueError(f"{what}: its confidence {resolution.confidence:g} differs from the measurement's "
                             f"{measured.confidence:g}")
        if control is not None and not _same(resolution.baseline, control.baseline):
            raise ValueError(f"{what}: its baseline {resolution.baseline:g} differs from the control's "
                             f"{control.baseline:g}")


def decide(measured: Estimate, bound: float, *, control: NearBoundaryControl | None,
           resolution: PowerCurve | None, direction: str = "upper") -> tuple[str, str]:
    """The verdict rule of ``docs/design.md`` and its reason in words.

    The inputs are checked first (:func:`check_decision_inputs`): a control or power curve built for another
    bound, direction, n or confidence is an error, not a verdict. Then ``refuted`` when the measurement's limit
    lies beyond the bound (lower limit above it for an ``"upper"`` claim); otherwise ``consistent`` only when the
    limit on the other side is within the bound, a certified near-boundary control was caught, and the resolution
    (95% lower limit of the detection rate >= 80%) is no coarser than :data:`MAX_RESOLUTION_FACTOR` times the
    bound; ``inconclusive`` otherwise.
    """
    check_decision_inputs(measured, bound, control=control, resolution=resolution, direction=direction)
    upper = direction == "upper"
    beyond = measured.ci_low > bound if upper else measured.ci_high < bound
    within = measured.ci_high <= bound if upper else measured.ci_low >= bound
    if beyond:
        side = "lower" if upper else "upper"
        return "refuted", f"the measurement's {side} limit lies beyond the bound {bound:.4g}"
    if control is None:
        return "inconclusive", "no near-boundary control with a certified true value: the verdict could not fail"
    r_lo, r_hi = control.ratio_interval
    span = f"{r_lo:.2g}" if f"{r_lo:.2g}" == f"{r_hi:.2g}" else f"{r_lo:.2g} to {r_hi:.2g}"
    if not control.caught:
        return "inconclusive", (f"the near-boundary control {control.name!r} (certified true value {span} times the "
                                "bound) was not caught: the attack lacks power at this n")
    factor = None if resolution is None else resolution.resolution_factor
    if factor is None:
        need = min_power_repeats()
        repeats = "no power curve" if resolution is None else f"{resolution.repeats} repeats per strength"
        return "inconclusive", (f"no resolution: no planted strength was detected with a 95% lower limit of "
                                f"{POWER:.0%} power ({repeats}; at least {need} are needed)")
    if factor > MAX_RESOLUTION_FACTOR * (1 + 1e-12):
        return "inconclusive", (f"the resolution is {factor:.2g} times the bound, coarser than "
                                f"{MAX_RESOLUTION_FACTOR:g} times")
    if not within:
        side = "upper" if upper else "lower"
        return "inconclusive", f"the measurement's {side} limit is not within the bound {bound:.4g}"
    return "consistent", (f"within the bound, near-boundary control caught (certified true value {span} times the "
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


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Within the block torch uses one thread (the sweep's rule for a trial: many small products, for which a pool of
    threads on a shared 2-core machine is slower; results do not depend on it); the previous count is restored after
    it."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
