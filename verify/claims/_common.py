"""What every claim shares: its settings resolved once, its result built once, the shared constants, and the
verdict helpers (``docs/design.md``, "Claims, measurements, verdicts").

A claim module defines a frozen ``Settings`` dataclass with ``quick()`` and ``full()`` classmethods and
``run(config, settings=None)``; it calls :func:`resolve_settings` first and :func:`make_result` last, so claim,
source, seed and the settings used are filled in here and nowhere else.
"""

from __future__ import annotations

import math
from typing import Any, TypeVar

from ganlimits.theory import CLAIMS

from .._registry import RunConfig
from .._results import ClaimResult, Estimate
from .._settings import CheckedSettings, settings_dict
from .._streams import Streams

__all__ = ["CheckedSettings", "CONFIDENCE", "DIGITS_JITTER", "resolve_settings", "make_result", "streams_for",
           "support_text"]

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
                bound: dict[str, Any], **fields: Any) -> ClaimResult:
    """The :class:`ClaimResult` of one run, with claim, source, seed and settings filled in."""
    claim = CLAIMS[claim_id]
    return ClaimResult(claim=claim.id, source=claim.source, verdict=verdict, seed=config.seed, measured=measured,
                       bound=bound, settings=settings_dict(settings), **fields)


def support_text(target) -> str | int:
    """A target's support for the JSON (strict JSON has no infinity): an integer, or ``"unbounded"``."""
    return "unbounded" if math.isinf(target.support) else int(target.support)
