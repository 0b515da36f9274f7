"""Result objects: every Monte-Carlo quantity carries its interval, confidence, n and seed.

A :class:`ClaimResult` is what one ``ganlimits verify CLAIM`` run produces and what ``REPORT.md`` is generated
from. Its JSON form holds the fields docs/design.md promises (claim, source, verdict, params, seed, measured, bound,
control, elapsed_s, versions, threads, git_commit) plus free-form ``measurements``.

A result carries its own digest: ``digest`` is the SHA-256 of the rest of its JSON form (canonical: sorted keys,
no spaces), and ``figure_digests`` holds the SHA-256 of every figure it lists. :func:`read_result` (what
``--resume`` and the report load) accepts a file only when both still match and every field has its type; anything
else is set aside as ``<name>.corrupt-<n>`` and named, so a hand-edited or damaged result is never reused or
reported. The digest detects an edit made without recomputing it (it is a checksum, not a signature).
"""

from __future__ import annotations

import hashlib
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

from ganlimits.theory import CLAIMS, check_number, check_seed

__all__ = ["Estimate", "ClaimResult", "VERDICTS", "code_version", "check_out_dir", "read_result",
           "CorruptResult", "body_digest", "file_digest"]

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
    with_figures: bool | None = None
    figure_digests: dict[str, str] = field(default_factory=dict)
    machine: str = ""
    finished_at: str = ""

    def __post_init__(self) -> None:
        _check_fields(self)
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
        """The strict-JSON form, with ``digest``: the SHA-256 of everything else in it (:func:`body_digest`)."""
        d = asdict(self)
        d["measured"] = self.measured.to_dict()
        d["control"] = None if self.control is None else self.control.to_dict()
        d = to_jsonable(d)
        d["digest"] = body_digest(d)
        return d

    def attach_figures(self, folder: str | os.PathLike) -> None:
        """Record the digest of every figure in ``figures`` (files in ``folder``, the result's own folder); a figure
        that is not there is dropped from ``figures`` with a note."""
        folder = Path(folder)
        missing = [name for name in self.figures if not (folder / name).is_file()]
        self.figures = [name for name in self.figures if name not in missing]
        self.figure_digests = {name: file_digest(folder / name) for name in self.figures}
        self.notes = [*self.notes, *(f"figure {name} was not written" for name in missing)]

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, check_digest: bool = True) -> ClaimResult:
        """Rebuild a result from its JSON form; ``ValueError`` naming what is wrong when it is not one: not an
        object, no ``digest`` or one that does not match the body (with ``check_digest``), a field missing or of
        the wrong type."""
        if not isinstance(d, dict):
            raise ValueError(f"a result must be a JSON object, got {type(d).__name__}")
        d = dict(d)
        digest = d.pop("digest", None)
        if check_digest:
            if digest is None:
                raise ValueError("it carries no digest (written by hand or by an older version)")
            if digest != body_digest(d):
                raise ValueError("its content does not match its digest (altered after it was written)")
        missing = [k for k in ("claim", "source", "verdict", "params", "seed", "measured", "bound") if k not in d]
        if missing:
            raise ValueError(f"field(s) {', '.join(missing)} missing")
        d["measured"] = _estimate_in("measured", d["measured"])
        d["control"] = None if d.get("control") is None else _estimate_in("control", d["control"])
        if "elapsed_s" in d:
            d["elapsed_s"] = _float_in("elapsed_s", d["elapsed_s"], none=math.nan)
        if d.get("control_true_value") is not None:
            d["control_true_value"] = _float_in("control_true_value", d["control_true_value"])
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})


def _float_in(name: str, value: Any, *, none: float | None = None) -> float:
    """A float field read back from strict JSON: a number, ``"inf"``/``"-inf"``, or ``null`` when ``none`` says
    what it stands for (NaN)."""
    if value is None and none is not None:
        return none
    if isinstance(value, str) and value in ("inf", "-inf"):
        return float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return float(value)


def _estimate_in(name: str, d: Any) -> Estimate:
    """An :class:`Estimate` read back from strict JSON (``null`` is NaN, ``"inf"``/``"-inf"`` infinities)."""
    if not isinstance(d, dict):
        raise ValueError(f"{name} must be an object, got {d!r}")
    fields = set(Estimate.__dataclass_fields__)
    if not {"estimate", "ci_low", "ci_high", "confidence", "n"} <= set(d) <= fields:
        raise ValueError(f"{name} must hold estimate, ci_low, ci_high, confidence and n (and only Estimate fields)")
    out = dict(d)
    for k in ("estimate", "ci_low", "ci_high"):
        out[k] = _float_in(f"{name}.{k}", d[k], none=math.nan)
    for k in ("confidence", "n", "sides"):
        if isinstance(d.get(k), bool) or (k in d and not isinstance(d[k], (int, float))):
            raise ValueError(f"{name}.{k} must be a number, got {d[k]!r}")
    if d.get("seed") is not None and (isinstance(d["seed"], bool) or not isinstance(d["seed"], int)):
        raise ValueError(f"{name}.seed must be an integer, got {d['seed']!r}")
    return Estimate(**out)


_DICTS = ("params", "bound", "settings", "measurements", "versions", "identity")
_STRINGS = ("source", "verdict_reason", "summary", "control_summary", "code_version", "machine", "finished_at")


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    return float(value)


def _check_fields(r: ClaimResult) -> None:
    """Every field of ``r`` of its declared type (numpy scalars and tuples taken as their Python kind); a
    ``ValueError`` naming the first that is not."""
    if not isinstance(r.claim, str) or r.claim not in CLAIMS:
        raise ValueError(f"claim must be a registered claim id ({', '.join(CLAIMS)}), got {r.claim!r}")
    r.seed = check_seed("seed", r.seed)
    for name in _STRINGS:
        if not isinstance(getattr(r, name), str):
            raise ValueError(f"{name} must be a string, got {getattr(r, name)!r}")
    for name in _DICTS:
        if not isinstance(getattr(r, name), dict):
            raise ValueError(f"{name} must be a dict, got {getattr(r, name)!r}")
    for name in ("resolution",):
        if getattr(r, name) is not None and not isinstance(getattr(r, name), dict):
            raise ValueError(f"{name} must be a dict or None, got {getattr(r, name)!r}")
    if not isinstance(r.measured, Estimate):
        raise ValueError(f"measured must be an Estimate, got {r.measured!r}")
    if r.control is not None and not isinstance(r.control, Estimate):
        raise ValueError(f"control must be an Estimate or None, got {r.control!r}")
    for name in ("control_caught", "with_figures"):
        value = getattr(r, name)
        if isinstance(value, np.bool_):
            setattr(r, name, bool(value))
        elif value is not None and not isinstance(value, bool):
            raise ValueError(f"{name} must be true, false or None, got {value!r}")
    if not isinstance(r.quick, (bool, np.bool_)):
        raise ValueError(f"quick must be true or false, got {r.quick!r}")
    r.quick = bool(r.quick)
    if r.control_true_value is not None:
        r.control_true_value = _real("control_true_value", r.control_true_value)
    if r.verdict_pvalue is not None:
        r.verdict_pvalue = check_number("verdict_pvalue", r.verdict_pvalue, low=0, high=1)
    elapsed = _real("elapsed_s", r.elapsed_s)
    if elapsed < 0:
        raise ValueError(f"elapsed_s must be >= 0 (or NaN), got {r.elapsed_s!r}")
    r.elapsed_s = elapsed
    r.threads = check_number("threads", r.threads, low=0, integer=True)
    if r.git_commit is not None and not isinstance(r.git_commit, str):
        raise ValueError(f"git_commit must be a string or None, got {r.git_commit!r}")
    for name in ("figures", "notes"):
        value = getattr(r, name)
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"{name} must be a list of strings, got {value!r}")
        setattr(r, name, list(value))
    if not isinstance(r.figure_digests, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in r.figure_digests.items()):
        raise ValueError(f"figure_digests must map figure names to digests, got {r.figure_digests!r}")


def body_digest(body: dict[str, Any]) -> str:
    """``"sha256:<hex>"`` of ``body`` as canonical strict JSON (sorted keys, no spaces): what a result or a trial
    record holds about itself, so that an edit is seen.

    >>> body_digest({"b": 1, "a": [0.5, None]}) == body_digest({"a": [0.5, None], "b": 1})
    True
    """
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_digest(path: str | os.PathLike) -> str:
    """``"sha256:<hex>"`` of a file's bytes (a figure's digest)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


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


def machine_description() -> str:
    """The CPU model, core count, OS and the SIMD kernels torch uses on this machine, in one line."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    model = model or platform.processor() or platform.machine() or "unknown CPU"
    cores = os.cpu_count() or 0
    return (f"{model}, {cores} logical core{'s' if cores != 1 else ''}, {platform.system()} {platform.release()}, "
            f"torch kernels {torch.backends.cpu.get_cpu_capability()}")


def provenance() -> dict[str, Any]:
    """Versions, torch thread count, git commit, machine and the time (UTC) a result was finished, recorded in
    every result."""
    import datetime as dt

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
        "machine": machine_description(),
        "finished_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
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


def move_aside(path: str | os.PathLike) -> Path:
    """Rename ``path`` to ``<name>.corrupt-<n>`` beside itself (the first free n): nothing reads it again, nothing
    is lost."""
    path = Path(path)
    i = 1
    while (aside := path.with_name(f"{path.name}.corrupt-{i}")).exists():
        i += 1
    path.rename(aside)
    return aside


def _check_place(path: Path, r: ClaimResult) -> None:
    """A result file named after a claim holds that claim; one in ``seeds/seed-<S>/`` holds seed S; every figure
    it lists lies beside it with the digest it recorded."""
    if path.suffix == ".json" and path.stem in CLAIMS and r.claim != path.stem:
        raise ValueError(f"it holds claim {r.claim!r}, not {path.stem!r}")
    parent = path.parent.name
    if parent.startswith("seed-") and parent[5:].isdigit() and r.seed != int(parent[5:]):
        raise ValueError(f"it holds seed {r.seed}, not {parent[5:]}")
    if set(r.figure_digests) != set(r.figures):
        raise ValueError("its figures and their digests do not match")
    for name in r.figures:
        figure = path.parent / name
        if Path(name).name != name or not figure.is_file():
            raise ValueError(f"its figure {name} is missing")
        if file_digest(figure) != r.figure_digests[name]:
            raise ValueError(f"its figure {name} does not match its digest (altered after it was written)")


def read_result(path: str | os.PathLike, *, set_aside: bool = True) -> ClaimResult:
    """The :class:`ClaimResult` stored in ``path``, when it is intact: valid strict JSON, its digest matching its
    content, every field of its type, its figures matching their digests, and (for ``<claim>.json`` and
    ``seeds/seed-<S>/``) the claim and seed its place names. Anything else raises :class:`CorruptResult` naming
    the file and the reason; with ``set_aside`` the file is first renamed to ``<name>.corrupt-<n>`` beside itself,
    so that nothing reads it again and nothing is lost. This is what ``--resume`` and ``REPORT.md`` load."""
    path = Path(path)
    try:
        result = ClaimResult.from_dict(json.loads(path.read_bytes()))
        _check_place(path, result)
        return result
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError, UnicodeDecodeError,
            OSError) as exc:
        plain = isinstance(exc, ValueError) and not isinstance(exc, (json.JSONDecodeError, UnicodeDecodeError))
        text = (str(exc).splitlines() or [""])[0]
        reason = text if plain and text else f"{type(exc).__name__}: {text}".rstrip(": ")
        aside = None
        if set_aside and not isinstance(exc, OSError):
            aside = move_aside(path)
        where = f"; set aside as {aside.name}" if aside else ""
        raise CorruptResult(f"{path} is not a readable result ({reason}){where}", aside) from None


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
