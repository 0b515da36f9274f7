"""The `ganlimits` command: exit codes, one-line usage errors, bound values, reproduce/resume and REPORT.md."""

import importlib.machinery
import json
import math
import subprocess
import sys
import textwrap
import types

import pytest

from ganlimits.theory import arz_thm1_support
from ganlimits.verify._cli import main

THM1_ARGS = ["bound", "arz-thm1", "--p", "67", "--eps", "0.25", "--lipschitz", "2", "--phi-range", "0.5", "--lphi", "1"]


def test_bound_arz_thm1_prints_the_theory_values(capsys):
    assert main([*THM1_ARGS, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = arz_thm1_support(p=67, eps=0.25, lipschitz=2, phi_range=0.5, lphi=1)
    assert printed == {"support_paper": expected["paper"], "support_spec": expected["spec"]}
    # The paper's form grows like log^2 while the explicit form has one log: at these values the explicit
    # form is larger (it carries the constant 16 and the failure probability).
    assert expected["spec"] > expected["paper"] > 0


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["bound", "arz-thm1", "--p", "0", "--eps", "0.1", "--lipschitz", "1", "--phi-range", "1", "--lphi", "1"],
         "--p"),
        (["bound", "arz-thm1", "--p", "5", "--eps", "-1", "--lipschitz", "1", "--phi-range", "1", "--lphi", "1"],
         "--eps"),
        (["bound", "arz-thm1", "--p", "5", "--eps", "0.1", "--lipschitz", "1", "--phi-range", "0", "--lphi", "1"],
         "--phi-range"),
        (["verify", "no-such-claim"], "unknown claim"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args, needle):
    out = subprocess.run([sys.executable, "-m", "ganlimits.verify._cli", *args], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in out.stderr


def test_version_and_list(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("ganlimits ")
    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    for cid in ("arz-thm1", "arz-thm3", "az17-birthday", "li17-dynamics"):
        assert cid in listing


FAKE_CLAIMS = textwrap.dedent(
    """
    import os
    from dataclasses import dataclass

    from ganlimits.verify import ClaimResult, Estimate

    @dataclass(frozen=True)
    class Settings:
        size: int = 1

        @classmethod
        def quick(cls):
            return cls()

        @classmethod
        def full(cls):
            return cls(size=2)

    def ok(config, settings=None):
        return ClaimResult("arz-thm1", "src", "consistent", {"quick": config.quick}, config.seed,
                           Estimate(0.01, 0.0, 0.02, 0.95, 100, "hoeffding", config.seed), {"value": 0.25,
                           "label": "eps"}, control=Estimate(0.5, 0.4, 0.6, 0.95, 100), control_caught=True,
                           summary="gap 0.01", control_summary="support-1 gap 0.5")

    def interrupted(config, settings=None):
        if os.environ.get("FAKE_INTERRUPT") == "1":
            raise KeyboardInterrupt
        return ClaimResult("arz-thm3", "src", "refuted", {}, config.seed, Estimate(0.3, 0.2, 0.4, 0.95, 10),
                           {"value": 0.1})
    """
)


def _fake_module(name: str, run: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)
    module.run = module.__dict__[run]
    return module


@pytest.fixture
def fake_claims(tmp_path, monkeypatch):
    """The claim modules of arz-thm1 and arz-thm3 replaced by fast fakes (a claim module is found from its id)."""
    for cid, run in (("arz_thm1", "ok"), ("arz_thm3", "interrupted")):
        name = f"ganlimits.verify.claims.{cid}"
        monkeypatch.setitem(sys.modules, name, _fake_module(name, run, FAKE_CLAIMS))
    return tmp_path / "out"


def test_reproduce_keeps_finished_claims_when_interrupted_and_resume_continues(fake_claims, monkeypatch, capsys):
    out = fake_claims
    monkeypatch.setenv("FAKE_INTERRUPT", "1")
    code = main(["reproduce", "--quick", "--out", str(out), "--only", "arz-thm1", "arz-thm3"])
    assert code == 130
    assert (out / "arz-thm1.json").exists() and not (out / "arz-thm3.json").exists()
    first = json.loads((out / "arz-thm1.json").read_text())

    monkeypatch.setenv("FAKE_INTERRUPT", "0")
    code = main(["reproduce", "--quick", "--out", str(out), "--only", "arz-thm1", "arz-thm3", "--resume"])
    assert code == 1  # arz-thm3's fake verdict is "refuted"
    said = capsys.readouterr().out
    assert "[arz-thm1] reused" in said and "same claim, settings, seed 0 and code version" in said
    assert json.loads((out / "arz-thm1.json").read_text()) == first  # not run again
    report = (out / "REPORT.md").read_text()
    assert "| `arz-thm1` |" in report and "**consistent**" in report and "**refuted**" in report
    assert "support-1 gap 0.5 caught" in report


def test_verify_json_prints_one_document_with_the_design_fields(fake_claims, capsys):
    assert main(["verify", "arz-thm1", "--quick", "--json", "--seed", "3", "--out", str(fake_claims)]) == 0
    doc = json.loads(capsys.readouterr().out)
    for field in ("claim", "source", "verdict", "params", "seed", "measured", "bound", "control", "elapsed_s",
                  "versions", "threads", "git_commit"):
        assert field in doc
    assert doc["seed"] == 3 and doc["measured"]["seed"] == 3 and doc["threads"] >= 1
    assert set(doc["measured"]) >= {"estimate", "ci_low", "ci_high", "confidence", "n"}


def test_bound_agl17_and_arz_thm3_print_the_theory_values(capsys):
    from ganlimits.theory import agl17_thm31_samples, arz_thm3_summary

    assert main(["bound", "agl17-thm31", "--p", "65", "--eps", "0.1", "--lipschitz", "2", "--phi-range", "0.5",
                 "--lphi", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == agl17_thm31_samples(p=65, eps=0.1, lipschitz=2, phi_range=0.5, lphi=1)
    assert main(["bound", "arz-thm3", "--k", "100", "--code-dim", "2", "--dim", "64", "--tv-budget", "0.01",
                 "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(arz_thm3_summary(k=100, code_dim=2, dim=64, tv_budget=0.01)))
    # The width is solved from the TV budget, so the bound evaluated at that width gives the budget back.
    assert printed["m"] == 100**2 and abs(printed["tv_bound"] - 0.01) < 1e-15


def test_bound_arz_thm3_rejects_a_tv_budget_of_one():
    out = subprocess.run([sys.executable, "-m", "ganlimits.verify._cli", "bound", "arz-thm3", "--k", "4",
                          "--code-dim", "2", "--dim", "8", "--tv-budget", "1"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_bound_az17_birthday_uses_the_corrected_rho_squared_form(capsys):
    from ganlimits.theory import mass_set_collision_bound

    assert main(["bound", "az17-birthday", "--support", "1000", "--rho", "0.1", "--samples", "200", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["mass_set_collision_rho_squared"] == mass_set_collision_bound(N=1000, rho=0.1, M=200)
    assert abs(printed["mass_set_collision_rho_squared"] - 0.1805) < 1e-3  # MATH.md section 3, with rho squared


def test_bound_az17_birthday_evaluates_every_formula(capsys):
    from ganlimits.theory import beta_upper_bound, mass_set_collision_bound

    argv = ["bound", "az17-birthday", "--support", "365", "--samples", "23", "--rho", "0.1", "--gamma", "0.5",
            "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert abs(out["collision_probability_exact"] - 0.507297234) < 1e-9  # the classic 23 birthdays
    assert abs(out["s_half_paper"] - (2 * math.log(2) * 365) ** 0.5) < 1e-12
    assert out["mass_set_collision_rho_squared"] == mass_set_collision_bound(N=365, rho=0.1, M=23)
    assert out["beta_upper"] == beta_upper_bound(M=23, gamma=0.5)
    assert main(["bound", "az17-birthday", "--support", "365", "--gamma", "1.5"]) == 2
    assert "--gamma" in capsys.readouterr().err
