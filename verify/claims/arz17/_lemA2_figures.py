"""Figures of claim ``arz-lemA2`` (Arora, Risteski & Zhang 2017, Lemma A.2; ``docs/papers/arz17.md``)."""

from __future__ import annotations

import numpy as np

from ..._figures import new_figure, save_figure

__all__ = ["tail_figure", "variance_figure"]


def tail_figure(per_d: dict, names, *, grid, mcd, R: int, m: int, out_dir) -> str:
    """Empirical tail of f (one-sided Clopper-Pearson band) against McDiarmid's bound, one panel per discriminator;
    saved as ``arz-lemA2_tail.png``."""
    fig, axes = new_figure(ncols=len(names))
    floor = 0.5 / R
    for ax, name in zip(axes[0], names, strict=True):
        test = per_d[name]["test"]
        ax.fill_between(grid, np.maximum(test["cp_low"], floor), test["cp_high"], step="mid", alpha=0.25,
                        color="C0", label="one-sided Clopper-Pearson limits (Bonferroni)")
        ax.step(grid, np.maximum(test["tail"], floor), where="mid", color="C0",
                label=r"empirical $\Pr[|f - \hat{E} f| \geq t + h]$")
        ax.plot(grid, np.minimum(mcd, 1.0), color="C3", label=r"McDiarmid $2e^{-m t^2/(4\Delta^2)}$")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(floor / 2, 1.5)
        ax.set_xlabel("t")
        ax.set_ylabel("tail probability")
        ax.set_title(f"{name} D, m = {m}, R = {R}")
    axes[0][0].legend(fontsize=7, loc="lower left")
    return save_figure(fig, out_dir, "arz-lemA2_tail")


def variance_figure(ms, draws, slope, out_dir) -> str:
    """Var f against m (log-log) with the fitted line and the theory's slope -1; ``arz-lemA2_variance.png``."""
    fig, axes = new_figure()
    ax = axes[0, 0]
    m = np.asarray(ms, dtype=float)
    v = np.array([float(d.var()) for d in draws])
    ax.loglog(m, v, "o", label="Var f (max-variance D)")
    centre = np.exp(np.mean(np.log(v)) + slope.estimate * (np.log(m) - np.mean(np.log(m))))
    ax.loglog(m, centre, "-", label=f"fit: slope {slope.estimate:.3f} [{slope.ci_low:.3f}, {slope.ci_high:.3f}]")
    ax.loglog(m, v[0] * m[0] / m, "--", color="grey", label="slope -1 (theory)")
    ax.set_xlabel("m")
    ax.set_ylabel("Var f")
    ax.set_title("Lemma A.2: Var f against m")
    ax.legend(fontsize=7)
    return save_figure(fig, out_dir, "arz-lemA2_variance")
