"""Which code attacks which claim, and how a run is recorded.

A claim's module is found from its id: ``arz-thm1`` is :mod:`ganlimits.verify.claims.arz17.thm1` (the paper's
package, then the rest of the id with dashes as underscores); it is imported only when the claim runs, so
``ganlimits list`` stays fast. :func:`run_claim` times the claim's ``run``, adds provenance and writes
``<out>/<claim>.json`` atomically, then regenerates ``REPORT.md``.

A result's identity is (claim, settings, seed, code version) (:func:`result_identity`). With ``resume`` a stored
result is reused only when it is intact (its digest and its figures' digests match:
:func:`~ganlimits.verify.read_result`), its identity is exactly that of the run asked for, and it has figures when
the run wants them; an altered file is set aside as ``<claim>.json.corrupt-<n>``, and a stored result of another
identity is moved to ``<out>/superseded/`` before the new one takes its place, so no result is ever lost.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from ganlimits.theory import CLAIMS, check_number, check_seed

__all__ = ["RunConfig", "run_claim", "available_claims", "claim_module", "claim_settings", "result_identity",
           "reusable_result"]

_PACKAGE = "ganlimits.verify.claims"


@dataclass(frozen=True)
class RunConfig:
    """Settings shared by every claim run (the CLI reads the same defaults).

    ``quick`` selects the claim's small setting (``Settings.quick()``, used by ``make test``) when no settings
    are given; ``seed`` the master seed in [0, 2**63); ``out_dir`` receives JSON, figures and sweep logs;
    ``resume`` reuses a stored result of the same identity and lets a claim skip sweep trials already recorded in
    its JSON Lines file; ``n_jobs`` worker processes (one torch thread each) run a claim's sweep trials, on the
    Dask cluster at ``scheduler`` (an address such as ``tcp://127.0.0.1:8786``) when one is given. Claims pass
    both to :func:`~ganlimits.verify.runs.run_trials` (which also takes them from the running claim by default).
    """

    quick: bool = False
    seed: int = 0
    out_dir: Path = field(default_factory=lambda: Path("results"))
    progress: bool = True
    resume: bool = False
    figures: bool = True
    n_jobs: int = 1
    scheduler: str | None = None

    def __post_init__(self) -> None:
        for name in ("quick", "progress", "resume", "figures"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        object.__setattr__(self, "seed", check_seed("seed", self.seed))
        out = self.out_dir
        if not isinstance(out, (str, os.PathLike)) or not str(out).strip():
            raise ValueError(f"out_dir must be a folder path, got {out!r}")
        object.__setattr__(self, "out_dir", Path(out))
        object.__setattr__(self, "n_jobs", check_number("n_jobs", self.n_jobs, low=1, integer=True))
        if self.scheduler is not None:
            from ._sweep import check_scheduler

            check_scheduler(self.scheduler)


_PAPERS = {"arz": "arz17", "agl17": "agl17", "az17": "az17", "li17": "li17", "lecture": "lecture9", "veegan": "veegan"}
"""The package of ``verify/claims/`` that holds a claim, by the prefix of its id: one package per paper, as the pages
of ``docs/papers/``."""


def _module_name(claim_id: str) -> str:
    """``arz-thm1`` -> ``ganlimits.verify.claims.arz17.thm1``: the paper's package, then the rest of the id with
    underscores."""
    if not isinstance(claim_id, str) or claim_id not in CLAIMS:
        raise KeyError(f"unknown claim {claim_id!r}; known: {', '.join(CLAIMS)}")
    prefix, rest = claim_id.split("-", 1)
    return f"{_PACKAGE}.{_PAPERS[prefix]}.{rest.replace('-', '_')}"


def claim_module(claim_id: str) -> ModuleType:
    """The module that verifies ``claim_id`` (``KeyError`` listing the known ids for an unknown one)."""
    return importlib.import_module(_module_name(claim_id))


def available_claims() -> list[str]:
    """Claims whose module exists in this installation, in registry order."""
    return [cid for cid in CLAIMS if importlib.util.find_spec(_module_name(cid)) is not None]


def claim_settings(claim_id: str, *, quick: bool = False, overrides=()):
    """The claim's ``Settings`` (``quick()`` or ``full()``) with ``overrides`` applied: ``"key=value"`` strings or a
    ``{key: value}`` mapping, checked against the dataclass (``ValueError`` naming the field otherwise).

    >>> claim_settings("arz-thm3", quick=True, overrides=["k=4"]).k
    4
    """
    from ._settings import apply_overrides

    cls = claim_module(claim_id).Settings
    return apply_overrides(cls.quick() if quick else cls.full(), overrides)


def result_identity(claim_id: str, settings, seed: int) -> dict[str, Any]:
    """What makes two results the same result: claim, settings (as JSON), seed and code version."""
    from ._results import code_version, to_jsonable
    from ._settings import settings_dict

    return {"claim": claim_id, "settings": to_jsonable(settings_dict(settings)), "seed": check_seed("seed", seed),
            "code_version": code_version()}


def _difference(old: dict, new: dict) -> str:
    if not old:
        return "it records no identity (made by an older version)"
    parts = []
    for key in ("claim", "seed", "code_version"):
        if old.get(key) != new.get(key):
            parts.append(f"{key} {old.get(key)} there, {new.get(key)} now")
    if old.get("settings") != new.get("settings"):
        a, b = old.get("settings") or {}, new.get("settings") or {}
        changed = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        parts.append("settings differ (" + ", ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in changed[:4])
                     + (", ..." if len(changed) > 4 else "") + ")")
    return "; ".join(parts) or "identical"


def _resolve(claim_id: str, config: RunConfig, settings):
    cls = claim_module(claim_id).Settings
    if settings is None:
        return cls.quick() if config.quick else cls.full()
    if not isinstance(settings, cls):
        raise ValueError(f"settings must be a {claim_id} Settings ({cls.__module__}.{cls.__qualname__}), "
                         f"got {type(settings).__name__}")
    return settings


def reusable_result(claim_id: str, config: RunConfig, settings=None, *, log: Callable[[str], None] | None = None):
    """The stored ``<out_dir>/<claim>.json`` when its identity is exactly that of this run, else None (a corrupt
    file is set aside and named; a different identity is named). ``log`` receives one line saying which."""
    from ._results import CorruptResult, read_result

    settings = _resolve(claim_id, config, settings)
    path = Path(config.out_dir) / f"{claim_id}.json"
    say = log or (lambda _msg: None)
    if not path.exists():
        return None
    try:
        prev = read_result(path)
    except CorruptResult as exc:
        say(f"[{claim_id}] {exc}; computing it again")
        return None
    want = result_identity(claim_id, settings, config.seed)
    if prev.identity != want:
        say(f"[{claim_id}] not reusing {path}: {_difference(prev.identity, want)}")
        return None
    if config.figures and prev.with_figures is not True:
        say(f"[{claim_id}] not reusing {path}: it was made without figures (--no-figures) and this run wants them")
        return None
    say(f"[{claim_id}] reused {path}: same claim, settings, seed {config.seed} and code version "
        f"{want['code_version']}, digest intact ({prev.verdict})")
    return prev


def _supersede(path: Path, identity: dict) -> str | None:
    """Move a stored result of another identity to ``superseded/`` beside it, and an altered or unreadable one to
    ``<claim>.json.corrupt-<n>`` (nothing is overwritten); say where, or None when nothing was moved."""
    from ._results import CorruptResult, read_result

    if not path.exists():
        return None
    try:
        if read_result(path).identity == identity:  # an altered file is set aside as it is read
            return None
    except CorruptResult as exc:
        return str(exc)
    folder = path.parent / "superseded"
    folder.mkdir(exist_ok=True)
    i = 1
    while (target := folder / f"{path.stem}-{i}.json").exists():
        i += 1
    path.rename(target)
    return f"the previous {path.name} (another identity) was kept as {target}"


def run_claim(claim_id: str, config: RunConfig | None = None, settings=None, *, write: bool = True,
              report_dir: str | Path | None = None, log: Callable[[str], None] | None = None):
    """Run one claim with ``settings`` (default: the claim's ``quick()`` or ``full()`` by ``config.quick``), fill in
    timing, provenance and identity, and (with ``write``) save ``<out_dir>/<claim>.json`` and regenerate
    ``REPORT.md`` in ``report_dir`` (default ``out_dir``).

    The output folder is checked before anything is computed. With ``config.resume`` a stored result of exactly
    this identity is returned instead of running (``log`` is told); a stored result of another identity is moved
    to ``<out_dir>/superseded/`` when the new one is written.
    """
    import torch

    from ._results import check_out_dir, code_version, provenance, write_json_atomic
    from ._sweep import sweep_defaults

    config = RunConfig() if config is None else config
    if not isinstance(config, RunConfig):
        raise ValueError(f"config must be a RunConfig, got {type(config).__name__}")
    module = claim_module(claim_id)
    settings = _resolve(claim_id, config, settings)
    if write:
        check_out_dir(config.out_dir, "out_dir")
        if report_dir is not None:
            check_out_dir(report_dir, "report_dir")
        if config.resume:
            prev = reusable_result(claim_id, config, settings, log=log)
            if prev is not None:
                return prev
    identity = result_identity(claim_id, settings, config.seed)
    start = time.perf_counter()
    with sweep_defaults(n_jobs=config.n_jobs, scheduler=config.scheduler, log=log):
        result = module.run(config, settings)
    result.elapsed_s = time.perf_counter() - start
    prov = provenance()
    result.versions = prov["versions"]
    result.threads = torch.get_num_threads()
    result.git_commit = prov["git_commit"]
    result.machine = prov["machine"]
    result.finished_at = prov["finished_at"]
    result.quick = config.quick
    result.code_version = code_version()
    result.identity = identity
    result.with_figures = config.figures
    result.attach_figures(config.out_dir)
    if write:
        from ._report import write_report

        path = Path(config.out_dir) / f"{claim_id}.json"
        moved = _supersede(path, identity)
        if moved is not None and log is not None:
            log(f"[{claim_id}] {moved}")
        write_json_atomic(path, result.to_dict())
        write_report(Path(report_dir) if report_dir is not None else Path(config.out_dir))
    return result
