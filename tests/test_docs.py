"""Citations resolve and the README describes this repository.

Docstrings, comments and notebooks cite a paper and theorem or a page of ``docs/`` (never a file users do not
have, such as the MATH.md and DESIGN.md notes the project was specified from); every ``docs/...md`` page they cite
exists; the README names only folders and files the repository has (or that a run generates).
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CITING_FOLDERS = ("theory", "constructions", "verify", "notebooks")
SOURCE_SUFFIXES = {".py", ".ipynb", ".md"}
FORBIDDEN = re.compile(r"\b(?:MATH|DESIGN)\.md\b|\bMATH §")
DOCS_PAGE = re.compile(r"docs/[A-Za-z0-9_./-]+?\.md\b")
GENERATED = ("results", "results-quick", ".venv", "docs/_build", "docs/jupyter_execute", "REPORT.md")


def _files(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file()
                  and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts)


def _hits(pattern: re.Pattern, files: list[Path]) -> list[tuple[str, int, str]]:
    out = []
    for path in files:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in pattern.finditer(line):
                out.append((str(path.relative_to(ROOT)), lineno, match.group(0)))
    return out


@pytest.mark.parametrize("folder", CITING_FOLDERS)
def test_no_citation_of_files_users_do_not_have(folder):
    hits = _hits(FORBIDDEN, _files(folder))
    assert not hits, "cite the paper and theorem or a docs/ page instead of:\n" + "\n".join(
        f"  {f}:{n}: {m}" for f, n, m in hits)


@pytest.mark.parametrize("folder", CITING_FOLDERS)
def test_cited_docs_pages_exist(folder):
    missing = [(f, n, m) for f, n, m in _hits(DOCS_PAGE, _files(folder)) if not (ROOT / m).is_file()]
    assert not missing, "cited docs pages that do not exist:\n" + "\n".join(f"  {f}:{n}: {m}" for f, n, m in missing)


def test_the_checks_catch_what_they_look_for():
    # Negative controls of the two patterns above.
    assert FORBIDDEN.search("see MATH.md §1.8") and FORBIDDEN.search("(DESIGN.md)") and FORBIDDEN.search("MATH §1.2")
    assert not FORBIDDEN.search("docs/papers/arz17.md, Theorem 3")
    assert DOCS_PAGE.findall("``docs/papers/arz17.md``, and docs/design.md.") == ["docs/papers/arz17.md",
                                                                                  "docs/design.md"]
    assert _readme_paths("see `shared/MATH.md` and `theory/` and `make test`") == ["shared/MATH.md", "theory/"]


def _readme_paths(text: str) -> list[str]:
    """Paths the README names: backticked words and link targets that look like a folder or a file."""
    candidates = re.findall(r"`([^`\s]+)`", text) + re.findall(r"\]\(([^)\s#]+)\)", text)
    looks_like_path = re.compile(r"^[\w.-]+(/[\w.-]*)*$")
    has_suffix = re.compile(r"\.(md|py|txt|toml|ipynb|json|cfg|yml|yaml|png)$")
    return [c for c in candidates if looks_like_path.match(c) and ("/" in c or has_suffix.search(c))
            and not c.startswith(("http", "ganlimits."))]


def test_readme_names_only_what_the_repository_has():
    paths = _readme_paths((ROOT / "README.md").read_text(encoding="utf-8"))
    assert paths, "the README names no folder or file at all: the pattern is broken"
    missing = [p for p in paths if not p.startswith(GENERATED) and not (ROOT / p.rstrip("/")).exists()]
    assert not missing, f"the README names folders or files this repository does not have: {missing}"


def _code_block(page: str, first_line: str) -> str:
    """The fenced Python block of ``docs/<page>`` whose first line is ``first_line``."""
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    for block in re.findall(r"```python\n(.*?)```", text, flags=re.S):
        if block.startswith(first_line):
            return block
    raise AssertionError(f"docs/{page} has no python block starting with {first_line!r}")


def test_the_worked_claim_of_adding_a_claim_runs(monkeypatch, tmp_path):
    """docs/adding-a-claim.md: its registry entry, module and test file are real code. The module is loaded as the
    claim module of its id and run through the public runner (small settings: n = 20,000 seeds, master seed 0);
    the procedure's parts are checked, not the verdict."""
    import importlib.util
    import sys

    from ganlimits.theory import CLAIMS, Claim
    from ganlimits.verify import RunConfig, run_claim

    entry = eval(_code_block("adding-a-claim.md", "# theory/_claims.py").split("\n", 1)[1].rstrip().rstrip(","),
                 {"Claim": Claim})
    source = tmp_path / "agl17_lemma3.py"
    source.write_text(_code_block("adding-a-claim.md", "# verify/claims/agl17/lemma3.py"))
    name = "ganlimits.verify.claims.agl17.lemma3"
    spec = importlib.util.spec_from_file_location(name, source)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    monkeypatch.setitem(CLAIMS, entry.id, entry)
    compile(_code_block("adding-a-claim.md", "# tests/verify/claims/"), "test_claim_agl17_lemma3.py", "exec")

    settings = module.Settings(T=16, tv_budget=0.5, n=20_000, control_factor=2.5, factors=(2.0, 3.0), repeats=4)
    r = run_claim(entry.id, RunConfig(seed=0, out_dir=tmp_path, progress=False), settings)
    assert r.claim == "agl17-lemma3" and r.settings["n"] == 20_000 and r.verdict_reason
    assert 1.5 <= min(r.measurements["near_boundary_control"]["ratio_interval"])
    assert max(r.measurements["near_boundary_control"]["ratio_interval"]) <= 3
    assert r.resolution["strengths"] and len(r.resolution["detected"]) == 2
    # Clopper-Pearson 95%, n = 20,000, seed 0: the interval covers the exact ramp mass.
    assert r.measured.ci_low <= r.measurements["exact_ramp_mass"] <= r.measured.ci_high
    with pytest.raises(ValueError, match="factors"):
        module.Settings(T=16, tv_budget=0.5, n=10, control_factor=2.5, factors=(3.0, 2.0), repeats=1)


def test_the_worked_estimator_of_adding_an_estimator_runs(monkeypatch, tmp_path):
    """docs/adding-an-estimator.md: the example module loads as an estimator module and its >>> example holds."""
    import doctest
    import importlib.util
    import sys

    source = tmp_path / "_mean_value.py"
    source.write_text(_code_block("adding-an-estimator.md", "# verify/estimators/_mean_value.py"))
    name = "ganlimits.verify.estimators._mean_value"
    spec = importlib.util.spec_from_file_location(name, source)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 3 and result.failed == 0


def test_the_property_tests_of_testing_md_pass():
    """docs/testing.md: the example property tests of a user's generator run and pass (hypothesis profile of
    tests/conftest.py)."""
    namespace: dict = {}
    exec(compile(_code_block("testing.md", "import torch"), "docs/testing.md", "exec"), namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_")]
    assert len(tests) == 2
    for test in tests:
        test()


@pytest.mark.slow
def test_docs_build_after_a_quick_reproduction_with_offline_formulas(tmp_path):
    """`make docs` after `make reproduce-quick`: the report of a real quick run reads as a report (no booleans in its
    prose, the smoke-run label, a few hundred lines), and the site builds with warnings as errors — its report page
    and a Results page generated from that run included — with MathJax served from the site, no CDN. Cost on 2 cores:
    the quick reproduction (about 2 min CPU) and one Sphinx build (about 20 s CPU)."""
    import importlib.util
    import os
    import shutil
    import subprocess
    import sys

    pytest.importorskip("sphinx")
    pytest.importorskip("myst_nb")
    spec = importlib.util.spec_from_file_location("report_checks", ROOT / "tests" / "verify" / "test_report.py")
    checks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(checks)

    results = tmp_path / "results-quick"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    run = subprocess.run([sys.executable, "-m", "ganlimits.verify._cli", "reproduce", "--quick", "--out",
                          str(results)], capture_output=True, text=True, env=env, timeout=3600)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]  # completed: 0 whatever the verdicts
    assert "verdicts: " in run.stdout and "low-power smoke run" in run.stdout
    report = (results / "REPORT.md").read_text()
    assert not checks.prose_problems(report), checks.prose_problems(report)
    assert len(report.splitlines()) <= checks.MAX_LINES and "Quick setting: a low-power smoke run." in report

    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs, symlinks=False, ignore=shutil.ignore_patterns("_build", "jupyter_execute"))
    from ganlimits.verify._results_page import write_results_page

    write_results_page(results, docs, allow_quick=True)
    out = tmp_path / "html"
    build = subprocess.run([sys.executable, "-m", "sphinx", "-q", "-W", "--keep-going", "-b", "html", str(docs),
                            str(out)], capture_output=True, text=True, timeout=1800,
                           env={**env, "GANLIMITS_REPORT_DIR": str(results)})
    assert build.returncode == 0, build.stderr[-4000:]
    page = (out / "report.html").read_text()
    assert "ganlimits reproduction report" in page and "results-quick/REPORT.md" not in page.split("<body")[0]
    assert "_static/mathjax/tex-chtml.js" in (out / "papers" / "arz17.html").read_text()  # a page with formulas
    assert (out / "_static" / "mathjax" / "tex-chtml.js").is_file()
    remote = [p.name for p in out.rglob("*.html") if re.search(r"<script[^>]+src=\"https?://", p.read_text())]
    assert not remote, f"pages that load a script from the network: {remote}"
    assert (out / "results.html").is_file() and "smoke run" in (out / "results.html").read_text()


def test_arz17_page_and_readme_state_the_verdict_class_and_size_the_code_uses():
    """docs/papers/arz17.md and the README's `bound` example describe the class `arz-thm1` decides on (its Settings,
    through the claim's own theorem_support) with the sizes the code computes for it — one class, one explicit size."""
    import math

    from ganlimits.verify.claims.arz17 import thm1 as arz_thm1

    attack = arz_thm1.Settings.full().attack
    assert arz_thm1.Settings.quick().attack.same_class(attack)
    need = arz_thm1.theorem_support(arz_thm1._family(attack, 66), eps=arz_thm1.Settings.full().eps)
    k = math.ceil(math.sqrt(max(need["paper"], need["spec"])))
    page = (ROOT / "docs" / "papers" / "arz17.md").read_text()
    assert f"one hidden layer of {attack.hidden[0]} units" in page and f"= {need['p']}$" in page
    assert f"$L \\cdot r \\approx {need['L_unit_ball']:.0f}$" in page
    assert f"${need['paper'] / 1e6:.2f} \\cdot 10^6$ in the paper's form" in page
    assert f"${need['spec'] / 1e6:.2f} \\cdot 10^6$ in the\nexplicit form" in page
    assert f"$m = k^2 = {k}^2 = {k * k:,}$".replace(",", "{,}") in page
    example = re.search(r"ganlimits bound arz-thm1 --p (\d+) --eps ([\d.]+) --lipschitz ([\d.]+)",
                        (ROOT / "README.md").read_text())
    assert example and int(example[1]) == need["p"] and float(example[2]) == arz_thm1.Settings.full().eps
    assert float(example[3]) == round(need["L_unit_ball"])
