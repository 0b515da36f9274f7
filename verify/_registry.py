"""Which code attacks which claim, and how a run is recorded.

Runners are named ``"module:function"`` and imported lazily, so ``ganlimits list`` stays fast and a claim's
heavy imports are paid only when it runs. A runner takes a :class:`RunConfig` and returns a
:class:`~ganlimits.verify.ClaimResult`; :func:`run_claim` times it, adds provenance and writes
``<out>/<claim>.json`` atomically.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ganlimits.theory import CLAIMS

from ._results import ClaimResult, provenance, write_json_atomic

__all__ = ["RunConfig", "RUNNERS", "run_claim", "runner_for", "available_claims"]


@dataclass(frozen=True)
class RunConfig:
    """Settings shared by every claim run (the CLI reads the same defaults).

    ``quick`` selects the small setting used by ``make test``; ``out_dir`` receives JSON, figures and sweep logs;
    ``resume`` lets a runner skip trials already recorded in its JSON Lines sweep file.
    """

    quick: bool = False
    seed: int = 0
    out_dir: Path = field(default_factory=lambda: Path("results"))
    progress: bool = True
    resume: bool = False
    figures: bool = True


RUNNERS: dict[str, str] = {
    "arz-thm1": "ganlimits.verify._claim_arz_thm1:run",
    "arz-thm3": "ganlimits.verify._claim_arz_thm3:run",
    "arz-lemA2": "ganlimits.verify._claim_arz_lemA2:run",
    "arz-codes": "ganlimits.verify._claim_arz_codes:run",
    "az17-birthday": "ganlimits.verify._claim_birthday:run",
    "agl17-thm31": "ganlimits.verify._claim_agl17_thm31:run",
    "agl17-equilibrium": "ganlimits.verify._claim_agl17_equilibrium:run",
    "li17-dynamics": "ganlimits.verify._claim_li17:run",
    "lecture-optimal-d": "ganlimits.verify._claim_lecture:run_optimal_d",
    "lecture-inception-fooled": "ganlimits.verify._claim_lecture:run_inception_fooled",
}


def available_claims() -> list[str]:
    """Claims whose runner module exists in this installation, in registry order."""
    out = []
    for cid, target in RUNNERS.items():
        if importlib.util.find_spec(target.split(":")[0]) is not None:
            out.append(cid)
    return out


def runner_for(claim_id: str) -> Callable[[RunConfig], ClaimResult]:
    if claim_id not in CLAIMS:
        raise KeyError(f"unknown claim {claim_id!r}; known: {', '.join(CLAIMS)}")
    module, func = RUNNERS[claim_id].split(":")
    return getattr(importlib.import_module(module), func)


def run_claim(claim_id: str, config: RunConfig | None = None, *, write: bool = True) -> ClaimResult:
    """Run one claim, fill in timing and provenance, and (with ``write``) save ``<out_dir>/<claim>.json``."""
    config = config or RunConfig()
    runner = runner_for(claim_id)
    start = time.perf_counter()
    result = runner(config)
    result.elapsed_s = time.perf_counter() - start
    prov = provenance()
    result.versions = prov["versions"]
    result.threads = torch.get_num_threads()
    result.git_commit = prov["git_commit"]
    result.quick = config.quick
    if write:
        write_json_atomic(Path(config.out_dir) / f"{claim_id}.json", result.to_dict())
    return result
