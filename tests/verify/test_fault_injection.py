"""Fault injection: SIGINT and then SIGKILL during `reproduce --quick` (two cheap claims), then `--resume`: every
finished claim is kept byte for byte, nothing is computed twice, and the final REPORT.md is complete."""

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
