"""Figure of claim ``arz-codes`` (Arora, Risteski & Zhang 2017, Theorem 1 (b); ``docs/papers/arz17.md``)."""

from __future__ import annotations

from ..._figures import new_figure, save_figure

__all__ = ["codes_figure"]


def codes_figure(probe: dict, recon: dict, chance: float, margin: float, out_dir) -> str:
    """Left: the probe's accuracy on E(x) (one-sided limits) against chance and chance + margin. Right: the
    reconstruction ratio and the oracle's against the random-pair baseline. Saved as ``arz-codes_probe.png``."""
    fig, axes = new_figure(ncols=2)
    ax = axes[0][0]
    est = probe["accuracy"]
    ax.errorbar([0], [est.estimate], yerr=[[est.estimate - est.ci_low], [est.ci_high - est.estimate]], fmt="o",
                capsize=4, color="C0", label="probe of E(x) (one-sided 95% limits)")
    ax.axhline(chance, color="k", ls="--", lw=1, label=f"chance {chance:.4f}")
    ax.axhline(chance + margin, color="C3", ls=":", lw=1, label=f"bound: chance + margin {margin:g}")
    ax.set_xticks([])
    ax.set_ylabel("held-out accuracy")
    ax.set_title("logistic-regression probe of the label")
    ax.legend(fontsize=7)
    ax = axes[0][1]
    for i, (label, key) in enumerate([("G(E(x)), memorizing", "ratio"), ("oracle x~ ⊙ E(x)", "oracle_ratio")]):
        r = recon[key]
        ax.errorbar([i], [r["estimate"]], yerr=[[r["estimate"] - r["ci_low"]], [r["ci_high"] - r["estimate"]]],
                    fmt="o", capsize=4, color=f"C{i + 2}", label=label)
    ax.axhline(1.0, color="k", ls="--", lw=1, label="random-pair baseline")
    ax.set_xlim(-0.6, 1.6)
    ax.set_ylim(-0.05, 1.3)
    ax.set_xticks([])
    ax.set_ylabel("mean ||P(x - recon)|| / mean ||P(x - x')||")
    ax.set_title("reconstruction vs random pairs")
    ax.legend(fontsize=7)
    return save_figure(fig, out_dir, "arz-codes_probe")
