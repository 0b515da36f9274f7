"""The table and the figure of the claim ``agl17-mixgan`` (``docs/papers/agl17.md``, "MIX+GAN"): modes, % high
quality, reverse KL and the empirical equilibrium gap per run (k = 1 and each arm's mixture), as mean ± s.d.
[interval] over seeds, beside the target's own draws and the diffuse baseline, computed from the run's trials.
"""

from __future__ import annotations

import math

import numpy as np

from .._lab_tables import TARGET_TITLES, aggregate, aggregate_cell

__all__ = ["aggregate_k", "table_markdown", "modes_vs_k_figure"]


def aggregate_k(trials: list[dict], *, n_modes: int, confidence: float) -> dict:
    """Per-metric aggregates over the seeds of one (target, k): modes, high quality, reverse KL and the gap
    (log payoff and identity form), each from :func:`aggregate` clipped to the metric's range."""
    finals = [t["final"] for t in trials]
    return {
        "modes": aggregate([f["modes"] for f in finals], confidence=confidence, low=0, high=n_modes),
        "high_quality": aggregate([f["high_quality"] for f in finals], confidence=confidence, low=0, high=1),
        "reverse_kl": aggregate([math.nan if f["reverse_kl"] is None else f["reverse_kl"] for f in finals],
                                confidence=confidence, low=0, high=math.log(n_modes)),
        "gap_log": aggregate([t["gap"]["log_payoff"]["estimate"] for t in trials], confidence=confidence,
                             low=-2 * math.log(10), high=2 * math.log(2)),
        "gap_identity": aggregate([t["gap"]["identity"]["estimate"] for t in trials], confidence=confidence,
                                  low=-1, high=1),
    }


def table_markdown(target: str, rows: dict, budget: dict, regime: dict | None = None, *, n_seeds: int,
                   confidence: float) -> str:
    """One target's table: the target's own draws and the diffuse baseline first (the regime's reference rows), then
    per run (``"k=1"``, ``"k=5 paper"``, ``"k=5 equal"``) the metrics (mean ± s.d. [two-sided Student interval] over
    seeds), the runs in regime, the steps trained (settled horizon) and the budget (component width, parameters,
    steps per second)."""
    lines = [f"**{TARGET_TITLES.get(target, target)}** — mean ± s.d. [{confidence:.0%} Student interval] over "
             f"{n_seeds} seeds; gap = payoff of a fresh best-response discriminator minus V (log payoff, phi = log "
             "clipped at 0.1; identity: distinguishing probability)", "",
             "| run | modes | %HQ | reverse KL | gap (log payoff) | gap (identity) | in regime | steps | component "
             "width | G / D parameters | steps/s |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    if regime is not None:
        lines.append(f"| target's own draws | {regime['target_modes_mean']:.1f} | "
                     f"{100 * regime['target_high_quality_mean']:.1f} | — | — | — | — | — | — | — | — |")
        lines.append(f"| uniform over the box | {regime['diffuse_modes_mean']:.1f} | "
                     f"{100 * regime['diffuse_high_quality_mean']:.1f} | — | — | — | — | — | — | — | — |")
    for key, agg in rows.items():
        b = budget[key]
        ok = "—" if regime is None else sum(bool(v["in_regime"]) for v in regime["runs"][key])
        lines.append(f"| {key} | {aggregate_cell(agg['modes'])} | {aggregate_cell(agg['high_quality'], 100.0)} | "
                     f"{aggregate_cell(agg['reverse_kl'], digits=2)} | {aggregate_cell(agg['gap_log'], digits=3)} | "
                     f"{aggregate_cell(agg['gap_identity'], digits=3)} | {ok}/{n_seeds} | "
                     f"{', '.join(str(x) for x in b['steps'])} | {b['width']} | {b['params_g']} / {b['params_d']} | "
                     f"{b['steps_per_s']:.0f} |")
    return "\n".join(lines)


def modes_vs_k_figure(out_dir, name: str, per_target: dict, *, n_modes: dict) -> str:
    """Top row: modes captured per run (k = 1, then each arm's mixtures) and target, every seed (dots, a line per
    seed: runs are paired by seed) and the mean with its s.d.; bottom row: the equilibrium gap (log payoff) of every
    seed with its Hoeffding interval.

    ``per_target[target][run]``: the trials (dicts with ``final`` and ``gap``) of that run, in seed order.
    """
    from ..._figures import new_figure, save_figure

    targets = list(per_target)
    fig, axes = new_figure(len(targets), 2, width=4.2, height=3.0)
    for c, target in enumerate(targets):
        runs = list(per_target[target])
        xs = list(range(len(runs)))
        modes = np.asarray([[t["final"]["modes"] for t in per_target[target][r]] for r in runs], float)  # (run, seed)
        ax = axes[0, c]
        for s in range(modes.shape[1]):
            ax.plot(xs, modes[:, s], "o-", color="C0", alpha=0.35, lw=0.8, ms=3)
        mean = modes.mean(1)
        sd = modes.std(1, ddof=1) if modes.shape[1] > 1 else np.zeros_like(mean)
        ax.errorbar(xs, mean, yerr=sd, fmt="s", color="C3", capsize=3, label="mean ± s.d. over seeds")
        ax.axhline(n_modes[target], color="grey", ls=":", label=f"all {n_modes[target]} modes")
        ax.set_xticks(xs, runs, fontsize=7)
        ax.set_ylabel("modes captured")
        ax.set_ylim(-0.5, n_modes[target] + 0.8)
        ax.set_title(TARGET_TITLES.get(target, target), fontsize=9)
        ax.legend(fontsize=7)
        ax = axes[1, c]
        for i, r in enumerate(runs):
            for s, t in enumerate(per_target[target][r]):
                g = t["gap"]["log_payoff"]
                x = i + 0.08 * (s - (len(per_target[target][r]) - 1) / 2)
                ax.errorbar([x], [g["estimate"]], yerr=[[g["estimate"] - g["ci_low"]], [g["ci_high"] - g["estimate"]]],
                            fmt="o", color=f"C{i}", capsize=2, ms=3)
        ax.axhline(0.0, color="k", lw=0.8, ls="--", label="0: no gain (equilibrium)")
        ax.axhline(2 * math.log(2), color="grey", ls=":", label="2 log 2: perfectly separated")
        ax.legend(fontsize=7)
        ax.set_xticks(xs, runs, fontsize=7)
        ax.set_ylabel("best-response gain over V (log payoff)")
        ax.set_title("empirical equilibrium gap (95% Hoeffding)", fontsize=9)
    return save_figure(fig, out_dir, name)
