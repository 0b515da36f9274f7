"""Scale-out: sweeps on a real Dask cluster (a LocalCluster of 2 worker processes) and in local worker processes
give the numbers of the serial run, and the work really happens in the workers."""

import json
import os
import sys
import time

import cloudpickle
import pytest

from ganlimits.verify.runs import run_trials

distributed = pytest.importorskip("distributed")

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers need not import this test module


def _draw(config, seed):
    """A torch trial whose numbers depend only on (config, seed); it also says where and how it ran."""
    import torch

    g = torch.Generator().manual_seed(seed)
    x = torch.randn(config["n"], 8, generator=g, dtype=torch.float64)
    time.sleep(0.05)  # long enough that both workers get trials
    return {"value": float((x @ x.T).trace()), "pid": os.getpid(), "threads": torch.get_num_threads()}


def _numbers(rows):
    return [r["value"] for r in rows]


JOBS = [({"n": n}, 1000 + i) for i, n in enumerate([5, 50, 500, 7, 70, 700, 9, 90])]


def _fake_run(config, settings=None):
    """A claim whose sweep leaves n_jobs and scheduler to the run (as a claim run through run_claim may)."""
    from ganlimits.verify import ClaimResult, Estimate

    rows = run_trials(_draw, JOBS, path=config.out_dir / "fake.trials.jsonl", resume=config.resume,
                      progress=config.progress)
    values = _numbers(rows)
    mean = sum(values) / len(values) / 1e4
    return ClaimResult("arz-thm1", "fake", "holds", {}, config.seed, Estimate.exact(mean), {"value": 1.0},
                       measurements={"values": values, "pids": sorted({r["pid"] for r in rows})})


@pytest.fixture
def fake_sweep_claim(tmp_path, monkeypatch):
    """The claim module of arz-thm1 replaced by a cheap sweep (a claim module is found from its id)."""
    import dataclasses
    import importlib.machinery
    import types

    @dataclasses.dataclass(frozen=True)
    class Settings:
        size: int = 1

        @classmethod
        def quick(cls):
            return cls()

        @classmethod
        def full(cls):
            return cls(size=2)

    name = "ganlimits.verify.claims.arz17.thm1"
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    module.Settings, module.run = Settings, _fake_run
    monkeypatch.setitem(sys.modules, name, module)
    return tmp_path


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as c, distributed.Client(c) as client:
        yield c, client


def test_dask_cluster_gives_the_serial_numbers_and_does_the_work(cluster, tmp_path, capsys):
    c, client = cluster
    start = time.perf_counter()
    serial = run_trials(_draw, JOBS, progress=False)
    log = tmp_path / "sweep.jsonl"
    remote = run_trials(_draw, JOBS, path=log, scheduler=c.scheduler_address, progress=True, desc="dask sweep")
    elapsed = time.perf_counter() - start
    assert _numbers(remote) == _numbers(serial)  # exact: each trial's seed travels with it
    workers = set(client.run(os.getpid).values())
    used = {r["pid"] for r in remote}
    assert used <= workers and os.getpid() not in used, (used, workers)
    assert all(r["threads"] == 1 for r in remote)
    assert "dask sweep" in capsys.readouterr().err  # the progress bar ran
    assert len(log.read_text().splitlines()) == len(JOBS)
    print(f"dask sweep of {len(JOBS)} trials on {len(used)} of 2 workers: {elapsed:.1f} s (noisy)")


def test_a_claim_sweep_runs_on_the_cluster_from_the_command_line(cluster, fake_sweep_claim, capsys):
    from ganlimits.verify._cli import main

    c, client = cluster
    out_local, out_dask = fake_sweep_claim / "local", fake_sweep_claim / "dask"
    assert main(["verify", "arz-thm1", "--quick", "--json", "--out", str(out_local)]) == 0
    local = json.loads(capsys.readouterr().out)
    assert main(["verify", "arz-thm1", "--quick", "--json", "--out", str(out_dask),
                 "--scheduler", c.scheduler_address]) == 0
    remote = json.loads(capsys.readouterr().out)
    assert remote["measured"] == local["measured"] and remote["measurements"]["values"] == \
        local["measurements"]["values"]
    workers = set(client.run(os.getpid).values())
    assert set(remote["measurements"]["pids"]) <= workers
    assert set(local["measurements"]["pids"]) == {os.getpid()}


def test_an_unreachable_scheduler_is_a_usage_error_before_any_computation(tmp_path, capsys):
    from ganlimits.verify._cli import main

    out = tmp_path / "out"
    assert main(["verify", "arz-thm3", "--quick", "--out", str(out), "--scheduler", "tcp://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--scheduler" in err[0]
    assert not list(out.glob("*.json"))


@pytest.mark.slow  # loky's worker processes take ~10 s to start on 2 cores
def test_local_worker_processes_give_the_serial_numbers():
    serial = run_trials(_draw, JOBS, progress=False)
    parallel = run_trials(_draw, JOBS, n_jobs=2, progress=False)
    assert _numbers(parallel) == _numbers(serial)
    assert {r["pid"] for r in parallel}.isdisjoint({os.getpid()}) and all(r["threads"] == 1 for r in parallel)
