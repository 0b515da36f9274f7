"""REPORT.md, generated from the per-claim JSON files (never typed by hand).

Layout of a results folder (``docs/design.md``): ``<claim>.json`` is the canonical result of each claim (the run's
primary seed), with its figures and sweep logs beside it; ``seeds/seed-<S>/<claim>.json`` hold the same claim at
the extra seeds of a full reproduction (each such folder a complete results folder of its own);
``superseded/`` keeps results replaced by a run of another identity; ``*.corrupt-<n>`` are unreadable files set
aside. :func:`write_report` reads whatever the folder holds, so calling it after every change keeps REPORT.md
current.

The report is for reading: per claim a few lines — statement, bound, measurement, the near-boundary control with
its certified true value, the resolution of the verdict's attack, the verdict and its reason, links to the figures —
and the claim's own tables (``<claim>-table.md``). Raw measurements stay in the JSON files. A quick run is labelled
as the low-power smoke run it is. The family-wise statement is Holm's step-down procedure over the claims with a
statistical verdict, each p-value that of the null its verdict rejects.

Claim-written text (summaries, reasons, tables) is shown as prose: a Python boolean reads "yes"/"no", and a quoted
verdict word inside it, which describes one measurement against the bound rather than the claim's verdict, reads as
that measurement (:func:`plain`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ganlimits.theory import CLAIMS

from ._results import ClaimResult, CorruptResult, Estimate, read_result, write_text_atomic

__all__ = ["load_results", "load_replicates", "write_report", "holm"]

FAMILY_ALPHA = 0.05
"""Family-wise error rate of the report's multiple-testing statement (1 - the claims' 95% confidence)."""

QUICK_LABEL = "quick setting: a low-power smoke run"
"""How a quick result is labelled wherever it is shown (report, CLI): its verdicts are not the reproduction's."""

QUICK_NOTE = (
    "**Quick setting: a low-power smoke run.** Every claim ran at its small setting (`--quick`), which checks that "
    "the whole pipeline runs in minutes. Its samples are too few to catch most near-boundary controls and its "
    "power curves too short for a resolution (14 repeats per strength are needed), so most verdicts are honestly "
    "`inconclusive` here. The reproduction's verdicts come from the full setting (`make reproduce`)."
)

_NULL_REJECTED = {"consistent": "the bound is violated", "refuted": "the bound holds"}
_VERDICT_ORDER = ("consistent", "holds", "inconclusive", "refuted", "fails")


def _scan(out_dir: Path, problems: list[str] | None, set_aside: bool = True) -> list[ClaimResult]:
    found = []
    for cid in CLAIMS:
        path = out_dir / f"{cid}.json"
        if not path.exists():
            continue
        try:
            found.append(read_result(path, set_aside=set_aside))
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
    return _replicates(Path(out_dir), problems)


def _replicates(out_dir: Path, problems: list[str] | None, set_aside: bool = True) -> dict[str, list[ClaimResult]]:
    out: dict[str, list[ClaimResult]] = {}
    root = out_dir / "seeds"
    if not root.is_dir():
        return out
    folders = sorted((p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"seed-\d+", p.name)),
                     key=lambda p: int(p.name[5:]))
    for folder in folders:
        for r in _scan(folder, problems, set_aside):
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


# ---- text helpers ----------------------------------------------------------------------------------------------

_BOOLEAN = re.compile(r"\b(True|False|None)\b")
_WORDS = {"True": "yes", "False": "no", "None": "none"}
_QUOTED_VERDICT = re.compile(r"""(['"])(consistent|refuted|inconclusive)\1""")
_AS_MEASUREMENT = {"consistent": "within the bound", "refuted": "beyond the bound", "inconclusive": "undecided"}


def plain(text: Any) -> str:
    """Claim-written text as report prose: a Python boolean as a word, a quoted verdict word as the measurement it
    describes (the attack's limit against the bound at one setting, not the claim's verdict).

    >>> plain("exact 0.1 > delta: True; plateau: False; resolution None")
    'exact 0.1 > delta: yes; plateau: no; resolution none'
    >>> plain("'consistent' from m = 65536 on")
    'within the bound from m = 65536 on'
    """
    text = _QUOTED_VERDICT.sub(lambda m: _AS_MEASUREMENT[m.group(2)], str(text))
    return _BOOLEAN.sub(lambda m: _WORDS[m.group(1)], text)


def _num(value: Any, digits: int = 4) -> str:
    if isinstance(value, bool) or value is None:
        return "—"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            return "not measured"
        return f"{value:,}" if isinstance(value, int) else f"{value:.{digits}g}"
    return plain(value)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def format_bound(bound: dict) -> str:
    """One cell: the bound's name (when given) and its value."""
    if not bound:
        return "—"
    value = bound.get("value")
    label = plain(bound.get("label") or bound.get("name") or "")
    text = _num(value) if value is not None else "not stated"
    return f"{label}: {text}" if label else text


def _estimate(d: Any) -> Estimate | None:
    if isinstance(d, Estimate):
        return d
    if not isinstance(d, dict):
        return None
    try:
        return Estimate(**{k: (float("nan") if v is None and k in ("estimate", "ci_low", "ci_high") else v)
                           for k, v in d.items() if k in Estimate.__dataclass_fields__})
    except (TypeError, ValueError):
        return None


def _short(e: Estimate | None) -> str:
    """An estimate in a table cell: value and interval, no level (the level is stated in the section)."""
    if e is None:
        return "—"
    if e.ci_low == e.ci_high:
        return f"{_num(e.estimate, 3)} (exact)" if e.method == "exact" else _num(e.estimate, 3)
    return f"{_num(e.estimate, 3)} [{_num(e.ci_low, 3)}, {_num(e.ci_high, 3)}]"


def _measured(e: Estimate) -> str:
    if e.method == "exact" or (e.ci_low == e.ci_high and e.confidence == 1.0):
        return f"{_num(e.estimate)} (exact)"
    return f"{plain(e.fmt())}" + (f"; {plain(e.method)}" if e.method else "")


def _near(r: ClaimResult) -> dict | None:
    near = r.measurements.get("near_boundary_control") if isinstance(r.measurements, dict) else None
    return near if isinstance(near, dict) else None


def _ratio_text(lo: float, hi: float) -> str:
    return f"{_num(lo, 2)}×" if math.isclose(lo, hi, rel_tol=1e-6) else f"{_num(lo, 2)}–{_num(hi, 2)}×"


def _certified(near: dict) -> tuple[str, tuple[float, float] | None]:
    """The certified true value of a control in words, and its interval in multiples of the bound."""
    lo, hi = near.get("truth_low"), near.get("truth_high")
    ratio = near.get("ratio_interval")
    ratios = (float(ratio[0]), float(ratio[1])) if isinstance(ratio, (list, tuple)) and len(ratio) == 2 else None
    if isinstance(lo, (int, float)) and isinstance(hi, (int, float)):
        low_cert, high_cert = plain(near.get("lower_certificate", "")), plain(near.get("upper_certificate", ""))
        if math.isclose(lo, hi, rel_tol=1e-12, abs_tol=1e-15):
            how = low_cert if low_cert == high_cert else f"lower end: {low_cert}; upper end: {high_cert}"
            return f"true value {_num(lo, 4)} ({how})", ratios
        return f"true value in [{_num(lo, 4)}, {_num(hi, 4)}] (lower end: {low_cert}; upper end: {high_cert})", ratios
    # a result written before controls were certified from both sides: one value, one account of it
    truth = near.get("true_value")
    if ratios is None and isinstance(near.get("ratio"), (int, float)):
        ratios = (float(near["ratio"]), float(near["ratio"]))
    how = plain(near.get("truth", "")) or "not stated"
    return f"true value {_num(truth, 4)} ({how}; no upper certificate recorded)", ratios


def _catch_text(measured: Estimate | None, bound: Any, direction: str, caught: Any) -> str:
    """How the verdict's own attack fared against the control, in one sentence."""
    if not isinstance(caught, bool):
        return "Whether the verdict's attack caught it is not recorded."
    word = "caught" if caught else "missed"
    if measured is None or not isinstance(bound, (int, float)):
        return f"The verdict's attack {word} it."
    if measured.ci_low == measured.ci_high:
        side = ("below" if measured.estimate < bound else "not below") if direction == "lower" else \
            ("above" if measured.estimate > bound else "not above")
        return f"Computed exactly: {_num(measured.estimate, 4)}, {side} the bound {_num(bound, 4)} ({word})."
    if direction == "lower":
        side, limit, rel = "upper", measured.ci_high, ("lies below" if caught else "is not below")
    else:
        side, limit, rel = "lower", measured.ci_low, ("lies above" if caught else "does not exceed")
    return (f"The verdict's attack measured {plain(measured.fmt())} and {word} it: its {side} limit "
            f"{_num(limit, 3)} {rel} the bound {_num(bound, 4)}.")


def _control_line(r: ClaimResult) -> str:
    near = _near(r)
    if near is not None:
        truth, ratios = _certified(near)
        if ratios is not None:
            base = near.get("baseline") or 0.0
            truth += f", {_ratio_text(*ratios)} the bound" + (f" from the baseline {_num(base, 4)}" if base else "")
        measured = _estimate(near.get("measured")) or r.control
        caught = _catch_text(measured, near.get("bound"), near.get("direction", "upper"), near.get("caught"))
        return f"{plain(near.get('name', 'planted case'))}: {truth}. {caught}"
    if r.control is not None:
        truth = f"true value {_num(r.control_true_value, 4)}; " if r.control_true_value is not None else ""
        caught = {True: "caught", False: "missed", None: "whether it was caught is not recorded"}[r.control_caught]
        return f"{truth}measured {plain(r.control.fmt())}: {caught} (no certified true value recorded)"
    return "none recorded"


def _control_cell(r: ClaimResult) -> str:
    near = _near(r)
    caught = near.get("caught") if near is not None else r.control_caught
    if near is None and r.control is None:
        return "—"
    word = {True: "caught", False: "missed"}.get(caught, "not recorded") if isinstance(caught, bool) else "—"
    if near is not None:
        _, ratios = _certified(near)
        if ratios is not None:
            return f"{word} ({_ratio_text(*ratios)} bound)"
    return word


def _resolution_line(res: dict | None) -> str:
    if not isinstance(res, dict):
        return "not measured"
    repeats = res.get("repeats")
    pairs = ", ".join(f"{d}/{repeats} at {_num(s, 3)}"
                      for s, d in zip(res.get("strengths", []), res.get("detected", []), strict=False))
    where = f"n = {_num(res.get('n'))}" + (f"; power curve: {plain(res['label'])}" if res.get("label") else "")
    power = res.get("power", 0.8)
    if res.get("resolution") is None:
        need = res.get("min_repeats", 14)
        short = f"; {repeats} repeats per strength, at least {need} are needed" if isinstance(repeats, int) and \
            isinstance(need, int) and repeats < need else ""
        return (f"none — no planted strength was detected with a 95% lower limit of {_num(power, 2)} on the detection "
                f"rate{short} (detected {pairs}; {where})")
    factor = res.get("resolution_factor")
    times = f" ({_num(factor, 2)}× the bound)" if isinstance(factor, (int, float)) else ""
    return (f"{_num(res['resolution'], 3)}{times}: the smallest planted strength detected with a 95% lower limit of "
            f"{_num(power, 2)} on the detection rate (detected {pairs}; {where})")


def _resolution_cell(r: ClaimResult) -> str:
    res = r.resolution
    if not isinstance(res, dict):
        return "—"
    factor = res.get("resolution_factor")
    if res.get("resolution") is None:
        return "none"
    return f"{_num(factor, 2)}× bound" if isinstance(factor, (int, float)) else _num(res["resolution"], 3)


def _pvalue(r: ClaimResult) -> float | None:
    p = r.verdict_pvalue
    if r.verdict not in _NULL_REJECTED or isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        return None
    return float(p)


def _comparable(a: ClaimResult, b: ClaimResult) -> bool:
    keys = ("settings", "code_version")
    return bool(a.identity) and all(a.identity.get(k) == b.identity.get(k) for k in keys)


def _figure_label(claim: str, fig: str) -> str:
    stem = Path(fig).stem
    for sep in ("_", "-"):
        if stem.startswith(claim + sep):
            stem = stem[len(claim) + 1:]
    return stem.replace("_", " ").replace("-", " ").strip() or Path(fig).stem


def verdict_counts(verdicts: Iterable[str]) -> str:
    """``"3 consistent, 1 holds, 2 inconclusive"`` (in a fixed order; verdicts that did not occur are left out).

    >>> verdict_counts(["inconclusive", "consistent", "inconclusive", "holds"])
    '1 consistent, 1 holds, 2 inconclusive'
    """
    counts = Counter(verdicts)
    order = list(_VERDICT_ORDER) + sorted(set(counts) - set(_VERDICT_ORDER))
    return ", ".join(f"{counts[v]} {v}" for v in order if counts[v]) or "none"


# ---- the report ------------------------------------------------------------------------------------------------

def render_report(out_dir: str | Path, *, title: str = "ganlimits reproduction report", figure_prefix: str = "",
                  inline_figures: bool = False, set_aside: bool = True) -> str:
    """The report's Markdown for the results in ``out_dir`` (what :func:`write_report` writes).

    ``figure_prefix`` is put before every figure path (a page elsewhere links the figures where it copied them);
    ``inline_figures`` shows them as images instead of links; ``set_aside=False`` leaves unreadable files where they
    are (a reader that must not change the folder)."""
    out_dir = Path(out_dir)
    problems: list[str] = []
    results = _scan(out_dir, problems, set_aside)
    replicates = _replicates(out_dir, problems, set_aside)
    lines = [f"# {title}", ""]
    if not results:
        lines += ["No claim results found.", ""]
    else:
        lines += _header(results, replicates)
        lines += _family_wise(results)
        lines += _spread(results, replicates)
    if problems:
        lines += ["## Files set aside", ""] + [f"- {_cell(p)}" for p in problems] + [""]
    superseded = sorted((out_dir / "superseded").glob("*.json")) if (out_dir / "superseded").is_dir() else []
    if superseded:
        lines += [f"{len(superseded)} earlier result(s) of another identity are kept in `superseded/` and not "
                  "reported.", ""]
    for r in results:
        lines += _section(r, replicates.get(r.claim, []), out_dir, figure_prefix, inline_figures)
    return "\n".join(lines).rstrip("\n") + "\n"


def write_report(out_dir: str | Path, *, title: str = "ganlimits reproduction report") -> Path:
    """Write ``<out_dir>/REPORT.md`` from the JSON files the folder holds: the setting (a quick run is labelled a
    low-power smoke run), the verdict counts and a summary table, the family-wise statement, the spread over seeds,
    then a few lines per claim (statement, bound, measurement, control with its certified true value, resolution,
    verdict and reason, figure links) and the claim's own tables (``<claim>-table.md``, when it wrote one)."""
    return write_text_atomic(Path(out_dir) / "REPORT.md", render_report(out_dir, title=title))


def _header(results: list[ClaimResult], replicates: dict[str, list[ClaimResult]]) -> list[str]:
    quick = {r.quick for r in results}
    mode = "quick" if quick == {True} else "full" if quick == {False} else "mixed quick and full"
    seeds = sorted({r.seed for r in results} | {x.seed for xs in replicates.values() for x in xs})
    commits = sorted({(r.git_commit or "unknown")[:12] for r in results})
    lines = [f"> {QUICK_NOTE}", ""] if True in quick else []
    lines += [
        f"{len(results)} claims, {mode} setting, seed{'s' if len(seeds) > 1 else ''} "
        f"{', '.join(map(str, seeds))}, commit {', '.join(commits)}. Verdicts: "
        f"{verdict_counts(r.verdict for r in results)}.",
        "",
        "`consistent`: the verdict's attack keeps its confidence limit within the bound, the same attack caught a "
        "planted control certified to lie 1.5 to 3 times beyond the bound, and it resolves violations within 3 times "
        "the bound; `refuted`: the limit on the other side lies beyond the bound; `inconclusive`: neither, or the "
        "attack lacked the power to tell; `holds`/`fails`: exact identities. Intervals are 95% unless stated.",
        "",
        "| claim | verdict | measured | bound | control | resolution |",
        "|---|---|---|---|---|---|",
        *(f"| `{r.claim}` | **{r.verdict}**{' (quick)' if r.quick and mode != 'quick' else ''} | "
          f"{_cell(_short(r.measured))} | {_cell(format_bound(r.bound))} | {_cell(_control_cell(r))} | "
          f"{_cell(_resolution_cell(r))} |" for r in results),
        "",
    ]
    return lines


def _family_wise(results: list[ClaimResult]) -> list[str]:
    family = [r for r in results if CLAIMS[r.claim].kind != "identity"]
    given = {r.claim: p for r in family if (p := _pvalue(r)) is not None}
    lines = ["## Family-wise error", ""]
    if not family:
        return lines + ["No claim has a statistical verdict, so there is no family to correct for.", ""]
    if not given:
        return lines + [f"No claim with a statistical verdict ({len(family)} here) rejects a null (no p-value), so no "
                        "family-wise statement can be made.", ""]
    # Claims without a p-value stay in the family as never rejected (p taken as 1): leaving them out would let the
    # run's own outcome shrink the correction.
    adjusted = holm({r.claim: given.get(r.claim, 1.0) for r in family})
    verdict = {r.claim: r.verdict for r in family}
    lines += [
        f"Each verdict is taken at 95% confidence on its own. The family is the {len(family)} claims with a "
        f"statistical verdict; a `consistent` verdict rejects the null \"the bound is violated\", a `refuted` one the "
        f"null \"the bound holds\", and the p-value below is that of the rejected null. Holm's step-down procedure "
        f"keeps the family-wise error rate at {FAMILY_ALPHA:g}; claims without a p-value (no null rejected) count as "
        "never rejected. Each null is the one its verdict chose; each claim's two nulls exclude each other, so its "
        "own error rate is that of its test, and Holm's adjustment over such chosen nulls holds up to terms of order "
        f"{FAMILY_ALPHA:g}² (Bonferroni, p × {len(family)} ≤ {FAMILY_ALPHA:g}, holds exactly).",
        "",
        f"| claim | verdict | null rejected | p-value | Holm-adjusted | rejected at family-wise {FAMILY_ALPHA:g} |",
        "|---|---|---|---|---|---|",
        *(f"| `{c}` | {verdict[c]} | {_NULL_REJECTED[verdict[c]]} | {_num(given[c], 3)} | "
          f"{_num(adjusted[c][0], 3)} | {'yes' if adjusted[c][1] else 'no'} |" for c in adjusted if c in given),
        "",
    ]
    none = [r.claim for r in family if r.claim not in given]
    if none:
        lines += [f"No null rejected (no p-value): {', '.join(f'`{c}`' for c in none)}.", ""]
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
    if lines[-1].startswith("|---"):
        return lines[:3] + ["No extra seed has the settings and code version of its canonical result.", ""]
    return lines + [""]


def _section(r: ClaimResult, replicates: list[ClaimResult], out_dir: Path, prefix: str, inline: bool) -> list[str]:
    claim = CLAIMS[r.claim]
    lines = [f"## `{r.claim}` — {r.verdict}", "", f"*{plain(r.source)}.* {plain(claim.statement)}", ""]
    lines.append(f"- **Bound:** {format_bound(r.bound)}")
    lines.append(f"- **Measured:** {_measured(r.measured)}")
    if r.summary:
        lines.append(f"- **Summary:** {plain(r.summary)}")
    if claim.kind != "identity" or r.control is not None or _near(r) is not None:
        lines.append(f"- **Control:** {_control_line(r)}")
    if claim.kind != "identity" or isinstance(r.resolution, dict):
        lines.append(f"- **Resolution:** {_resolution_line(r.resolution)}")
    reason = f" — {plain(r.verdict_reason)}" if r.verdict_reason else ""
    quick = (" (quick setting)" if claim.kind == "identity" else f" ({QUICK_LABEL})") if r.quick else ""
    lines.append(f"- **Verdict: {r.verdict}**{reason}{quick}")
    p = _pvalue(r)
    if p is not None:
        lines.append(f"- **p-value** of the rejected null (\"{_NULL_REJECTED[r.verdict]}\"): {_num(p, 3)}")
    for x in replicates:
        if x.seed != r.seed:
            same = "" if _comparable(r, x) else " (other settings or code: not comparable)"
            lines.append(f"- **Seed {x.seed}:** {x.verdict}, measured {plain(x.measured.fmt())}{same}")
    if r.figures:
        if inline:
            lines.append("- **Figures:** below")
        else:
            links = ", ".join(f"[{_figure_label(r.claim, f)}]({prefix}{f})" for f in r.figures)
            lines.append(f"- **Figures:** {links}")
    t = r.elapsed_s
    elapsed = f"{t:.1f} s" if isinstance(t, (int, float)) and math.isfinite(t) else "time not recorded"
    lines.append(f"- **Run:** seed {r.seed}, {r.threads} torch thread{'s' if r.threads != 1 else ''}, {elapsed}, "
                 f"commit {(r.git_commit or 'unknown')[:12]}; settings, notes and every measurement in "
                 f"`{r.claim}.json`")
    table = out_dir / f"{r.claim}-table.md"  # a claim's own tables (the training claims write one), inline
    if table.is_file():
        text = table.read_text(encoding="utf-8").strip().splitlines()
        lines += ["", f"Tables of `{r.claim}` (from `{table.name}`):", ""]
        lines += _under_section(text)
    if inline and r.figures:
        for fig in r.figures:
            lines += ["", f"![{_figure_label(r.claim, fig)}]({prefix}{fig})"]
    lines.append("")
    return lines


def _under_section(text: list[str]) -> list[str]:
    """A claim's own Markdown under its section: its top heading level becomes ``###`` (and the others follow), so
    that no heading level is skipped; every line as prose (:func:`plain`)."""
    levels = [len(m.group(1)) for line in text if (m := re.match(r"(#+)\s", line))]
    shift = 3 - min(levels) if levels else 0
    return [("#" * (len(m.group(1)) + shift) + line[len(m.group(1)):] if (m := re.match(r"(#+)\s", line)) else line)
            for line in map(plain, text)]


def report_for_docs(text: str, prefix: str) -> str:
    """REPORT.md as a page of the documentation, which lives in another folder than the results: figure links and
    images point into ``prefix`` (the results folder seen from the page, e.g. ``"../results/"``), and a link to a
    Markdown or JSON file of the results folder (which Sphinx would take for a cross-reference to a page it does
    not have) becomes the file's name.

    >>> report_for_docs("[power](a_power.png), [t](a-table.md), ![x](b.png), [w](https://x.org/a.md)", "../results/")
    '[power](../results/a_power.png), `a-table.md`, ![x](../results/b.png), [w](https://x.org/a.md)'
    """
    local = r"(?![a-z][a-z0-9+.-]*:|/|#)"
    text = re.sub(rf"(?<!!)\[([^\]]*)\]\({local}([^)\s]+\.(?:md|json|jsonl))\)", r"`\2`", text)
    return re.sub(rf"(!?\[[^\]]*\])\({local}([^)\s]+)\)", lambda m: f"{m.group(1)}({prefix}{m.group(2)})", text)
