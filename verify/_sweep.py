"""Resumable sweeps: a list of pure ``trial(config, seed) -> dict`` calls, each result appended to a JSON Lines
file as soon as it finishes, so an interrupted sweep loses nothing and ``resume=True`` skips what is done.

A trial's key holds its config, its seed and the code version
(:func:`~ganlimits.verify.runs.code_version`), so a record made by other code or other settings is never reused; the
config is written type by type (:func:`trial_key`: NaN, ``None``, ``inf`` and ``"inf"``, a tuple and a list all
differ), so two distinct configs never share a key. Each record carries the digest of its key and result
(:func:`~ganlimits.verify.runs.body_digest`): a record whose digest does not match (hand-edited, damaged) is never
reused. The log is only ever appended to: a run without ``resume`` appends fresh records (the last record of a
key wins); a torn last line (a run killed mid-write) is cut away before anything is appended, and unreadable or
altered lines are moved to ``<log>.corrupt-<n>`` (and said so).

Trials run in this process (``n_jobs=1``), in ``n_jobs`` local worker processes (joblib's loky backend) or on a
Dask cluster (``scheduler="tcp://host:8786"``: joblib's dask backend through :class:`distributed.Client`). Every
worker runs its trials with one torch thread, and every trial gets its seed from its ``(config, seed)`` pair, so
the three give identical results.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ganlimits.theory import check_number, check_seed

from ._results import _file_mode, body_digest, code_version, to_jsonable

__all__ = ["run_trials", "trial_key", "check_scheduler"]

_DEFAULTS: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("ganlimits_sweep_defaults",
                                                                                  default=None)


@contextlib.contextmanager
def sweep_defaults(*, n_jobs: int = 1, scheduler: str | None = None,
                   log: Callable[[str], None] | None = None) -> Iterator[None]:
    """Within the block, :func:`run_trials` calls that leave ``n_jobs`` / ``scheduler`` / ``log`` unset use these (a
    claim run through :func:`~ganlimits.verify.run_claim` gets its :class:`RunConfig`'s and its log)."""
    token = _DEFAULTS.set({"n_jobs": n_jobs, "scheduler": scheduler, "log": log})
    try:
        yield
    finally:
        _DEFAULTS.reset(token)


def _trial_name(trial: Callable) -> str:
    return f"{getattr(trial, '__module__', '?')}.{getattr(trial, '__qualname__', repr(trial))}"


def _typed(obj: Any, where: str) -> Any:
    """``obj`` as a JSON value that differs for every pair of values that differ in kind or value: finite floats
    and ints as themselves (JSON writes ``1`` and ``1.0`` apart), NaN and infinities as ``{"float": "nan"}``, a tuple
    as ``{"tuple": [...]}``, a dict as ``{"dict": [[key, value], ...]}`` (sorted), arrays with their dtype and shape.
    numpy scalars count as the Python number they hold. ``ValueError`` naming ``where`` for anything else."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        if math.isfinite(v):
            return v
        return {"float": "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")}
    if isinstance(obj, list):
        return [_typed(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, tuple):
        return {"tuple": [_typed(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
    if isinstance(obj, dict):
        items = [[_typed(k, f"{where} key"), _typed(v, f"{where}[{k!r}]")] for k, v in obj.items()]
        return {"dict": sorted(items, key=lambda kv: json.dumps(kv[0], sort_keys=True))}
    if isinstance(obj, np.ndarray):
        return {"ndarray": [str(obj.dtype), list(obj.shape), _typed(obj.tolist(), where)]}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.Tensor):
        return {"tensor": [str(obj.dtype), list(obj.shape), _typed(obj.detach().cpu().tolist(), where)]}
    if isinstance(obj, Path):
        return {"path": str(obj)}
    raise ValueError(f"{where} holds a {type(obj).__name__} ({obj!r:.60}), which a trial key cannot hold "
                     "(use numbers, strings, None, lists, tuples, dicts or arrays)")


def trial_key(config: dict[str, Any], seed: int, *, trial: Callable | None = None) -> str:
    """A stable key for one trial: its config (written type by type, so that two distinct configs never share a
    key: NaN and None, ``inf`` and ``"inf"``, ``(1, 2)`` and ``[1, 2]`` differ), its seed and the code version, as
    canonical JSON.

    >>> trial_key({"x": float("nan")}, 0) != trial_key({"x": None}, 0)
    True
    """
    del trial  # the log belongs to one sweep; its config, seed and the code version identify a trial
    return _key(config, seed, "config")


def _key(config: dict[str, Any], seed: int, where: str) -> str:
    return json.dumps({"config": _typed(config, where), "seed": int(seed), "code": code_version()}, sort_keys=True)


def _record_line(key: str, result: dict[str, Any]) -> str:
    """One line of the log: the key, the result and the digest of both."""
    body = {"key": key, "result": to_jsonable(result)}
    return json.dumps({**body, "digest": body_digest(body)}, allow_nan=False) + "\n"


def _intact(line: bytes) -> tuple[str, dict[str, Any]] | None:
    """``(key, result)`` of a log line whose digest matches its key and result; None for anything else."""
    try:
        row = json.loads(line)
        body = {"key": row["key"], "result": row["result"]}
        if set(row) != {"key", "result", "digest"} or row["digest"] != body_digest(body):
            return None
        if not isinstance(body["key"], str) or not isinstance(body["result"], dict):
            return None
        return body["key"], body["result"]
    except (ValueError, KeyError, TypeError, RecursionError, UnicodeDecodeError):
        return None


def _repair(path: Path) -> tuple[dict[str, dict[str, Any]], int, Path | None]:
    """The intact records of the log at ``path`` by key, how many lines were set aside and where. A torn last line,
    an unreadable line or one whose digest does not match is moved to ``<log>.corrupt-<n>`` (a new file), so that
    it is never reused and the next record is appended onto a clean line."""
    done: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return done, 0, None
    raw = path.read_bytes()
    good, bad = [], []
    for line in raw.splitlines(keepends=True):
        if not line.strip():
            continue
        found = _intact(line)
        whole = line if line.endswith(b"\n") else line + b"\n"
        if found is None:
            bad.append(whole)
        else:
            done[found[0]] = found[1]
            good.append(whole)
    aside = None
    if bad or (raw and not raw.endswith(b"\n")):
        if bad:
            i = 1
            while (aside := path.with_name(f"{path.name}.corrupt-{i}")).exists():
                i += 1
            aside.write_bytes(b"".join(bad))
            os.chmod(aside, _file_mode())
        tmp = path.with_name(f".{path.name}.repair")
        tmp.write_bytes(b"".join(good))
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    return done, len(bad), aside


SCHEDULER_TIMEOUT = 10.0
"""Seconds within which a Dask scheduler must resolve, accept a connection and answer (one bound for all three)."""


def _host_port(scheduler: str) -> tuple[str, int]:
    rest = scheduler.split("://", 1)[-1]
    host, _, port = rest.rpartition(":")
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host, int(port)


def check_scheduler(scheduler: str, name: str = "scheduler") -> str:
    """A Dask scheduler address, ``tcp://host:port`` or ``host:port`` with a port in [1, 65535]; ``ValueError``
    naming ``name`` otherwise (other transports, such as ``inproc://``, ``ucx://`` or ``http://``, are not
    supported). Reaching it is :func:`dask_client`'s check.

    >>> check_scheduler("tcp://10.0.0.5:8786")
    'tcp://10.0.0.5:8786'
    >>> check_scheduler("ucx://10.0.0.5:8786")
    Traceback (most recent call last):
    ...
    ValueError: scheduler must be a tcp://host:port address (the only transport supported), got 'ucx://10.0.0.5:8786'
    """
    example = "such as tcp://127.0.0.1:8786"
    if not isinstance(scheduler, str) or not scheduler.strip() or any(not c.isprintable() or c.isspace()
                                                                      for c in scheduler):
        raise ValueError(f"{name} must be a Dask scheduler address {example}, got {scheduler!r}")
    scheme, sep, rest = scheduler.partition("://")
    if sep and scheme != "tcp":
        raise ValueError(f"{name} must be a tcp://host:port address (the only transport supported), "
                         f"got {scheduler!r}")
    rest = rest if sep else scheduler
    host, colon, port = rest.rpartition(":")
    if not colon or not port:
        raise ValueError(f"{name} must name a port (host:port or tcp://host:port), got {scheduler!r}")
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not bare or any(c in bare for c in "/@?#[]") or (":" in bare and bare == host):
        raise ValueError(f"{name} must name a host (host:port or tcp://host:port), got {scheduler!r}")
    if not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        raise ValueError(f"{name} must name a port in [1, 65535], got {port!r} in {scheduler!r}")
    return scheduler


def _resolve(host: str, port: int, timeout: float) -> None:
    """Name resolution of ``host`` within ``timeout`` seconds (``getaddrinfo`` has no timeout of its own)."""
    import concurrent.futures
    import socket

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        pool.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM).result(timeout=max(timeout, 0.01))
    finally:
        pool.shutdown(wait=False)


def _identify(scheduler: str, timeout: float) -> None:
    """Ask ``scheduler`` who it is over Dask's own protocol, within ``timeout`` seconds (in a thread with its own
    event loop); ``ValueError`` unless a Dask scheduler answers (a proxy or another service can accept the
    connection and answer something else)."""
    import asyncio
    import concurrent.futures

    from distributed.comm import connect

    async def ask() -> dict:
        comm = await connect(scheduler, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        reply = pool.submit(asyncio.run, asyncio.wait_for(ask(), timeout)).result(timeout=timeout + 1)
    except TimeoutError:
        raise
    except Exception:  # noqa: BLE001 - what answered does not speak Dask's protocol
        raise ValueError("what answered there is not a Dask scheduler") from None
    finally:
        pool.shutdown(wait=False)
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise ValueError("what answered there is not a Dask scheduler")


def dask_client(scheduler: str, *, timeout: float = SCHEDULER_TIMEOUT):
    """A :class:`distributed.Client` connected to ``scheduler``; ``ValueError`` (one line, naming it) when
    ``distributed`` is missing or the address does not resolve, accept or answer within ``timeout`` seconds in all.
    """
    import socket
    import time

    check_scheduler(scheduler)
    try:
        from distributed import Client
    except ImportError:
        raise ValueError("scheduler: running on a Dask cluster needs the 'distributed' package "
                         "(pip install distributed)") from None
    deadline = time.monotonic() + timeout
    host, port = _host_port(scheduler)

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        return remaining

    try:  # a refused, unknown or unroutable address answers here, before the client's retries
        _resolve(host, port, left())
        socket.create_connection((host, port), timeout=left()).close()
        _identify(scheduler, left())
        return Client(scheduler, timeout=left(), set_as_default=False)
    except TimeoutError:  # also socket.timeout and concurrent.futures' timeout
        reason = f"nothing answered within {timeout:g} s"
    except socket.gaierror as exc:
        reason = f"unknown host {host!r} ({exc.strerror or exc})"
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    except ValueError as exc:
        reason = str(exc)
    except Exception as exc:  # noqa: BLE001 - any failure of the client is one line, not a traceback
        reason = (str(exc).splitlines() or [type(exc).__name__])[0] or type(exc).__name__
    raise ValueError(f"scheduler: no Dask scheduler answered at {scheduler} ({reason})")


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
    log: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Run ``trial(config, seed)`` for every ``(config, seed)``; results in input order.

    ``trial`` must be a pure, top-level (picklable) function. With ``path``, each finished result is appended to
    that JSON Lines file at once; with ``resume`` the trials already recorded there (same config, seed and code
    version, record intact) are not run again. ``n_jobs`` local worker processes (default 1, or the running
    claim's ``RunConfig.n_jobs``) or the Dask cluster at ``scheduler`` run the trials, one torch thread each.
    ``log`` (default: the running claim's) is told how many records were reused and from where, and which were set
    aside.

    >>> run_trials(lambda c, s: {"y": c["x"] + s}, [({"x": 1}, 2), ({"x": 3}, 4)], progress=False)
    [{'y': 3}, {'y': 7}]
    """
    from tqdm import tqdm

    defaults = _DEFAULTS.get() or {}
    n_jobs = defaults.get("n_jobs", 1) if n_jobs is None else n_jobs
    scheduler = defaults.get("scheduler") if scheduler is None else scheduler
    say = (defaults.get("log") if log is None else log) or (lambda _text: None)
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
    keys = [_key(c, s, f"configs[{i}]") for i, (c, s) in enumerate(configs)]
    log_path = None if path is None else Path(path)
    done: dict[str, dict[str, Any]] = {}
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        found, n_bad, aside = _repair(log_path)
        if n_bad:
            say(f"{log_path}: {n_bad} record(s) altered or unreadable (digest does not match), set aside as "
                f"{aside.name if aside else '-'}; never reused")
        if resume:
            done = found
            reused = len({k for k in keys if k in done})
            if reused:
                say(f"{desc}: reused {reused} of {len(set(keys))} trial record(s) from {log_path} (same config, "
                    "seed and code version, digest intact)")
    todo = [i for i, k in enumerate(keys) if k not in done]

    def record(i: int, result: dict[str, Any]) -> None:
        if not isinstance(result, dict):
            raise TypeError(f"trial {_trial_name(trial)} must return a dict, got {type(result).__name__}")
        done[keys[i]] = result
        if log_path is not None:
            new = not log_path.exists()
            with log_path.open("a") as fh:
                fh.write(_record_line(keys[i], result))
                fh.flush()
            if new:
                os.chmod(log_path, _file_mode())

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
