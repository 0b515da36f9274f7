"""REPORT.md, generated from the per-claim JSON files (never typed by hand)."""

from __future__ import annotations

import json
from pathlib import Path

from ganlimits.theory import CLAIMS

from ._results import ClaimResult

__all__ = ["load_results", "write_report"]


def load_results(out_dir: str | Path) -> list[ClaimResult]:
    """Every ``<claim>.json`` in ``out_dir`` that names a known claim, in registry order."""
    out_dir = Path(out_dir)
    found = []
    for cid in CLAIMS:
        path = out_dir / f"{cid}.json"
        if path.exists():
            found.append(ClaimResult.from_dict(json.loads(path.read_text())))
    return found


def format_bound(bound: dict) -> str:
    """One cell: the bound's value and, when given, its name."""
    if not bound:
        return "—"
    value = bound.get("value")
    label = bound.get("label") or bound.get("name") or ""
    text = f"{value:.4g}" if isinstance(value, (int, float)) else str(value)
    return f"{label}: {text}" if label else text


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_report(out_dir: str | Path, *, title: str = "ganlimits reproduction report") -> Path:
    """Write ``<out_dir>/REPORT.md``: the summary table, then a section per claim with its measurements and
    figures. Everything comes from the JSON files in ``out_dir``.
    """
    out_dir = Path(out_dir)
    results = load_results(out_dir)
    lines = [f"# {title}", ""]
    if not results:
        lines += ["No claim results found.", ""]
    else:
        quick = {r.quick for r in results}
        mode = "quick" if quick == {True} else "full" if quick == {False} else "mixed quick/full"
        lines += [
            f"Generated from {len(results)} JSON result files ({mode} setting). "
            "Verdicts: `consistent` — the upper confidence limit of the best attack is within the bound and the "
            "same attack caught the control; `refuted` — the lower limit exceeds the bound; `inconclusive` — "
            "neither, or the control was not caught (the attack lacked power); `holds`/`fails` — exact identities.",
            "",
            "| claim | source | bound | measured (interval) | control | verdict |",
            "|---|---|---|---|---|---|",
        ]
        for r in results:
            measured = r.summary or r.measured.fmt()
            if r.control is None:
                control = r.control_summary or "—"
            else:
                caught = {True: "caught", False: "NOT caught", None: ""}[r.control_caught]
                control = f"{r.control_summary or r.control.fmt()} {caught}".strip()
            lines.append(
                f"| `{r.claim}` | {_cell(r.source)} | {_cell(format_bound(r.bound))} | {_cell(measured)} | "
                f"{_cell(control)} | **{r.verdict}** |"
            )
        lines.append("")
        for r in results:
            lines += _section(r)
    path = out_dir / "REPORT.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)
    return path


def _section(r: ClaimResult) -> list[str]:
    claim = CLAIMS[r.claim]
    lines = [f"## `{r.claim}` — {r.verdict}", "", f"*{r.source}.* {claim.statement}", ""]
    lines.append(f"- measured: {r.measured.fmt()} ({r.measured.method})")
    if r.control is not None:
        lines.append(f"- control: {r.control.fmt()} ({r.control.method}); caught: {r.control_caught}")
    lines.append(f"- bound: {json.dumps(r.bound, ensure_ascii=False)}")
    lines.append(f"- params: {json.dumps(r.params, ensure_ascii=False)}")
    lines.append(
        f"- seed {r.seed}, {r.threads} torch threads, {r.elapsed_s:.1f} s, commit {r.git_commit or 'unknown'}"
    )
    if r.measurements:
        lines += ["", "<details><summary>measurements</summary>", "", "```json",
                  json.dumps(r.measurements, indent=1, ensure_ascii=False)[:20000], "```", "", "</details>"]
    for note in r.notes:
        lines.append(f"- note: {note}")
    for fig in r.figures:
        lines += ["", f"![{Path(fig).stem}]({fig})"]
    lines.append("")
    return lines
