"""Fault injection: SIGINT and then SIGKILL during `reproduce --quick` (two cheap claims), then `--resume`: every
finished claim is kept byte for byte, nothing is computed twice, and the final REPORT.md is complete. Then, on fast
fake claims: hand-edited and wrongly typed results are set aside and recomputed, never reported; a result made
without figures is not reused by a run that wants them; a repeated --only runs every claim; SIGTERM stops like
SIGINT; and (slow) SIGTERM to a run with worker processes leaves none behind."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CLAIMS = ["arz-thm3", "lecture-optimal-d"]  # registry order: arz-thm3 finishes first


def _start(out: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "ganlimits.verify._cli", "reproduce", "--quick", "--out", str(out),
                             "--only", *CLAIMS, *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env)


def _wait_for(proc: subprocess.Popen, needle: str, timeout: float = 300) -> str:
    """Read the child's output until a line holds ``needle``; return what was read."""
    seen, end = [], time.monotonic() + timeout
    for line in proc.stdout:
        seen.append(line)
        if needle in line or time.monotonic() > end:
            break
    return "".join(seen)


@pytest.mark.slow  # three runs of two real claims: about 100 s on 2 busy cores
def test_sigint_then_sigkill_then_resume_keeps_finished_claims(tmp_path):
    out = tmp_path / "out"
    first = _start(out)
    said = _wait_for(first, "[lecture-optimal-d] seed 0 ...")  # arz-thm3 is written, the second claim started
    assert "[arz-thm3] seed 0:" in said, said
    first.send_signal(signal.SIGINT)
    rest = first.communicate(timeout=120)[0]
    assert first.returncode == 130 and "Traceback" not in rest, rest
    kept = (out / "arz-thm3.json").read_bytes()
    assert not (out / "lecture-optimal-d.json").exists()

    second = _start(out, "--resume")
    said = _wait_for(second, "[lecture-optimal-d] seed 0 ...")
    assert "[arz-thm3] reused" in said, said
    second.kill()  # SIGKILL: no handler runs
    second.communicate(timeout=60)
    assert (out / "arz-thm3.json").read_bytes() == kept

    third = _start(out, "--resume")
    said = third.communicate(timeout=600)[0]
    assert third.returncode in (0, 1) and "Traceback" not in said, said
    assert "[arz-thm3] reused" in said and "[lecture-optimal-d] seed 0:" in said
    assert (out / "arz-thm3.json").read_bytes() == kept  # byte for byte
    report = (out / "REPORT.md").read_text()
    for cid in CLAIMS:
        assert f"| `{cid}` |" in report and f"## `{cid}` —" in report
    assert "Files set aside" not in report


# ---- altered results, --no-figures, --only, and clean stops, on fast fake claims ---------------------------------

FAKES = '''
import os, time
from dataclasses import dataclass
from pathlib import Path

from ganlimits.verify import ClaimResult, Estimate
from ganlimits.verify.runs import run_trials


@dataclass(frozen=True)
class Settings:
    size: int = 1

    @classmethod
    def quick(cls):
        return cls()

    @classmethod
    def full(cls):
        return cls(size=2)


def _nap(config, seed):
    time.sleep(float(os.environ.get("FAKE_NAP", "0.2")))  # not in the config: a resumed run finds the same keys
    return {"seed": seed}


def fast(config, settings=None):
    figures = []
    if config.figures:
        Path(config.out_dir, "arz-thm1_fig.png").write_bytes(b"png " + str(time.time_ns()).encode())
        figures = ["arz-thm1_fig.png"]
    return ClaimResult("arz-thm1", "src", "inconclusive", {}, config.seed, Estimate(0.1, 0.0, 0.2, 0.95, 10),
                       {"value": 0.25}, notes=[f"run {time.time_ns()}"], figures=figures)


def slow(config, settings=None):
    print("sweep started", flush=True)
    rows = run_trials(_nap, [({"i": s}, s) for s in range(40)],
                      path=Path(config.out_dir) / "arz-thm3.trials.jsonl", resume=config.resume, progress=False)
    return ClaimResult("arz-thm3", "src", "holds", {}, config.seed, Estimate.exact(len(rows)), {"value": 1.0})
'''


def _install_fakes(monkeypatch=None):
    """arz-thm1 (instant, one figure when figures are wanted) and arz-thm3 (a serial sweep of naps) as fakes."""
    import importlib.machinery
    import types

    for cid, run in (("arz17.thm1", "fast"), ("arz17.thm3", "slow")):
        name = f"ganlimits.verify.claims.{cid}"
        module = types.ModuleType(name)
        module.__spec__ = importlib.machinery.ModuleSpec(name, None)
        exec(compile(FAKES, f"<{name}>", "exec"), module.__dict__)
        module.run = module.__dict__[run]
        if monkeypatch is None:
            sys.modules[name] = module
        else:
            monkeypatch.setitem(sys.modules, name, module)


@pytest.fixture
def fakes(monkeypatch, tmp_path):
    _install_fakes(monkeypatch)
    monkeypatch.setenv("FAKE_NAP", "0")
    return tmp_path / "out"


def _main(*argv):
    from ganlimits.verify._cli import main

    return main(list(argv))


def test_a_hand_edited_result_is_set_aside_recomputed_and_never_reported(fakes, capsys):
    out = fakes
    # reproduce exits 0 once the run completed, whatever the verdicts (--strict would exit 1 on this inconclusive one)
    assert _main("reproduce", "--quick", "--out", str(out), "--only", "arz-thm1") == 0
    doc = json.loads((out / "arz-thm1.json").read_text())
    doc["verdict"] = "consistent"  # inconclusive -> consistent by hand, digest kept
    (out / "arz-thm1.json").write_text(json.dumps(doc))
    capsys.readouterr()
    assert _main("reproduce", "--quick", "--out", str(out), "--only", "arz-thm1", "--resume") == 0
    said = capsys.readouterr()
    assert "Traceback" not in said.out + said.err
    assert "does not match its digest" in said.out and "set aside as arz-thm1.json.corrupt-1" in said.out
    assert json.loads((out / "arz-thm1.json").read_text())["verdict"] == "inconclusive"  # recomputed
    assert json.loads((out / "arz-thm1.json.corrupt-1").read_text())["verdict"] == "consistent"  # kept apart
    report = (out / "REPORT.md").read_text()
    assert "**consistent**" not in report and "**inconclusive**" in report


@pytest.mark.parametrize(("field", "value"), [("notes", None), ("bound", "abc"), ("seed", "0"),
                                              ("control_caught", "yes"), ("elapsed_s", "abc")])
def test_a_wrongly_typed_result_never_blocks_a_run(fakes, capsys, field, value):
    """The issue's five wrong types, digest recomputed so that only the type check sees them: every later
    --resume runs, says what it set aside, and reports the recomputed result."""
    from ganlimits.verify._results import body_digest

    out = fakes
    _main("reproduce", "--quick", "--out", str(out), "--only", "arz-thm1")
    doc = json.loads((out / "arz-thm1.json").read_text())
    doc.pop("digest")
    doc[field] = value
    doc["digest"] = body_digest(doc)
    (out / "arz-thm1.json").write_text(json.dumps(doc))
    capsys.readouterr()
    for _ in range(2):
        assert _main("reproduce", "--quick", "--out", str(out), "--only", "arz-thm1", "--resume") == 0
    said = capsys.readouterr()
    assert "Traceback" not in said.out + said.err and f"{field} must be" in said.out and "set aside as" in said.out
    assert "[arz-thm1] reused" in said.out  # the second run reuses the recomputed, intact result
    assert (out / "arz-thm1.json.corrupt-1").exists() and read_ok(out / "arz-thm1.json")


def read_ok(path) -> bool:
    from ganlimits.verify._results import read_result

    return read_result(path, set_aside=False).claim == "arz-thm1"


def test_a_result_without_figures_is_not_reused_by_a_run_that_wants_them(fakes, capsys):
    out = fakes
    assert _main("verify", "arz-thm1", "--quick", "--out", str(out), "--no-figures") == 1
    assert not (out / "arz-thm1_fig.png").exists()
    capsys.readouterr()
    _main("verify", "arz-thm1", "--quick", "--out", str(out), "--resume")
    said = capsys.readouterr().out
    assert "made without figures" in said and (out / "arz-thm1_fig.png").exists()
    kept = (out / "arz-thm1.json").read_bytes()
    _main("verify", "arz-thm1", "--quick", "--out", str(out), "--resume", "--no-figures")
    assert "[arz-thm1] reused" in capsys.readouterr().out  # figures present: a --no-figures run may reuse it
    assert (out / "arz-thm1.json").read_bytes() == kept


def test_every_claim_of_a_repeated_only_is_written(fakes, capsys):
    out = fakes
    _main("reproduce", "--quick", "--no-figures", "--out", str(out), "--only", "arz-thm3", "--only", "arz-thm1")
    assert (out / "arz-thm1.json").exists() and (out / "arz-thm3.json").exists()


def _runner(tmp_path: Path) -> Path:
    """A script that installs the fakes and runs the command line (a subprocess that can be signalled)."""
    script = tmp_path / "run_fakes.py"
    script.write_text(f"import sys\nsys.path.insert(0, {str(Path(__file__).parent)!r})\n"
                      "from test_fault_injection import _install_fakes\n_install_fakes()\n"
                      "from ganlimits.verify._cli import main\nsys.exit(main(sys.argv[1:]))\n")
    return script


@pytest.mark.parametrize("sig", [signal.SIGTERM, pytest.param(signal.SIGINT, marks=pytest.mark.slow)],
                         ids=["SIGTERM", "SIGINT"])
def test_sigterm_stops_like_sigint_keeping_finished_work(tmp_path, sig, monkeypatch, capsys):
    """A serial fake sweep of 0.2 s naps, stopped in its middle: exit 143 (SIGTERM) or 130 (SIGINT), one line, the
    finished claim and every finished trial record kept intact, and --resume reuses them."""
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", "FAKE_NAP": "0.2"}
    argv = [sys.executable, str(_runner(tmp_path)), "reproduce", "--quick", "--no-figures", "--out", str(out),
            "--only", "arz-thm1", "arz-thm3"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    said = _wait_for(proc, "sweep started", timeout=60)
    time.sleep(1.0)  # a few naps finish
    proc.send_signal(sig)
    rest = proc.communicate(timeout=60)[0]
    assert proc.returncode == (143 if sig == signal.SIGTERM else 130), said + rest
    assert "Traceback" not in rest and rest.strip().splitlines()[-1].startswith("ganlimits: "), rest
    from ganlimits.verify._results import read_result

    assert read_result(out / "arz-thm1.json").verdict == "inconclusive"
    records = (out / "arz-thm3.trials.jsonl").read_text().splitlines()
    assert 1 <= len(records) < 40 and not list(out.glob("*.corrupt-*"))
    _install_fakes(monkeypatch)  # the resumed run in this process
    monkeypatch.setenv("FAKE_NAP", "0")
    assert _main(*argv[2:], "--resume") == 0
    assert f"reused {len(records)} of 40 trial record(s)" in capsys.readouterr().out


@pytest.mark.slow  # joblib's worker processes take ~10 s of CPU to start on 2 cores
def test_sigterm_leaves_no_process_of_the_run_behind(tmp_path):
    """`verify agl17-thm31 --quick --jobs 2`, SIGTERM once its loky workers run: exit 143 and no descendant of the
    run (workers, resource trackers) is left (a zombie whose parent died is gone: only its table entry is left)."""
    import psutil

    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.Popen([sys.executable, "-m", "ganlimits.verify._cli", "verify", "agl17-thm31", "--quick",
                             "--jobs", "2", "--no-figures", "--out", str(tmp_path / "out")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    parent, end = psutil.Process(proc.pid), time.monotonic() + 240
    workers = []
    while time.monotonic() < end and len(workers) < 2:
        workers = [c for c in parent.children(recursive=True) if "popen_loky" in " ".join(c.cmdline())]
        time.sleep(0.2)
    assert len(workers) >= 2, "the loky workers never started"
    children = parent.children(recursive=True)
    proc.send_signal(signal.SIGTERM)
    said = proc.communicate(timeout=120)[0]  # returns only once no child holds the output pipe either
    assert proc.returncode == 143 and "Traceback" not in said, said
    end = time.monotonic() + 30
    alive = children
    while alive and time.monotonic() < end:
        alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.2)
    assert not alive, [(c.pid, " ".join(c.cmdline())[:80]) for c in alive]


@pytest.mark.parametrize("error", ["ENOSPC", "EROFS", "EIO"])
def test_a_full_disk_while_writing_results_is_one_line_and_keeps_what_was_written(fakes, monkeypatch, capsys, error):
    """The second claim's JSON cannot be written (the disk filled up): exit 74, one line naming the file, no
    traceback; the first claim's result is intact and reused by --resume."""
    import errno

    from ganlimits.verify import _results

    out = fakes
    real = _results.write_text_atomic

    def full(path, text):
        if Path(path).name == "arz-thm3.json":
            raise OSError(getattr(errno, error), os.strerror(getattr(errno, error)), str(path))
        return real(path, text)

    monkeypatch.setattr(_results, "write_text_atomic", full)
    assert _main("reproduce", "--quick", "--no-figures", "--out", str(out), "--only", "arz-thm1", "arz-thm3") == 74
    said = capsys.readouterr()
    lines = said.err.strip().splitlines()
    assert lines == [f"ganlimits: error: {os.strerror(getattr(errno, error))}: {out / 'arz-thm3.json'}"], said.err
    monkeypatch.setattr(_results, "write_text_atomic", real)
    assert _main("reproduce", "--quick", "--no-figures", "--out", str(out), "--only", "arz-thm1", "--resume") == 0
    assert "[arz-thm1] reused" in capsys.readouterr().out
