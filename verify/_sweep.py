"""Resumable sweeps: a list of pure ``trial(config, seed) -> dict`` calls, each result appended to a JSON Lines
file as soon as it finishes, so an interrupted sweep loses nothing and ``resume=True`` skips what is done.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from joblib import Parallel, delayed
from tqdm import tqdm

from ._results import to_jsonable

__all__ = ["run_trials"]


def trial_key(config: dict[str, Any], seed: int) -> str:
    """A stable key for one trial: its config and seed as canonical JSON."""
    return json.dumps({"config": to_jsonable(config), "seed": int(seed)}, sort_keys=True)


def _load_done(path: Path) -> dict[str, dict[str, Any]]:
    done: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return done
    with path.open() as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by an interruption; the trial runs again
            done[row["key"]] = row["result"]
    return done


def run_trials(
    trial: Callable[[dict[str, Any], int], dict[str, Any]],
    configs: Sequence[tuple[dict[str, Any], int]],
    *,
    path: str | Path | None = None,
    resume: bool = True,
    n_jobs: int = 1,
    scheduler: str | None = None,
    desc: str = "trials",
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Run ``trial(config, seed)`` for every ``(config, seed)``; results in input order.

    With ``path``, each finished result is appended to that JSON Lines file at once; with ``resume`` the trials
    already recorded there are not run again.
    """
    if scheduler is not None:
        raise ValueError("scheduler: running trials on a Dask cluster is not available in this version")
    keys = [trial_key(c, s) for c, s in configs]
    done = _load_done(Path(path)) if (path is not None and resume) else {}
    todo = [i for i, k in enumerate(keys) if k not in done]
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if not resume:
            Path(path).write_text("")

    def record(i: int, result: dict[str, Any]) -> None:
        done[keys[i]] = result
        if path is not None:
            with Path(path).open("a") as fh:
                fh.write(json.dumps({"key": keys[i], "result": to_jsonable(result)}) + "\n")
                fh.flush()

    bar = tqdm(total=len(todo), desc=desc, disable=not progress or not todo, leave=False)
    if n_jobs == 1:
        for i in todo:
            record(i, trial(*configs[i]))
            bar.update()
    else:
        runner = Parallel(n_jobs=n_jobs, return_as="generator")
        for i, result in zip(todo, runner(delayed(trial)(*configs[i]) for i in todo), strict=True):
            record(i, result)
            bar.update()
    bar.close()
    return [to_jsonable(done[k]) for k in keys]
