"""`ganlimits reproduce --quick` end to end: every claim runs, records its provenance, passes with its control
caught, and REPORT.md is generated from the JSON files with working figure links."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ganlimits.theory import CLAIMS
from ganlimits.verify import available_claims

DESIGN_FIELDS = ("claim", "source", "verdict", "params", "seed", "measured", "bound", "control", "elapsed_s",
                 "versions", "threads", "git_commit")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reproduce")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-m", "ganlimits.verify._cli", "reproduce", "--quick", "--out", str(out)],
                          capture_output=True, text=True, timeout=900, env=env)
    return out, proc


def test_every_claim_passes_with_its_control_caught(quick_run):
    out, proc = quick_run
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    claims = available_claims()
    assert set(claims) == set(CLAIMS)  # every registered claim has a verifier
    for cid in claims:
        doc = json.loads((out / f"{cid}.json").read_text())
        missing = [f for f in DESIGN_FIELDS if f not in doc]
        assert not missing, (cid, missing)
        assert doc["quick"] is True and doc["threads"] == 1 and doc["seed"] == 0
        assert {"estimate", "ci_low", "ci_high", "confidence", "n"} <= set(doc["measured"])
        assert doc["verdict"] in ("consistent", "holds"), (cid, doc["verdict"], doc["notes"])
        if CLAIMS[cid].kind != "identity":
            assert doc["control"] is not None and doc["control_caught"] is True, cid


def test_report_is_generated_from_the_json_files(quick_run):
    out, _ = quick_run
    report = (out / "REPORT.md").read_text()
    for cid in available_claims():
        doc = json.loads((out / f"{cid}.json").read_text())
        assert f"| `{cid}` |" in report
        assert f"## `{cid}` — {doc['verdict']}" in report
        for fig in doc["figures"]:
            assert f"]({fig})" in report and (out / fig).stat().st_size > 5_000, (cid, fig)
    linked = [line for line in report.splitlines() if line.startswith("![")]
    assert linked and all((out / Path(line.split("](")[1].rstrip(")"))).exists() for line in linked)
