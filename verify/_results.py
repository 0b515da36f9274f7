"""Result objects: every Monte-Carlo quantity carries its interval, confidence, n and seed.

A :class:`ClaimResult` is what one ``ganlimits verify CLAIM`` run produces and what ``REPORT.md`` is generated
from. Its JSON form holds the fields docs/design.md promises (claim, source, verdict, params, seed, measured, bound,
control, elapsed_s, versions, threads, git_commit) plus free-form ``measurements``.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganlimits.theory import check_number, check_seed

__all__ = ["Estimate", "ClaimResult", "VERDICTS", "code_version", "check_out_dir", "read_result",
           "CorruptResult"]

VERDICTS = ("consistent", "refuted", "inconclusive", "holds", "fails")
PASSING = ("consistent", "holds")


@dataclass(frozen=True)
class Estimate:
    """A measured quantity with a confidence interval.

    ``method`` names the inequality or procedure behind the interval (e.g. ``"hoeffding"``,
    ``"clopper-pearson"``, ``"bonferroni-hoeffding"``, ``"exact"``). ``sides = 2``: [ci_low, ci_high] covers the
    true value with probability >= ``confidence``; ``sides = 1``: each limit alone is a one-sided bound at level
    ``confidence`` (what a one-sided claim is decided on: the upper limit for "consistent", the lower one for
    "refuted"). ``seed`` is the seed of the generator the samples behind the estimate were drawn from.
    """

    estimate: float
    ci_low: float
    ci_high: float
    confidence: float
    n: int
    method: str = ""
    seed: int | None = None
    sides: int = 2

    def __post_init__(self) -> None:
        for name in ("estimate", "ci_low", "ci_high"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
                raise ValueError(f"{name} must be a real number, got {value!r}")
            object.__setattr__(self, name, float(value))
        object.__setattr__(self, "confidence", check_number("confidence", self.confidence, low=0, high=1,
                                                            low_open=True))
        object.__setattr__(self, "n", check_number("n", self.n, low=0, integer=True))
        if self.sides not in (1, 2) or isinstance(self.sides, bool):
            raise ValueError(f"sides must be 1 or 2, got {self.sides!r}")
        if self.seed is not None:
            object.__setattr__(self, "seed", check_seed("seed", self.seed))
        if not isinstance(self.method, str):
            raise ValueError(f"method must be a string, got {self.method!r}")
        if self.ci_low > self.ci_high:
            raise ValueError(f"ci_low {self.ci_low} exceeds ci_high {self.ci_high}")
        if not (self.ci_low <= self.estimate <= self.ci_high) and not any(
            math.isnan(v) for v in (self.estimate, self.ci_low, self.ci_high)
        ):
            raise ValueError(
                f"estimate {self.estimate} lies outside its interval [{self.ci_low}, {self.ci_high}]"
            )

    @classmethod
    def exact(cls, value: float, n: int = 1) -> Estimate:
        """A value computed exactly (zero-width interval, confidence 1)."""
        v = float(value)
        return cls(v, v, v, 1.0, int(n), "exact")

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(asdict(self))

    def fmt(self, digits: int = 3) -> str:
        if self.ci_low == self.ci_high:
            return f"{self.estimate:.{digits}g}"
        return (
            f"{self.estimate:.{digits}g} [{self.ci_low:.{digits}g}, {self.ci_high:.{digits}g}]"
            f" ({100 * self.confidence:g}%{' one-sided' if self.sides == 1 else ''}, n={self.n})"
        )


@dataclass
class ClaimResult:
    """Everything one claim run measured, with its provenance."""

    claim: str
    source: str
    verdict: str
    params: dict[str, Any]
    seed: int
    measured: Estimate
    bound: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)
    control: Estimate | None = None
    control_caught: bool | None = None
    control_true_value: float | None = None
    resolution: dict[str, Any] | None = None
    verdict_reason: str = ""
    verdict_pvalue: float | None = None
    summary: str = ""
    control_summary: str = ""
    measurements: dict[str, Any] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    quick: bool = False
    elapsed_s: float = float("nan")
    versions: dict[str, str] = field(default_factory=dict)
    threads: int = 0
    git_commit: str | None = None
    code_version: str = ""
    identity: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.control_caught is False and self.verdict == "consistent":
            raise ValueError("a 'consistent' verdict needs a control that was caught")
        if self.verdict_pvalue is not None and self.verdict not in ("consistent", "refuted"):
            raise ValueError(f"verdict_pvalue is the p-value of the null a verdict rejects; a {self.verdict!r} "
                             "verdict rejects none, so it gives none")

    @property
    def passed(self) -> bool:
        return self.verdict in PASSING

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["measured"] = self.measured.to_dict()
        d["control"] = None if self.control is None else self.control.to_dict()
        return to_jsonable(d)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClaimResult:
        """Rebuild a result from its JSON form (``ValueError`` / ``KeyError`` / ``TypeError`` when it is not one)."""
        if not isinstance(d, dict):
            raise ValueError(f"a result must be a JSON object, got {type(d).__name__}")
        d = dict(d)
        d["measured"] = Estimate(**_nan_in(d["measured"]))
        d["control"] = None if d.get("control") is None else Estimate(**_nan_in(d["control"]))
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


def _nan_in(d: dict[str, Any]) -> dict[str, Any]:
    """Undo :func:`to_jsonable` on the float fields of an Estimate: null is NaN, "inf"/"-inf" are infinities."""
    out = {}
    for k, v in d.items():
        if k in ("estimate", "ci_low", "ci_high"):
            v = float("nan") if v is None else float(v)
        out[k] = v
    return out


def to_jsonable(obj: Any) -> Any:
    """Convert numpy/torch scalars and arrays, paths and non-finite floats into strict JSON values.

    Strict JSON has no NaN or Infinity tokens; this project writes a NaN ("not measured") as ``null`` and an
    infinity as the string ``"inf"`` or ``"-inf"`` (``float("inf")`` reads it back).
    """
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        return to_jsonable(obj.detach().cpu().tolist())
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        v = float(obj)
        if math.isinf(v):  # strict JSON has no Infinity; an unbounded support is still worth saying
            return "inf" if v > 0 else "-inf"
        return v if math.isfinite(v) else None
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def provenance() -> dict[str, Any]:
    """Versions, torch thread count and git commit, recorded in every result."""
    import scipy
    import sympy

    from . import __version__

    return {
        "versions": {
            "ganlimits": __version__,
            "python": platform.python_version(),
            "torch": torch.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "sympy": sympy.__version__,
        },
        "threads": torch.get_num_threads(),
        "git_commit": _git_commit(),
    }


@cache
def _file_mode() -> int:
    """The mode an ordinary new file gets here (0666 less the umask): what figures and REPORT.md get."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (a temporary file in the same folder, then a rename), with the
    permissions of an ordinary new file (not the 0600 of a temporary file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as strict JSON to ``path`` atomically: a temporary file in the same folder, then a rename
    (an interrupted write leaves the old file or none, never half a file)."""
    text = json.dumps(to_jsonable(data), indent=2, sort_keys=False, allow_nan=False) + "\n"
    return write_text_atomic(path, text)


class CorruptResult(ValueError):
    """A result file that is not a readable result; ``path`` is where it was set aside (or None)."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


def read_result(path: str | os.PathLike, *, set_aside: bool = True) -> ClaimResult:
    """The :class:`ClaimResult` stored in ``path``. A file that is not one (truncated, hand-edited, not JSON)
    raises :class:`CorruptResult` naming it; with ``set_aside`` it is first renamed to
    ``<name>.corrupt-<n>`` beside itself, so that nothing reads it again and nothing is lost."""
    path = Path(path)
    try:
        return ClaimResult.from_dict(json.loads(path.read_text()))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        aside = None
        if set_aside:
            i = 1
            while (aside := path.with_name(f"{path.name}.corrupt-{i}")).exists():
                i += 1
            path.rename(aside)
        where = f"; set aside as {aside.name}" if aside else ""
        raise CorruptResult(f"{path} is not a readable result ({type(exc).__name__}: {reason}){where}",
                            aside) from None


@cache
def code_version() -> str:
    """A digest of the source of ``ganlimits`` (theory, constructions, verify) as it is installed now: part of a
    result's identity, so that a result made by other code is never reused (a git commit alone misses
    uncommitted edits)."""
    import hashlib

    import ganlimits.constructions
    import ganlimits.theory

    digest = hashlib.sha256()
    for pkg in (ganlimits.theory, ganlimits.constructions, __import__("ganlimits.verify").verify):
        root = Path(pkg.__file__).resolve().parent
        for file in sorted(root.rglob("*.py")):
            digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def check_out_dir(path, name: str = "out_dir") -> Path:
    """``path`` as a folder that exists (created when missing) and accepts new files; ``ValueError`` naming
    ``name`` otherwise (empty, a file, under a file, not writable). Called before any computation."""
    if path is None or (isinstance(path, str) and not path.strip()):
        raise ValueError(f"{name} must be a folder, got an empty path")
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"{name} must be a path, got {path!r}")
    p = Path(path)
    for parent in [p, *p.parents]:
        if parent.exists() and not parent.is_dir():
            what = "is a file" if parent == p else f"lies under the file {parent}"
            raise ValueError(f"{name}: {p} {what}, not a folder")
    try:
        p.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-check.", dir=p)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise ValueError(f"{name}: cannot write into {p} ({exc.strerror or exc})") from None
    return p
