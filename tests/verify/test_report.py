"""REPORT.md reads as a report: a few hundred lines for all the claims, no raw JSON, no Python booleans in its
prose, quick runs labelled as low-power smoke runs, every figure linked, and a family-wise table whose p-values are
those of the nulls the verdicts reject.

The fixture ``tests/data/report_quick_fixture.json`` holds the 14 results of a quick reproduction (seed 0, measurements
trimmed to the near-boundary control) with the claims' own summaries, reasons and tables, glitches included: the
report must render them readably, whatever the claims wrote.
"""

import dataclasses
import json
import re
from pathlib import Path

import pytest

from ganlimits.theory import CLAIMS
from ganlimits.verify import ClaimResult
from ganlimits.verify._report import holm, plain, render_report, report_for_docs, write_report
from ganlimits.verify._results import write_json_atomic

FIXTURE = Path(__file__).parents[1] / "data" / "report_quick_fixture.json"
MAX_LINES = 450  # "a few hundred lines" for the 14 claims, their tables included


def results_folder(folder: Path, *, quick: bool = True, seeds: tuple[int, ...] = ()) -> list[ClaimResult]:
    """The fixture's results written into ``folder`` as a reproduction would (figures as small files, tables beside
    them); ``quick=False`` relabels them as a full run, ``seeds`` adds extra seeds under ``seeds/seed-<S>/``."""
    fx = json.loads(FIXTURE.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for cid, doc in fx["claims"].items():
        r = fixture_result(doc, quick=quick, identity={"settings": {}, "code_version": "fixture"})
        for fig in r.figures:
            (folder / fig).write_bytes(b"\x89PNG fixture")
        r.attach_figures(folder)
        write_json_atomic(folder / f"{cid}.json", r.to_dict())
        for s in seeds:  # an extra seed's folder holds its own figures; these have none
            extra = dataclasses.replace(r, seed=s, figures=[], figure_digests={})
            write_json_atomic(folder / "seeds" / f"seed-{s}" / f"{cid}.json", extra.to_dict())
        out.append(r)
    for cid, table in fx["tables"].items():
        (folder / f"{cid}-table.md").write_text(table)
    return out


def fixture_result(doc: dict, **fields) -> ClaimResult:
    """A result of the fixture (stored without the digest a run writes: the body is trimmed) with ``fields`` set."""
    return ClaimResult.from_dict({**doc, **fields}, check_digest=False)


def prose_problems(text: str) -> list[str]:
    """Lines of report prose that leak a Python boolean or None, tell a control's outcome twice, or quote a verdict
    word for something that is not the claim's verdict."""
    problems = []
    for n, line in enumerate(text.splitlines(), 1):
        if re.search(r"\b(True|False|None)\b", line):
            problems.append(f"{n}: boolean: {line[:120]}")
        if re.search(r"caught\W+(caught|missed)|correctly caught|NOT caught \(caught", line):
            problems.append(f"{n}: outcome told twice: {line[:120]}")
        if re.search(r"""['"](consistent|refuted|inconclusive)['"]""", line):
            problems.append(f"{n}: quoted verdict word: {line[:120]}")
    return problems


def test_the_prose_check_catches_the_glitches_it_looks_for():
    # Negative controls: the glitches of the report before this layout.
    for bad in ("exact 0.1 > δ: True caught", "7/7 known-outcome cases classified correctly caught",
                "planted 1.5 modes NOT caught (caught: False)", "'consistent' from m = 65536 on"):
        assert prose_problems(bad), bad
    assert not prose_problems("caught: its lower limit 0.137 lies above the bound 0.1318; exactly true value 0.2")
    assert plain("caught: True (plateau: False)") == "caught: yes (plateau: no)"


def test_quick_report_is_short_readable_and_labelled(tmp_path):
    results = results_folder(tmp_path)
    text = write_report(tmp_path).read_text()
    lines = text.splitlines()
    assert len(lines) <= MAX_LINES, len(lines)
    assert "```json" not in text and not any(line.lstrip().startswith(("{", '"')) for line in lines)  # no raw JSON
    assert not prose_problems(text), prose_problems(text)
    assert "Quick setting: a low-power smoke run." in text
    for r in results:
        section = text.split(f"## `{r.claim}` — {r.verdict}\n", 1)[1].split("\n## `", 1)[0]
        for field in ("**Bound:**", "**Measured:**", f"**Verdict: {r.verdict}**", "**Run:**"):
            assert field in section, (r.claim, field)
        if CLAIMS[r.claim].kind != "identity":
            assert "**Control:**" in section and "**Resolution:**" in section, r.claim
            assert "(quick setting: a low-power smoke run)" in section, r.claim
        for fig in r.figures:  # every figure linked once, and the link resolves in the results folder
            assert text.count(f"]({fig})") == 1 and (tmp_path / fig).is_file(), (r.claim, fig)
        if (tmp_path / f"{r.claim}-table.md").is_file():
            assert f"Tables of `{r.claim}`" in section
    # a claim's "'consistent' from m = ... on" is a measurement at one m, shown as one beside the verdict
    assert "within the bound from m = 65536 on" in text.split("## `arz-thm1`")[1].split("## `arz-thm3`")[0]


def test_family_wise_table_uses_the_null_each_verdict_rejects(tmp_path):
    results = {r.claim: r for r in results_folder(tmp_path)}
    text = render_report(tmp_path)
    rows = re.findall(r"^\| `([\w-]+)` \| (\w+) \| ([^|]+) \| ([^|]+) \| ([^|]+) \| (yes|no) \|$",
                      text.split("## Family-wise error")[1].split("\n## ")[0], flags=re.M)
    with_p = {c for c, r in results.items() if r.verdict_pvalue is not None}
    assert {row[0] for row in rows} == with_p and with_p  # one row per claim that rejects a null
    family = {c: r.verdict_pvalue if r.verdict_pvalue is not None else 1.0
              for c, r in results.items() if CLAIMS[c].kind != "identity"}
    adjusted = holm(family)
    for claim, verdict, null, p, adj, rejected in rows:
        assert verdict == results[claim].verdict
        assert null.strip() == {"consistent": "the bound is violated", "refuted": "the bound holds"}[verdict]
        assert float(p) == pytest.approx(results[claim].verdict_pvalue, rel=1e-2)
        # the family is every statistical claim (those without a p-value count as never rejected)
        assert float(adj) == pytest.approx(adjusted[claim][0], rel=1e-2) and (rejected == "yes") == adjusted[claim][1]


def test_a_full_run_carries_no_quick_label_and_shows_its_seeds(tmp_path):
    results_folder(tmp_path, quick=False, seeds=(1, 2))
    text = render_report(tmp_path)
    assert "smoke run" not in text and "full setting, seeds 0, 1, 2" in text
    assert "| `arz-thm1` | 0, 1, 2 | inconclusive, inconclusive, inconclusive |" in text
    assert "- **Seed 2:** inconclusive" in text.split("## `arz-thm1`")[1]
    assert not prose_problems(text)


def test_the_docs_version_links_figures_and_names_other_files(tmp_path):
    results_folder(tmp_path)
    text = report_for_docs(render_report(tmp_path), "../results-quick/")
    targets = re.findall(r"\]\(([^)]+)\)", text)
    assert targets and all(t.startswith("../results-quick/") and t.endswith(".png") for t in targets), targets
    assert not re.search(r"\]\([^)]*\.md\)", text)  # a .md link is a cross-reference Sphinx cannot resolve


def test_results_page_from_a_full_run_says_how_it_was_made(tmp_path):
    from ganlimits.verify._results_page import FIGURES, main, write_results_page

    results, docs = tmp_path / "results", tmp_path / "docs"
    runs = results_folder(results, quick=False, seeds=(1, 2))
    (docs / FIGURES).mkdir(parents=True)
    (docs / FIGURES / "stale.png").write_bytes(b"old")  # a figure of an earlier page is not kept
    page = write_results_page(results, docs, machine="test machine, 2 cores").read_text()
    head = page.split("\n## ")[0]
    assert page.startswith("# Results\n") and "smoke run" not in page
    for field in ("**Commit:**", "**Machine:** test machine, 2 cores", "**Date:** results written",
                  "**Times:**", "over 42 runs (14 claims, seeds 0, 1, 2)", "**Verdicts (seed 0):** 5 consistent"):
        assert field in head, field
    shown = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page)
    assert sorted(shown) == sorted(f"{FIGURES}/{f}" for r in runs for f in r.figures)
    assert all((docs / s).is_file() for s in shown) and not (docs / FIGURES / "stale.png").exists()
    assert not prose_problems(page)
    # a quick folder is a smoke run, not the Results page; the command says why in one line, exit 2
    quick = tmp_path / "quick"
    results_folder(quick)
    with pytest.raises(ValueError, match="low-power smoke run"):
        write_results_page(quick, docs)
    assert main([str(quick), "--docs", str(docs)]) == 2 and main([str(tmp_path / "none"), "--docs", str(docs)]) == 2


def test_the_repository_results_page_is_the_placeholder_or_a_generated_page():
    docs = Path(__file__).parents[2] / "docs"
    page = (docs / "results.md").read_text()
    if "**Commit:**" not in page:
        assert "No full run has been recorded yet" in page and "make results-page" in page
    else:  # generated by make results-page: its figures are in the repository
        assert "smoke run" not in page
        assert all((docs / s).is_file() for s in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", page))


def test_a_run_without_any_rejected_null_says_so_in_plain_words(tmp_path):
    fx = json.loads(FIXTURE.read_text())["claims"]
    for cid in ("arz-thm1", "lecture-optimal-d"):  # an inconclusive claim and an identity: no p-value at all
        write_json_atomic(tmp_path / f"{cid}.json", fixture_result(fx[cid], figures=[]).to_dict())
    text = render_report(tmp_path)
    assert "No claim with a statistical verdict (1 here) rejects a null" in text and not prose_problems(text)


def test_a_claims_own_headings_sit_under_its_section_whatever_their_level(tmp_path):
    fx = json.loads(FIXTURE.read_text())["claims"]
    write_json_atomic(tmp_path / "agl17-mixgan.json", fixture_result(fx["agl17-mixgan"], figures=[]).to_dict())
    (tmp_path / "agl17-mixgan-table.md").write_text("## Modes\n\n### grid\n\n| a |\n|---|\n| True |\n")
    section = render_report(tmp_path).split("## `agl17-mixgan`")[1]
    assert "\n### Modes\n" in section and "\n#### grid\n" in section and "| yes |" in section
