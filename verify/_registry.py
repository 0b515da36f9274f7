"""Which code attacks which claim, and how a run is recorded.

A claim's module is found from its id: ``arz-thm1`` is :mod:`ganlimits.verify.claims.arz_thm1` (dashes become
underscores); it is imported only when the claim runs, so ``ganlimits list`` stays fast. :func:`run_claim` times the
claim's ``run``, adds provenance and writes ``<out>/<claim>.json`` atomically.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from ganlimits.theory import CLAIMS, check_seed

__all__ = ["RunConfig", "run_claim", "available_claims", "claim_module", "claim_settings"]

_PACKAGE = "ganlimits.verify.claims"


@dataclass(frozen=True)
class RunConfig:
    """Settings shared by every claim run (the CLI reads the same defaults).

    ``quick`` selects the claim's small setting (``Settings.quick()``, used by ``make test``) when no settings
    are given; ``seed`` the master seed in [0, 2**63); ``out_dir`` receives JSON, figures and sweep logs;
    ``resume`` lets a claim skip sweep trials already recorded in its JSON Lines file; ``n_jobs`` worker processes
    (one torch thread each) run a claim's sweep trials, on the Dask cluster at ``scheduler`` when one is given.
    Claims pass both to :func:`~ganlimits.verify.run_trials`.
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
        object.__setattr__(self, "seed", check_seed("seed", self.seed))
        object.__setattr__(self, "out_dir", Path(self.out_dir))


def _module_name(claim_id: str) -> str:
    if claim_id not in CLAIMS:
        raise KeyError(f"unknown claim {claim_id!r}; known: {', '.join(CLAIMS)}")
    return f"{_PACKAGE}.{claim_id.replace('-', '_')}"


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


def run_claim(claim_id: str, config: RunConfig | None = None, settings=None, *, write: bool = True):
    """Run one claim with ``settings`` (default: the claim's ``quick()`` or ``full()`` by ``config.quick``), fill in
    timing and provenance, and (with ``write``) save ``<out_dir>/<claim>.json``."""
    import torch

    from ._results import provenance, write_json_atomic

    config = config or RunConfig()
    run = claim_module(claim_id).run
    start = time.perf_counter()
    result = run(config, settings)
    result.elapsed_s = time.perf_counter() - start
    prov = provenance()
    result.versions = prov["versions"]
    result.threads = torch.get_num_threads()
    result.git_commit = prov["git_commit"]
    result.quick = config.quick
    if write:
        write_json_atomic(Path(config.out_dir) / f"{claim_id}.json", result.to_dict())
    return result
