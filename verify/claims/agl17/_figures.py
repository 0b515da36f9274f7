"""Figures of the two claims of Arora, Ge, Liang, Ma & Zhang 2017 (``docs/papers/agl17.md``): distance vs support,
the Wasserstein contrast, payoff gap vs mixture size. A private helper of ``agl17-thm31`` and ``agl17-equilibrium``.
"""

from __future__ import annotations

import numpy as np

from ..._figures import new_figure, save_figure


def _errorbar(ax, x, rows, key: str, **kw) -> None:
    d = np.array([[r[key][k] for k in ("estimate", "ci_low", "ci_high")] for r in rows])
    ax.errorbar(np.asarray(x, dtype=float), d[:, 0], yerr=[d[:, 0] - d[:, 1], d[:, 2] - d[:, 0]], capsize=3, ms=3,
                **kw)


def thm31_figure(report: dict, contrast: dict, eps: float, out_dir) -> str:
    """Neural-net distance vs m per target and capacity, and W1 vs m on the 1200-D mixture."""
    fig, axes = new_figure(ncols=len(report) + 1, width=4.8)
    for ax, (tname, rep) in zip(axes[0], report.items(), strict=False):
        for cap in rep["capacities"]:
            _errorbar(ax, [r["m"] for r in cap["rows"]], cap["rows"], "distance", fmt="o-", label=f"p = {cap['p']}")
        ax.axhline(eps, color="k", ls="--", lw=1, label=f"ε = {eps}")
        ax.axhline(0, color="0.6", lw=0.5)
        ax.set_xscale("log")
        ax.set_xlabel("m (atoms of the empirical measure)")
        ax.set_ylabel("neural-net distance to the target (one-sided 95%)")
        ax.set_title(tname, fontsize=9)
        ax.legend(fontsize=6)
    ax = axes[0][-1]
    rows = contrast["rows"]
    if rows:
        m = [r["m"] for r in rows]
        _errorbar(ax, m, rows, "w1_lower", fmt="s-", color="tab:red", label="W1 lower bound (nearest atom)")
        ax.plot(m, [r["w1_exact_to_fresh_sample"] for r in rows], "x:", color="darkred",
                label=f"exact W1 to {contrast['n_w1']} fresh points (ot.emd2)")
        ax.axhline(rows[0]["w1_floor_two_fresh_samples"], color="tab:red", lw=0.8, ls="-.",
                   label="W1 between two fresh samples")
        ax.set_xscale("log")
        ax.set_ylim(bottom=0)
        ax.set_xlabel("m")
        ax.set_ylabel("Wasserstein-1")
        ax.set_title("1200-D mixture: W1(mu_hat_m, mu)", fontsize=9)
        ax.legend(fontsize=6)
    return save_figure(fig, out_dir, "agl17-thm31_distance_vs_m")


def equilibrium_figure(sweep: dict, eps: float, T_verdict: int, measured, out_dir) -> str:
    """Best attacker's payoff gap vs the number T of folded components, with the verdict point."""
    fig, axes = new_figure(ncols=1, width=6.0)
    ax = axes[0][0]
    for tname, sw in sweep.items():
        _errorbar(ax, [r["T"] for r in sw["rows"]], sw["rows"], "gap", fmt="o-", label=tname)
    ax.errorbar([T_verdict], [measured.estimate], yerr=[[measured.estimate - measured.ci_low],
                                                        [measured.ci_high - measured.estimate]],
                fmt="D", color="k", capsize=3, label=f"verdict, T = {T_verdict}")
    ax.axhline(eps, color="k", ls="--", lw=1, label=f"ε = {eps}")
    ax.axhline(0, color="0.6", lw=0.5)
    ax.set_xscale("log")
    ax.set_xlabel("T (mixture components folded into one network)")
    ax.set_ylabel("best attacker's payoff - 2φ(1/2) (one-sided 95%)")
    ax.legend(fontsize=7)
    return save_figure(fig, out_dir, "agl17-equilibrium_gap_vs_T")
