"""The documentation's "Results" page, generated from a results folder of a full reproduction.

``python -m ganlimits.verify._results_page results`` (``make results-page``) writes ``docs/results.md`` — the
report of the run (:func:`ganlimits.verify._report.render_report`, figures shown inline) under a header saying how
it was made: the commit, the machine, the date and the times — and copies the figures into
``docs/results-figures/``. Readers then see the full setting's verdicts without running them. A quick results
folder is refused (its verdicts are a low-power smoke run's); ``--allow-quick`` exists for testing the page itself.

The results record their commit, versions, thread count, machine, finishing time and each claim's wall time; the page
takes the machine from them (``--machine`` overrides; results of older versions, which do not record it, are described
as this command sees the machine it runs on). The date is that of the result files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from ._report import render_report, verdict_counts
from ._results import ClaimResult, machine_description, read_result, write_text_atomic

__all__: list[str] = []

FIGURES = "results-figures"
"""Folder of ``docs/`` that receives the run's figures."""

PLACEHOLDER = """# Results

No full run has been recorded yet. This page shows the verdicts of a full reproduction on the reference machine
(2 CPU cores), with its commit, machine, date and times, so that they can be read without running anything. It is
generated from a results folder, never typed:

    make reproduce       # every claim in its full setting, into results/
    make results-page    # this page (docs/results.md) and its figures (docs/results-figures/) from results/

Until then, `make reproduce-quick` runs every claim in its small setting (a low-power smoke run, minutes) and
[the report page](report.md) shows whichever reproduction this checkout has run.
"""


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h} h {rest // 60:02d} min" if h else f"{rest // 60} min {rest % 60:02d} s"


def _stamp(t: float) -> str:
    return dt.datetime.fromtimestamp(t, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _runs(folder: Path) -> list[tuple[Path, ClaimResult]]:
    """Every readable result of the folder: canonical ones and those of the extra seeds (never moved or renamed)."""
    from ganlimits.theory import CLAIMS

    found = []
    for where in [folder, *sorted((folder / "seeds").glob("seed-*"))]:
        for cid in CLAIMS:
            path = where / f"{cid}.json"
            if path.is_file():
                try:
                    found.append((path, read_result(path, set_aside=False)))
                except ValueError:
                    continue
    return found


def provenance_header(folder: Path, machine: str | None = None) -> list[str]:
    """The lines that say how the results of ``folder`` were made: commit, machine, date, times."""
    runs = _runs(folder)
    if not runs:
        raise ValueError(f"{folder}: no readable claim result (<claim>.json) in this folder")
    canonical = [r for p, r in runs if p.parent == folder]
    commits = sorted({(r.git_commit or "unknown") for _, r in runs})
    elapsed = [r.elapsed_s for _, r in runs if isinstance(r.elapsed_s, (int, float)) and r.elapsed_s == r.elapsed_s]
    written = [p.stat().st_mtime for p, _ in runs]
    started = min(p.stat().st_mtime - (r.elapsed_s if r.elapsed_s == r.elapsed_s else 0.0) for p, r in runs)
    versions = canonical[0].versions if canonical else {}
    threads = sorted({r.threads for _, r in runs})
    recorded_machine = "; ".join(sorted({r.machine for _, r in runs if r.machine}))
    seeds = sorted({r.seed for _, r in runs})
    lines = [
        f"- **Commit:** {', '.join(f'`{c}`' for c in commits)}" + (" (results of several commits)" if len(commits) > 1
                                                                   else ""),
        f"- **Machine:** {machine or recorded_machine or machine_description()}; {', '.join(map(str, threads))} torch "
        "thread(s) per process",
        f"- **Date:** results written {_stamp(min(written))} to {_stamp(max(written))}",
        f"- **Times:** {_clock(max(written) - started)} wall from the first claim's start to the last result "
        f"(≈, from the file times); the claims' own wall times add up to {_clock(sum(elapsed))} over {len(runs)} runs "
        f"({len(canonical)} claims, seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))})",
        f"- **Verdicts (seed {canonical[0].seed if canonical else seeds[0]}):** "
        f"{verdict_counts(r.verdict for r in canonical)}",
    ]
    if versions:
        lines.append("- **Versions:** " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    return lines


def write_results_page(folder: str | Path, docs: str | Path, *, machine: str | None = None,
                       allow_quick: bool = False) -> Path:
    """Write ``<docs>/results.md`` from the results in ``folder`` and copy its figures to ``<docs>/results-figures/``
    (emptied first). Raises ``ValueError`` for a folder without results, or a quick one unless ``allow_quick``."""
    folder, docs = Path(folder), Path(docs)
    runs = _runs(folder)
    if not runs:
        raise ValueError(f"{folder}: no readable claim result (<claim>.json) in this folder")
    quick = sorted({r.claim for p, r in runs if r.quick})
    if quick and not allow_quick:
        raise ValueError(f"{folder}: quick results ({', '.join(quick)}) are a low-power smoke run; the Results page "
                         "shows a full reproduction (make reproduce)")
    figures = docs / FIGURES
    if figures.is_dir():
        shutil.rmtree(figures)
    figures.mkdir(parents=True)
    for path, r in runs:
        if path.parent != folder:
            continue
        for fig in r.figures:
            if (folder / fig).is_file() and Path(fig).name == fig:
                shutil.copy2(folder / fig, figures / fig)
    body = render_report(folder, title="Results", figure_prefix=f"{FIGURES}/", inline_figures=True,
                         set_aside=False)
    title, _, rest = body.partition("\n")
    header = ["", "The verdicts of a full reproduction (`make reproduce`), generated from its results folder by "
              "`make results-page`; every number comes from the JSON result files of that run.", "",
              *provenance_header(folder, machine), ""]
    return write_text_atomic(docs / "results.md", "\n".join([title, *header]) + rest)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ganlimits.verify._results_page RESULTS [--docs DOCS] [--machine TEXT]``."""
    p = argparse.ArgumentParser(prog="python -m ganlimits.verify._results_page",
                                description="Turn the results folder of a full reproduction into the documentation's "
                                            "Results page (docs/results.md) and copy its figures under docs/.")
    p.add_argument("results", type=Path, help="the results folder (make reproduce writes results/)")
    p.add_argument("--docs", type=Path, default=Path("docs"), help="the documentation folder (default docs/)")
    p.add_argument("--machine", default=None, help="describe the machine that ran the reproduction (default: this "
                                                   "one, as /proc/cpuinfo and the platform tell)")
    p.add_argument("--allow-quick", action="store_true", help="accept quick results (to try the page out)")
    a = p.parse_args(argv)
    try:
        page = write_results_page(a.results, a.docs, machine=a.machine, allow_quick=a.allow_quick)
    except ValueError as exc:
        print(f"results page: error: {exc}", file=sys.stderr)
        return 2
    print(f"results page: {page} (figures in {a.docs / FIGURES}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
