"""REPORT.md, generated from the per-claim JSON files (never typed by hand).

Layout of a results folder (``docs/design.md``): ``<claim>.json`` is the canonical result of each claim (the run's
primary seed), with its figures and sweep logs beside it; ``seeds/seed-<S>/<claim>.json`` hold the same claim at
the extra seeds of a full reproduction (each such folder a complete results folder of its own);
``superseded/`` keeps results replaced by a run of another identity; ``*.corrupt-<n>`` are unreadable files set
aside. :func:`write_report` reads whatever the folder holds, so calling it after every change keeps REPORT.md
current.

The report shows, per claim, the bound, the measurement, the near-boundary control (its known true value, caught or
not), the resolution of the verdict's attack (its power curve), the verdict and its reason, the spread over seeds,
and a family-wise statement: Holm's step-down procedure over the p-values the claims give.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from ganlimits.theory import CLAIMS

from ._results import ClaimResult, CorruptResult, read_result, write_text_atomic

__all__ = ["load_results", "load_replicates", "write_report", "holm"]

FAMILY_ALPHA = 0.05
"""Family-wise error rate of the report's multiple-testing statement (1 - the claims' 95% confidence)."""


def _scan(out_dir: Path, problems: list[str] | None) -> list[ClaimResult]:
    found = []
    for cid in CLAIMS:
        path = out_dir / f"{cid}.json"
        if not path.exists():
            continue
        try:
            found.append(read_result(path))
        except CorruptResult as exc:
            if problems is not None:
                problems.append(str(exc))
    return found


def load_results(out_dir: str | Path, *, problems: list[str] | None = None) -> list[ClaimResult]:
    """Every ``<claim>.json`` in ``out_dir`` that names a known claim, in registry order. An unreadable file is
    set aside as ``<claim>.json.corrupt-<n>`` and described in ``problems`` (when a list is given)."""
    return _scan(Path(out_dir), problems)


def load_replicates(out_dir: str | Path, *, problems: list[str] | None = None) -> dict[str, list[ClaimResult]]:
    """Results at extra seeds, ``seeds/seed-<S>/<claim>.json``, by claim id (sorted by seed)."""
    out: dict[str, list[ClaimResult]] = {}
    root = Path(out_dir) / "seeds"
    if not root.is_dir():
        return out
    folders = sorted((p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"seed-\d+", p.name)),
                     key=lambda p: int(p.name[5:]))
    for folder in folders:
        for r in _scan(folder, problems):
            out.setdefault(r.claim, []).append(r)
    return out


def holm(pvalues: dict[str, float], alpha: float = FAMILY_ALPHA) -> dict[str, tuple[float, bool]]:
    """Holm's step-down procedure: ``{name: (adjusted p-value, rejected at family-wise level alpha)}``.

    Every p-value must be a number in [0, 1] and ``alpha`` in (0, 1): a NaN (which would sort anywhere and hide
    a real rejection) or a value out of range is a ``ValueError`` naming it.

    >>> holm({"a": 0.01, "b": 0.04, "c": 0.03})
    {'a': (0.03, True), 'c': (0.06, False), 'b': (0.06, False)}
    """
    from ganlimits.theory import check_number

    if not isinstance(pvalues, dict):
        raise ValueError(f"pvalues must be a dict {{name: p-value}}, got {type(pvalues).__name__}")
    pvalues = {name: check_number(f"p-value of {name!r}", p, low=0, high=1) for name, p in pvalues.items()}
    alpha = check_number("alpha", alpha, low=0, high=1, low_open=True, high_open=True)
    order = sorted(pvalues, key=lambda k: pvalues[k])
    m = len(order)
    out, running, still = {}, 0.0, True
    for i, name in enumerate(order):
        running = max(running, min(1.0, (m - i) * pvalues[name]))
        still = still and pvalues[name] <= alpha / (m - i)
        out[name] = (round(running, 15), still)
    return out


def _num(value: Any, digits: int = 4) -> str:
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, (int, float)):
        return "NaN" if isinstance(value, float) and math.isnan(value) else f"{value:.{digits}g}"
    return str(value)


def format_bound(bound: dict) -> str:
    """One cell: the bound's value and, when given, its name."""
    if not bound:
        return "—"
    value = bound.get("value")
    label = bound.get("label") or bound.get("name") or ""
    text = _num(value) if value is not None else json.dumps(bound, ensure_ascii=False)[:80]
    return f"{label}: {text}" if label else text


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _control_cell(r: ClaimResult) -> str:
    if r.control is None:
        return r.control_summary or "—"
    caught = {True: "caught", False: "NOT caught", None: ""}[r.control_caught]
    truth = f"true {_num(r.control_true_value, 3)}; " if r.control_true_value is not None else ""
    text = r.control_summary or r.control.fmt()
    # a summary that already says whether the control was caught is not told twice
    said = text.rstrip(". ").lower().endswith(("caught", "missed"))
    return f"{truth}{text}{'' if said else ' ' + caught}".strip()


def _resolution_cell(r: ClaimResult) -> str:
    res = r.resolution
    if not isinstance(res, dict):
        return "—"
    if res.get("resolution") is None:
        return "no strength reached the power"
    factor = res.get("resolution_factor")
    return f"{_num(res['resolution'], 3)}" + (f" ({_num(factor, 2)}× bound)" if factor is not None else "")


def _pvalue(r: ClaimResult) -> float | None:
    p = r.verdict_pvalue
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        return None
    return float(p)


def _comparable(a: ClaimResult, b: ClaimResult) -> bool:
    keys = ("settings", "code_version")
    return bool(a.identity) and all(a.identity.get(k) == b.identity.get(k) for k in keys)


def write_report(out_dir: str | Path, *, title: str = "ganlimits reproduction report") -> Path:
    """Write ``<out_dir>/REPORT.md`` from the JSON files the folder holds: summary table, family-wise statement,
    spread over seeds, then a section per claim with bound, measurement, near-boundary control, resolution, verdict
    reason, the claim's own tables (``<claim>-table.md``, when it wrote one) and figures."""
    out_dir = Path(out_dir)
    problems: list[str] = []
    results = load_results(out_dir, problems=problems)
    replicates = load_replicates(out_dir, problems=problems)
    lines = [f"# {title}", ""]
    if not results:
        lines += ["No claim results found.", ""]
    else:
        lines += _summary(results)
        lines += _family_wise(results)
        lines += _spread(results, replicates)
    if problems:
        lines += ["## Files set aside", ""] + [f"- {_cell(p)}" for p in problems] + [""]
    superseded = sorted((out_dir / "superseded").glob("*.json")) if (out_dir / "superseded").is_dir() else []
    if superseded:
        lines += [f"{len(superseded)} earlier result(s) of another identity are kept in `superseded/` and not "
                  "reported.", ""]
    for r in results:
        lines += _section(r, replicates.get(r.claim, []), out_dir)
    return write_text_atomic(out_dir / "REPORT.md", "\n".join(lines) + "\n")


def _summary(results: list[ClaimResult]) -> list[str]:
    quick = {r.quick for r in results}
    mode = "quick" if quick == {True} else "full" if quick == {False} else "mixed quick/full"
    seeds = sorted({r.seed for r in results})
    return [
        f"Generated from {len(results)} JSON result files ({mode} setting, seed {', '.join(map(str, seeds))}). "
        "Verdicts: `consistent` — the confidence limit of the verdict's attack is within the bound, the same attack "
        "caught a near-boundary planted control and resolves violations within 3× the bound; `refuted` — the "
        "limit on the other side lies beyond the bound; `inconclusive` — neither, or the attack lacked power; "
        "`holds`/`fails` — exact identities.",
        "",
        "| claim | bound | measured (interval) | near-boundary control | resolution | verdict |",
        "|---|---|---|---|---|---|",
        *(f"| `{r.claim}` | {_cell(format_bound(r.bound))} | {_cell(r.summary or r.measured.fmt())} | "
          f"{_cell(_control_cell(r))} | {_cell(_resolution_cell(r))} | **{r.verdict}** |" for r in results),
        "",
    ]


def _family_wise(results: list[ClaimResult]) -> list[str]:
    given = {r.claim: p for r in results if (p := _pvalue(r)) is not None}
    none = [r.claim for r in results if r.claim not in given]
    lines = ["## Family-wise error", ""]
    if given:
        adjusted = holm(given)
        lines += [
            f"Each verdict is taken at 95% confidence on its own. Across the {len(given)} claims that give the "
            f"p-value of the test behind their verdict, Holm's step-down procedure keeps the family-wise error rate "
            f"at {FAMILY_ALPHA:g}: a claim marked *significant* still rejects its null hypothesis after the "
            "adjustment.",
            "",
            "| claim | verdict p-value | Holm-adjusted | significant at family-wise 0.05 |",
            "|---|---|---|---|",
            *(f"| `{c}` | {_num(given[c], 3)} | {_num(adjusted[c][0], 3)} | {'yes' if adjusted[c][1] else 'no'} |"
              for c in adjusted),
            "",
        ]
    else:
        lines += ["No claim gives the p-value of its verdict's test, so no family-wise statement can be made.", ""]
    if none:
        lines += [f"Claims that give no p-value (exact claims, or tests without one): "
                  f"{', '.join(f'`{c}`' for c in none)}. With a Bonferroni view over all {len(results)} claims, "
                  f"each would need level {FAMILY_ALPHA / len(results):.2g} for a family-wise {FAMILY_ALPHA:g}.", ""]
    return lines


def _spread(results: list[ClaimResult], replicates: dict[str, list[ClaimResult]]) -> list[str]:
    if not any(replicates.values()):
        return []
    lines = ["## Spread over seeds", "",
             "Each claim at its extra seeds (`seeds/seed-<S>/`), with the same settings and code version as the "
             "canonical result; the spread is max − min of the point estimates.", "",
             "| claim | seeds | verdicts | measured | spread |", "|---|---|---|---|---|"]
    for r in results:
        runs = [r] + [x for x in replicates.get(r.claim, []) if x.seed != r.seed and _comparable(r, x)]
        if len(runs) == 1:
            continue
        est = [x.measured.estimate for x in runs]
        finite = [e for e in est if math.isfinite(e)]
        spread = _num(max(finite) - min(finite), 3) if finite else "—"
        lines.append(f"| `{r.claim}` | {', '.join(str(x.seed) for x in runs)} | "
                     f"{', '.join(x.verdict for x in runs)} | {', '.join(_num(e, 3) for e in est)} | {spread} |")
    return lines + [""]


def _section(r: ClaimResult, replicates: list[ClaimResult], out_dir: Path) -> list[str]:
    claim = CLAIMS[r.claim]
    lines = [f"## `{r.claim}` — {r.verdict}", "", f"*{r.source}.* {claim.statement}", ""]
    lines.append(f"- bound: {format_bound(r.bound)}")
    lines.append(f"- measured: {r.measured.fmt()} ({r.measured.method or 'method not stated'})")
    near = r.measurements.get("near_boundary_control") if isinstance(r.measurements, dict) else None
    if isinstance(near, dict):
        lines.append(f"- near-boundary control {near.get('name', '')!r}: true value {_num(near.get('true_value'))} "
                     f"({_num(near.get('ratio'), 3)}× the bound; known from {near.get('truth', '?')}), measured "
                     f"{_num((near.get('measured') or {}).get('estimate'))}; caught: {near.get('caught')}")
    elif r.control is not None:
        truth = f"; true value {_num(r.control_true_value)}" if r.control_true_value is not None else ""
        lines.append(f"- control: {r.control.fmt()} ({r.control.method}){truth}; caught: {r.control_caught}")
    else:
        lines.append("- control: none recorded")
    res = r.resolution if isinstance(r.resolution, dict) else None
    if res:
        pairs = ", ".join(f"{_num(s, 3)}: {d}/{res.get('repeats')}"
                          for s, d in zip(res.get("strengths", []), res.get("detected", []), strict=False))
        lines.append(f"- resolution: {_resolution_cell(r)} — smallest planted strength detected with "
                     f"{_num(res.get('power'), 2)} power at n = {res.get('n')} ({res.get('label') or 'power curve'}; "
                     f"detected/repeats: {pairs})")
    else:
        lines.append("- resolution: not measured")
    lines.append(f"- verdict: **{r.verdict}**" + (f" — {r.verdict_reason}" if r.verdict_reason else ""))
    if _pvalue(r) is not None:
        lines.append(f"- p-value of the verdict's test: {_num(r.verdict_pvalue, 3)}")
    for x in replicates:
        if x.seed != r.seed:
            same = "" if _comparable(r, x) else " (other settings or code: not comparable)"
            lines.append(f"- seed {x.seed}: {x.verdict}, measured {x.measured.fmt()}{same}")
    lines.append(f"- params: {json.dumps(r.params, ensure_ascii=False)}")
    lines.append(f"- seed {r.seed}, {r.threads} torch threads, {_num(r.elapsed_s, 3)} s, commit "
                 f"{r.git_commit or 'unknown'}, code version {r.code_version or 'unknown'}")
    for note in r.notes:
        lines.append(f"- note: {note}")
    table = out_dir / f"{r.claim}-table.md"  # a claim's own tables (the training claims write one), inline
    if table.is_file():
        text = table.read_text().strip().splitlines()
        lines += ["", f"Tables (also in [`{table.name}`]({table.name})):", ""]
        lines += [f"##{line}" if line.startswith("#") else line for line in text]  # headings under the section
    if r.measurements:
        lines += ["", "<details><summary>measurements</summary>", "", "```json",
                  json.dumps(r.measurements, indent=1, ensure_ascii=False)[:20000], "```", "", "</details>"]
    power = [f for f in r.figures if "power" in Path(f).stem]
    if power:
        lines += ["", "Power curve of the verdict's attack:"]
    for fig in power + [f for f in r.figures if f not in power]:
        lines += ["", f"![{Path(fig).stem}]({fig})"]
    lines.append("")
    return lines
