"""The verdict rule and the figures of claim ``az17-birthday`` (Arora & Zhang 2017, birthday paradox test;
``docs/papers/az17.md``; the verdict rule of ``docs/design.md``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from ganlimits.theory import uniform_collision_probability

from ..._results import Estimate
from ...estimators.support import HEADLINE_INTERVAL, SUPPORT_INTERVALS
from .._common import NearBoundaryControl, PowerCurve, decide, power_figure

__all__: list[str] = []

COVERAGE_ALPHA = 0.01
"""A headline interval whose measured coverage falls below the nominal level at this significance (exact one-sided
binomial test) makes the verdict inconclusive."""


def verdict_of(cases: dict[str, Estimate], *, near: NearBoundaryControl | None, power: PowerCurve | None,
               log_factor: float, flags: dict[str, bool], heavy_flagged: bool, exposed: bool, false_positives: int,
               coverage: dict[str, Any], confidence: float, uncertain: list[str] = ()) -> tuple[str, str]:
    """The claim's verdict and its reason.

    ``inconclusive`` when the threshold rule collided on held-out images of unbounded support (no specificity)
    or the headline interval under-covers on the planted supports (one-sided binomial p < ``COVERAGE_ALPHA``);
    ``refuted`` when a known support's ``|log(N_hat/m)|`` has its lower limit beyond ``log F``
    (:func:`~._common.decide`), a known uniform support is flagged non-uniform, the heavy atom is not flagged and
    named, or the witness is not exposed; ``consistent`` when every case is (decide's rule: within the bound,
    near-boundary control caught, resolution <= 3x the bound); ``inconclusive`` otherwise, and also when a known
    support is not certified (``uncertain``: its atoms closer than the threshold, so the support the rule sees is
    not known exactly).
    """
    if false_positives:
        return "inconclusive", (f"the threshold rule found {false_positives} duplicate(s) among held-out jittered "
                                "digits (unbounded support): it lacks specificity")
    covered = int(round(coverage["estimate"] * coverage["n"]))
    p_cov = float(stats.binom.cdf(covered, coverage["n"], confidence))
    if p_cov < COVERAGE_ALPHA:
        return "inconclusive", (f"the {HEADLINE_INTERVAL} interval covered the planted supports {covered}/"
                                f"{coverage['n']} times, below {confidence:.0%} (p = {p_cov:.2g})")
    decided = {name: decide(est, log_factor, control=near, resolution=power, direction="upper")
               for name, est in cases.items()}
    for name, (v, why) in decided.items():
        if v == "refuted":
            return "refuted", f"{name}: {why} (the support estimate is off by more than the factor)"
    wrongly = [k for k, f in flags.items() if f]
    if wrongly:
        return "refuted", f"known uniform support flagged non-uniform: {', '.join(wrongly)}"
    if not heavy_flagged:
        return "refuted", "the law with one heavy atom was not flagged non-uniform with the atom named"
    if not exposed:
        return "refuted", "the Theorem-3 witness was not separated from the data on full vectors"
    if uncertain:
        return "inconclusive", (f"known support not certified (atoms closer than the threshold): "
                                f"{', '.join(uncertain)}")
    for name, (v, why) in decided.items():
        if v == "inconclusive":
            return "inconclusive", f"{name}: {why}"
    head = next(reversed(decided))
    return "consistent", f"every known support recovered within the factor; {decided[head][1]}"


def figures(rows: list[dict[str, Any]], coverage: dict[str, Any], power: PowerCurve, out_dir: Path) -> list[str]:
    """Collision curves against the uniform model, the power curve, and coverage vs width of the intervals."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    from ..._figures import new_figure, save_figure

    fig, axes = new_figure(ncols=2, width=5.5, height=4.0)
    ax = axes[0][0]
    shown = [r for r in rows if r["kind"] in ("memorized", "witness") and r.get("role") is None]
    for r, col in zip(shown, [f"C{i}" for i in range(10)], strict=False):
        m = r["m"]
        s = np.array(r["sizes"], float)
        p = np.array(r["counts"]) / r["repeats"]
        label = f"memorizing m={m}" if r["kind"] == "memorized" else f"witness m={m}, {r['coords']} coords"
        ax.plot(s / np.sqrt(m), p, "o", ms=3, color=col, label=label)
        fine = np.geomspace(s.min(), s.max(), 100)
        ax.plot(fine / np.sqrt(m), uniform_collision_probability(N=m, s=fine), "-", lw=0.8, color=col)
    ax.axhline(0.5, color="grey", lw=0.7, ls=":")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel=r"sample size $s/\sqrt{m}$", ylabel="collision rate (lines: uniform on m points)",
           title="full-vector duplicates (held-out threshold)")
    ax.legend(fontsize=6)
    ax = axes[0][1]
    pooled = coverage["pooled"]
    for i, name in enumerate(SUPPORT_INTERVALS):
        cov = pooled[name]["coverage"]
        ax.errorbar(pooled[name]["median_width"], cov["estimate"], fmt="o", color=f"C{i}", capsize=2, label=name,
                    yerr=[[cov["estimate"] - cov["ci_low"]], [cov["ci_high"] - cov["estimate"]]])
    ax.axvline(pooled["fisher_width_median"], color="k", ls="--", lw=0.8, label="efficient width (Fisher)")
    ax.axhline(0.95, color="grey", ls=":", lw=0.8)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set(xlabel="median width ci_high / ci_low", ylabel=f"coverage over {pooled['n']} planted supports (95% CP)",
           title="support intervals: coverage vs width")
    ax.legend(fontsize=6)
    paths = [save_figure(fig, out_dir, "az17-birthday-curves")]
    if power is not None:
        paths.append(power_figure(power, out_dir, "az17-birthday-power", xlabel="planted |log(N / m)|",
                                  title="power: support m F^c attacked as m"))
    return paths
