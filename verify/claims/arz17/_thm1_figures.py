"""Figures of the ``arz-thm1`` verdict (Arora, Risteski & Zhang 2017, Theorem 1; ``docs/papers/arz17.md``)."""

from __future__ import annotations

import numpy as np

from ..._figures import new_figure, save_figure

__all__ = ["gap_vs_m_figure"]


def gap_vs_m_figure(grid: list[dict], eps: float, need: dict, main: dict, out_dir) -> str:
    """The verdict attack's gap (one-sided limits) against m on the grid, eps, the theorem's m (both forms), and the
    near-boundary control's certified interval and measured gap; saved as ``arz-thm1_gap_vs_m.png``."""
    fig, axes = new_figure()
    ax = axes[0, 0]
    m = np.array([r["m"] for r in grid], dtype=float)
    est = np.array([r["gap"]["estimate"] for r in grid])
    lo = np.array([r["gap"]["ci_low"] for r in grid])
    hi = np.array([r["gap"]["ci_high"] for r in grid])
    ax.errorbar(m, est, yerr=[est - lo, hi - est], fmt="o-", capsize=3,
                label="memorizing G: verdict attack (one-sided 95% limits)")
    ax.axhline(eps, color="k", ls="--", label=f"eps = {eps:g}")
    ax.axvline(need["paper"], color="C1", ls=":", label=f"theorem's m, paper form {need['paper']:.3g}")
    ax.axvline(need["spec"], color="C2", ls="-.", label=f"theorem's m, explicit form {need['spec']:.3g}")
    control = main.get("control")
    if control is not None:
        c = control.measured
        ax.errorbar([main["m"] * 1.15], [c.estimate], yerr=[[c.estimate - c.ci_low], [c.ci_high - c.estimate]],
                    fmt="s", color="C3", capsize=3, label="near-boundary control, measured")
        ax.axhspan(control.truth_low, control.truth_high, color="C3", alpha=0.15,
                   label=f"near-boundary control, certified gap [{control.truth_low:.3g}, {control.truth_high:.3g}]")
    ax.set_xscale("log")
    ax.set_xlabel("support m of the memorizing generator")
    ax.set_ylabel("best |gap| (identity phi)")
    ax.set_title(f"arz-thm1: verdict attack vs m, p = {need['p']}")
    ax.legend(fontsize=7)
    return save_figure(fig, out_dir, "arz-thm1_gap_vs_m")
