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
    assert (printed["support_paper"], printed["support_spec"]) == (expected["paper"], expected["spec"])
    # the output echoes its inputs (the default eta included) and names each formula
    assert printed["bound"] == "arz-thm1" and printed["inputs"] == {"p": 67, "eps": 0.25, "lipschitz": 2,
                                                                    "phi_range": 0.5, "lphi": 1, "eta": 0.1}
    assert printed["formulas"]["support_paper"].startswith("arz-thm1.support.paper: p*phi_range**2*log(")
    assert printed["formulas"]["support_spec"].startswith("arz-thm1.support.spec: 16*phi_range**2*")
    assert main(THM1_ARGS) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[:2] == ["bound: arz-thm1", "inputs: p = 67, eps = 0.25, lipschitz = 2, phi_range = 0.5, lphi = 1, "
                                           "eta = 0.1"]
    assert any(line.startswith("  support_spec = arz-thm1.support.spec: ") for line in text)
    assert f"support_paper: {expected['paper']:.6g}" in text
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
    for cid, run in (("arz17.thm1", "ok"), ("arz17.thm3", "interrupted")):
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
    assert code == 0  # the run completed: exit 0 whatever the verdicts (arz-thm3's fake verdict is "refuted")
    said = capsys.readouterr().out
    assert "[arz-thm1] reused" in said and "same claim, settings, seed 0 and code version" in said
    assert "verdicts: 1 consistent, 1 refuted (2 runs; quick setting: a low-power smoke run)" in said
    assert json.loads((out / "arz-thm1.json").read_text()) == first  # not run again
    report = (out / "REPORT.md").read_text()
    assert "| `arz-thm1` | **consistent** |" in report and "| `arz-thm3` | **refuted** |" in report
    assert "Quick setting: a low-power smoke run." in report and "| caught |" in report
    # --strict keeps the gate: a refuted (or inconclusive) verdict exits 1
    assert main(["reproduce", "--quick", "--out", str(out), "--only", "arz-thm1", "arz-thm3", "--resume",
                 "--strict"]) == 1
    assert main(["reproduce", "--quick", "--out", str(out), "--only", "arz-thm1", "--resume", "--strict"]) == 0


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
    printed = json.loads(capsys.readouterr().out)
    expected = agl17_thm31_samples(p=65, eps=0.1, lipschitz=2, phi_range=0.5, lphi=1)
    assert {k: printed[k] for k in expected} == expected and set(printed["formulas"]) == set(expected)
    assert printed["inputs"]["radius"] == "sqrt(p) (default)"  # an unset input says what it stands for
    assert main(["bound", "arz-thm3", "--k", "100", "--code-dim", "2", "--dim", "64", "--tv-budget", "0.01",
                 "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    expected = json.loads(json.dumps(arz_thm3_summary(k=100, code_dim=2, dim=64, tv_budget=0.01)))
    assert {k: printed[k] for k in expected} == expected and set(printed["formulas"]) == set(expected)
    assert printed["inputs"] == {"k": 100, "code_dim": 2, "dim": 64, "tv_budget": 0.01, "sigma": 1.0}
    # The width is solved from the TV budget, so the bound evaluated at that width gives the budget back.
    assert printed["m"] == 100**2 and abs(printed["tv_bound"] - 0.01) < 1e-15


def test_bound_arz_thm3_rejects_a_tv_budget_of_one():
    out = subprocess.run([sys.executable, "-m", "ganlimits.verify._cli", "bound", "arz-thm3", "--k", "4",
                          "--code-dim", "2", "--dim", "8", "--tv-budget", "1"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_bound_az17_birthday_prints_the_valid_mass_on_a_set_bound_and_the_approximation(capsys):
    from ganlimits.theory import mass_set_collision_lower
    from ganlimits.theory.az17 import mass_set_collision_approx

    assert main(["bound", "az17-birthday", "--support", "1000", "--rho", "0.1", "--samples", "200", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["mass_set_collision_lower"] == mass_set_collision_lower(N=1000, rho=0.1, M=200)
    assert printed["mass_set_collision_approx"] == mass_set_collision_approx(N=1000, rho=0.1, M=200)
    # docs/papers/az17.md: the exact worst case at N = 1000, rho = 0.1, M = 200 is 0.1786 (the sum form is tight);
    # the rho^2 Poisson form, 0.1805, lies above it and is no bound.
    assert abs(printed["mass_set_collision_lower"] - 0.1786) < 5e-4
    assert printed["mass_set_collision_approx"] > printed["mass_set_collision_lower"]


def test_bound_az17_birthday_evaluates_every_formula(capsys):
    from ganlimits.theory import beta_upper_bound, mass_set_collision_lower

    argv = ["bound", "az17-birthday", "--support", "365", "--samples", "23", "--rho", "0.1", "--gamma", "0.5",
            "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert abs(out["collision_probability_exact"] - 0.507297234) < 1e-9  # the classic 23 birthdays
    assert abs(out["s_half_paper"] - (2 * math.log(2) * 365) ** 0.5) < 1e-12
    assert out["mass_set_collision_lower"] == mass_set_collision_lower(N=365, rho=0.1, M=23)
    assert out["beta_upper"] == beta_upper_bound(M=23, gamma=0.5)
    assert main(["bound", "az17-birthday", "--support", "365", "--gamma", "1.5"]) == 2
    assert "--gamma" in capsys.readouterr().err


def test_resume_reuses_only_an_exact_match_and_says_why_not(fake_claims, monkeypatch, capsys):
    out = fake_claims
    monkeypatch.setenv("FAKE_INTERRUPT", "0")
    assert main(["reproduce", "--quick", "--out", str(out), "--only", "arz-thm1"]) == 0
    first = (out / "arz-thm1.json").read_bytes()
    capsys.readouterr()
    assert main(["reproduce", "--quick", "--out", str(out), "--only", "arz-thm1", "--resume", "--seed", "7"]) == 0
    said = capsys.readouterr().out
    assert "not reusing" in said and "seed 0 there, 7 now" in said
    assert json.loads((out / "arz-thm1.json").read_text())["seed"] == 7
    assert (out / "superseded" / "arz-thm1-1.json").read_bytes() == first  # the seed-0 result is kept
    report = (out / "REPORT.md").read_text()
    assert "seed 7" in report and "superseded/" in report


def test_verify_without_out_does_not_touch_a_reproduction(fake_claims, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FAKE_INTERRUPT", "0")
    assert main(["reproduce", "--quick", "--only", "arz-thm1"]) == 0
    before = (tmp_path / "results" / "arz-thm1.json").read_bytes()
    assert main(["verify", "arz-thm1", "--quick", "--seed", "5"]) == 0
    assert (tmp_path / "results" / "arz-thm1.json").read_bytes() == before
    assert json.loads((tmp_path / "results" / "verify" / "arz-thm1.json").read_text())["seed"] == 5
    assert "seed 5" in (tmp_path / "results" / "verify" / "REPORT.md").read_text()


def test_a_full_reproduction_keeps_extra_seeds_apart_and_reports_their_spread(fake_claims, monkeypatch, capsys):
    out = fake_claims
    monkeypatch.setenv("FAKE_INTERRUPT", "0")
    assert main(["reproduce", "--out", str(out), "--only", "arz-thm1"]) == 0
    assert not (out / "seeds").exists()  # the full run's default is one master seed
    assert main(["reproduce", "--out", str(out), "--only", "arz-thm1", "--replicates", "3", "--resume"]) == 0
    assert json.loads((out / "arz-thm1.json").read_text())["seed"] == 0
    for s in (1, 2):
        assert json.loads((out / "seeds" / f"seed-{s}" / "arz-thm1.json").read_text())["seed"] == s
    report = (out / "REPORT.md").read_text()
    assert "## Spread over seeds" in report and "| `arz-thm1` | 0, 1, 2 |" in report
    assert not (out / "seeds" / "seed-1" / "REPORT.md").exists()


def test_a_corrupt_result_is_set_aside_and_recomputed_on_resume(fake_claims, monkeypatch, capsys):
    out = fake_claims
    monkeypatch.setenv("FAKE_INTERRUPT", "0")
    out.mkdir(parents=True)
    (out / "arz-thm1.json").write_text('{"claim": "arz-')
    assert main(["reproduce", "--quick", "--out", str(out), "--only", "arz-thm1", "--resume"]) == 0
    said = capsys.readouterr().out
    assert "arz-thm1.json is not a readable result" in said and "corrupt-1" in said
    assert json.loads((out / "arz-thm1.json").read_text())["verdict"] == "consistent"
    assert (out / "arz-thm1.json.corrupt-1").read_text() == '{"claim": "arz-'


def test_report_shows_control_resolution_reason_and_the_family_wise_statement(tmp_path):
    from ganlimits.verify import ClaimResult, Estimate
    from ganlimits.verify._report import write_report
    from ganlimits.verify._results import write_json_atomic

    near = {"name": "planted mix", "truth_low": 0.18, "truth_high": 0.22, "lower_certificate": "attack at n = 10^6",
            "upper_certificate": "TV ceiling", "true_value": 0.2, "bound": 0.1, "baseline": 0.0,
            "direction": "upper", "ratio_interval": [1.8, 2.2], "caught": True,
            "measured": Estimate(0.19, 0.13, 0.25, 0.95, 9).to_dict()}
    power = {"label": "gap", "strengths": [0.12, 0.2], "detected": [3, 19], "repeats": 20, "n": 1000, "bound": 0.1,
             "baseline": 0.0, "power": 0.8, "resolution": 0.2, "resolution_factor": 2.0, "rates": []}
    a = ClaimResult("arz-thm1", "s", "consistent", {}, 0, Estimate(0.05, 0.0, 0.09, 0.95, 100), {"value": 0.1},
                    control=Estimate(0.19, 0.13, 0.25, 0.95, 9), control_caught=True, control_true_value=0.2,
                    resolution=power, verdict_reason="within the bound", verdict_pvalue=0.004,
                    measurements={"near_boundary_control": near}, figures=["arz-thm1_power.png"])
    (tmp_path / "arz-thm1_power.png").write_bytes(b"png")
    a.attach_figures(tmp_path)  # a result lists only figures whose digests it holds
    b = ClaimResult("arz-thm3", "s", "holds", {}, 0, Estimate.exact(0.0), {"value": 0.0})
    for r in (a, b):
        write_json_atomic(tmp_path / f"{r.claim}.json", r.to_dict())
    report = write_report(tmp_path).read_text()
    assert "| caught (1.8–2.2× bound) | 2× bound |" in report and "within the bound" in report
    assert "planted mix: true value in [0.18, 0.22] (lower end: attack at n = 10^6; upper end: TV ceiling)" in report
    assert "caught it: its lower limit 0.13 lies above the bound 0.1" in report and "19/20 at 0.2" in report
    assert "| `arz-thm1` | consistent | the bound is violated | 0.004 | 0.004 | yes |" in report
    assert "`arz-thm3`" not in report.split("## Family-wise error")[1].split("## `")[0]  # identities: no family
    assert "[power](arz-thm1_power.png)" in report


def test_report_inlines_a_claims_own_table_under_its_section(tmp_path):
    from ganlimits.verify import ClaimResult, Estimate
    from ganlimits.verify._report import write_report
    from ganlimits.verify._results import write_json_atomic

    for cid in ("arz-thm3", "veegan-benchmark"):
        r = ClaimResult(cid, "s", "holds" if cid == "arz-thm3" else "inconclusive", {}, 0, Estimate.exact(0.0),
                        {"value": 0.0})
        write_json_atomic(tmp_path / f"{cid}.json", r.to_dict())
    (tmp_path / "veegan-benchmark-table.md").write_text("# Modes\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    report = write_report(tmp_path).read_text()
    section = report.split("## `veegan-benchmark`")[1]
    assert "### Modes" in section and "| 1 | 2 |" in section and "`veegan-benchmark-table.md`" in section
    assert "| 1 | 2 |" not in report.split("## `veegan-benchmark`")[0]  # only under its own claim


def test_full_reproduce_replicates_seeds_except_for_claims_that_aggregate_seeds_inside(fake_claims, monkeypatch,
                                                                                       capsys):
    """--replicates 2: arz-thm1 (a fake) runs at seeds 0 and 1; a module with SEEDS_INSIDE = True runs once."""
    out = fake_claims
    monkeypatch.setenv("FAKE_INTERRUPT", "0")
    monkeypatch.setattr(sys.modules["ganlimits.verify.claims.arz17.thm3"], "SEEDS_INSIDE", True, raising=False)
    main(["reproduce", "--out", str(out), "--only", "arz-thm1", "arz-thm3", "--replicates", "2"])
    said = capsys.readouterr().out
    assert "[arz-thm1] seed 1: consistent" in said and "[arz-thm3] seed 1" not in said
    assert (out / "seeds" / "seed-1" / "arz-thm1.json").exists()
    assert not (out / "seeds" / "seed-1" / "arz-thm3.json").exists()


def test_verify_says_the_control_outcome_in_words_and_labels_a_quick_run(fake_claims, capsys):
    assert main(["verify", "arz-thm1", "--quick", "--out", str(fake_claims)]) == 0
    said = capsys.readouterr().out
    assert "control:  support-1 gap 0.5 (caught)" in said and "True" not in said
    assert "quick setting: a low-power smoke run" in said.splitlines()[-1]
    assert main(["verify", "arz-thm1", "--out", str(fake_claims)]) == 0
    assert "smoke run" not in capsys.readouterr().out  # the full setting carries no such label
