"""Resumable sweeps: a list of pure ``trial(config, seed) -> dict`` calls, each result appended to a JSON Lines
file as soon as it finishes, so an interrupted sweep loses nothing and ``resume=True`` skips what is done.

A trial's key holds its config, its seed and the code version
(:func:`~ganlimits.verify.code_version`), so a record made by other code or other settings is never reused. The
log is only ever appended to: a run without ``resume`` appends fresh records (the last record of a key wins); a
torn last line (a run killed mid-write) is cut away before anything is appended, and unreadable lines are moved to
``<log>.corrupt``.

Trials run in this process (``n_jobs=1``), in ``n_jobs`` local worker processes (joblib's loky backend) or on a
Dask cluster (``scheduler="tcp://host:8786"``: joblib's dask backend through :class:`distributed.Client`). Every
worker runs its trials with one torch thread, and every trial gets its seed from its ``(config, seed)`` pair, so
the three give identical results.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ganlimits.theory import check_number, check_seed

from ._results import _file_mode, code_version, to_jsonable

__all__ = ["run_trials", "trial_key", "check_scheduler"]

_DEFAULTS: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("ganlimits_sweep_defaults",
                                                                                  default=None)


@contextlib.contextmanager
def sweep_defaults(*, n_jobs: int = 1, scheduler: str | None = None) -> Iterator[None]:
    """Within the block, :func:`run_trials` calls that leave ``n_jobs`` / ``scheduler`` unset use these (a claim
    run through :func:`~ganlimits.verify.run_claim` gets its :class:`RunConfig`'s)."""
    token = _DEFAULTS.set({"n_jobs": n_jobs, "scheduler": scheduler})
    try:
        yield
    finally:
        _DEFAULTS.reset(token)


def _trial_name(trial: Callable) -> str:
    return f"{getattr(trial, '__module__', '?')}.{getattr(trial, '__qualname__', repr(trial))}"


def trial_key(config: dict[str, Any], seed: int, *, trial: Callable | None = None) -> str:
    """A stable key for one trial: its config, seed and the code version as canonical JSON."""
    del trial  # the log belongs to one sweep; its config, seed and the code version identify a trial
    return json.dumps({"config": to_jsonable(config), "seed": int(seed), "code": code_version()}, sort_keys=True)


def _repair(path: Path) -> dict[str, dict[str, Any]]:
    """The records of the log at ``path`` by key; a torn last line is cut away and unreadable lines moved to
    ``<log>.corrupt``, so the next record is appended onto a clean line."""
    done: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return done
    raw = path.read_bytes()
    good, bad = [], []
    for line in raw.splitlines(keepends=True):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            done[row["key"]] = row["result"]
            if not line.endswith(b"\n"):
                line += b"\n"
            good.append(line)
        except (ValueError, KeyError, TypeError):
            bad.append(line if line.endswith(b"\n") else line + b"\n")
    if bad or (raw and not raw.endswith(b"\n")):
        if bad:
            with (path.parent / (path.name + ".corrupt")).open("ab") as fh:
                fh.writelines(bad)
        tmp = path.with_name(f".{path.name}.repair")
        tmp.write_bytes(b"".join(good))
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    return done


def check_scheduler(scheduler: str, name: str = "scheduler") -> str:
    """A Dask scheduler address (``tcp://host:port``, ``host:port`` or another ``scheme://`` address);
    ``ValueError`` naming ``name`` otherwise. Reaching it is checked when a sweep starts."""
    if not isinstance(scheduler, str) or not scheduler.strip() or any(c.isspace() for c in scheduler):
        raise ValueError(f"{name} must be a Dask scheduler address such as tcp://127.0.0.1:8786, got {scheduler!r}")
    rest = scheduler.split("://", 1)[-1]
    if ":" not in rest and "://" not in scheduler:
        raise ValueError(f"{name} must name a port (host:port or tcp://host:port), got {scheduler!r}")
    return scheduler


def dask_client(scheduler: str, *, timeout: float = 10.0):
    """A :class:`distributed.Client` connected to ``scheduler``; ``ValueError`` naming it when ``distributed``
    is missing or nothing answers there."""
    check_scheduler(scheduler)
    try:
        from distributed import Client
    except ImportError:
        raise ValueError("scheduler: running on a Dask cluster needs the 'distributed' package "
                         "(pip install distributed)") from None
    address = scheduler.split("://", 1)[-1]
    host, _, port = address.rpartition(":")
    if scheduler.startswith(("tcp://", "tls://")) or "://" not in scheduler:
        import socket

        try:  # a refused or unroutable address answers at once, before the client's retries
            socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=timeout).close()
        except (OSError, ValueError) as exc:
            raise ValueError(f"scheduler: no Dask scheduler answered at {scheduler} ({exc})") from None
    try:
        return Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ValueError(f"scheduler: no Dask scheduler answered at {scheduler} ({type(exc).__name__})") from None


def _one_thread(trial: Callable, config: dict[str, Any], seed: int) -> dict[str, Any]:
    """Run one trial with one torch thread (worker processes; results do not depend on the process)."""
    import torch

    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)
    return trial(config, seed)


def run_trials(
    trial: Callable[[dict[str, Any], int], dict[str, Any]],
    configs: Sequence[tuple[dict[str, Any], int]],
    *,
    path: str | Path | None = None,
    resume: bool = True,
    n_jobs: int | None = None,
    scheduler: str | None = None,
    desc: str = "trials",
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Run ``trial(config, seed)`` for every ``(config, seed)``; results in input order.

    ``trial`` must be a pure, top-level (picklable) function. With ``path``, each finished result is appended to
    that JSON Lines file at once; with ``resume`` the trials already recorded there (same config, seed, trial
    function and code version) are not run again. ``n_jobs`` local worker processes (default 1, or the running
    claim's ``RunConfig.n_jobs``) or the Dask cluster at ``scheduler`` run the trials, one torch thread each.

    >>> run_trials(lambda c, s: {"y": c["x"] + s}, [({"x": 1}, 2), ({"x": 3}, 4)], progress=False)
    [{'y': 3}, {'y': 7}]
    """
    from tqdm import tqdm

    defaults = _DEFAULTS.get() or {}
    n_jobs = defaults.get("n_jobs", 1) if n_jobs is None else n_jobs
    scheduler = defaults.get("scheduler") if scheduler is None else scheduler
    n_jobs = check_number("n_jobs", n_jobs, low=1, integer=True)
    if scheduler is not None:
        check_scheduler(scheduler)
    if not callable(trial):
        raise ValueError(f"trial must be a function trial(config, seed) -> dict, got {trial!r}")
    configs = list(configs)
    for i, item in enumerate(configs):
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], dict)):
            raise ValueError(f"configs[{i}] must be a (config dict, seed) pair, got {item!r}")
        check_seed(f"configs[{i}] seed", item[1])
    keys = [trial_key(c, s, trial=trial) for c, s in configs]
    log = None if path is None else Path(path)
    done: dict[str, dict[str, Any]] = {}
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        found = _repair(log)
        if resume:
            done = found
    todo = [i for i, k in enumerate(keys) if k not in done]
    todo = list(dict.fromkeys(todo))

    def record(i: int, result: dict[str, Any]) -> None:
        if not isinstance(result, dict):
            raise TypeError(f"trial {_trial_name(trial)} must return a dict, got {type(result).__name__}")
        done[keys[i]] = result
        if log is not None:
            new = not log.exists()
            with log.open("a") as fh:
                fh.write(json.dumps({"key": keys[i], "result": to_jsonable(result)}, allow_nan=False) + "\n")
                fh.flush()
            if new:
                os.chmod(log, _file_mode())

    bar = tqdm(total=len(todo), desc=desc, disable=not progress or not todo, leave=False)
    try:
        if scheduler is None and n_jobs == 1:
            for i in todo:
                if keys[i] not in done:  # a repeated (config, seed) runs once
                    record(i, trial(*configs[i]))
                bar.update()
        elif todo:
            for i, result in _parallel(trial, [configs[i] for i in todo], todo, n_jobs, scheduler):
                record(i, result)
                bar.update()
    finally:
        bar.close()
    return [to_jsonable(done[k]) for k in keys]


def _parallel(trial, jobs, index, n_jobs: int, scheduler: str | None):
    """``(index, result)`` pairs as the workers finish them, in input order."""
    from joblib import Parallel, delayed, parallel_config

    calls = (delayed(_one_thread)(trial, c, s) for c, s in jobs)
    if scheduler is None:
        with parallel_config(backend="loky", n_jobs=n_jobs, inner_max_num_threads=1):
            yield from zip(index, Parallel(return_as="generator")(calls), strict=True)
        return
    client = dask_client(scheduler)
    try:
        with parallel_config(backend="dask", n_jobs=-1, client=client, wait_for_workers_timeout=30):
            yield from zip(index, Parallel(return_as="generator")(calls), strict=True)
    finally:
        client.close()
