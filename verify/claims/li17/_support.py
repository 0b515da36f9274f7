# ruff: noqa: E741  (l and r are the lecture's names for the interval ends)
"""What ``li17-dynamics`` draws and plots (Li, Madry, Peebles & Schmidt 2017, via Madry's lecture 9;
``docs/papers/li17.md``): the initial-state law, the Figure 2 discriminator-collapse example and the figures. A
private helper of the claim, kept apart so that the claim module reads as protocol and verdict.
"""

from __future__ import annotations

import numpy as np
import torch

from ...lab.dynamics import (
    OUTCOMES,
    classify_outcomes,
    detect_discriminator_collapse,
    first_order_dynamics,
    mixture_density,
    optimal_discriminator,
    optimal_discriminator_dynamics,
)

MU_STAR = (-0.5, 0.5)  # the lecture's Figure 1 target
ETA = 0.1  # the lecture's Figure 1 step, both players
BOX = 3.0  # initial means and interval ends are drawn from [-BOX, BOX] (the project's own choice)
# Figure 2 of the lecture: mu* = (-2, 2), step 0.3, 1000 steps. The caption's numbers lost their punctuation in
# the seed text ("mu = {-1, 2, 5}", "right discriminator [-1, 2.5]"); reading A is mu0 = (-1, 2.5) with the right
# interval [1, 2.5], reading B is mu0 = (-1.2, 5). Both are run; reading A is the one plotted.
FIG2 = {"mu_star": (-2.0, 2.0), "eta": 0.3, "l0": (-1.0, 1.0), "r0": (0.2, 2.5), "mu0_A": (-1.0, 2.5),
        "mu0_B": (-1.2, 5.0)}
COLOURS = {"converged": "#2b8a3e", "mode-collapse": "#c92a2a", "vanishing-gradient": "#1c7ed6", "other": "#f59f00"}


def _t(x) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


def random_starts(rng: np.random.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """n i.i.d. starts: mu0 ~ Uniform([-BOX, BOX]^2), then the discriminator's ends as the sorted values of four
    i.i.d. Uniform([-BOX, BOX]) draws; returns mu0, l0, r0, each (n, 2)."""
    mu0 = torch.from_numpy(rng.uniform(-BOX, BOX, size=(n, 2)))
    ends = np.sort(rng.uniform(-BOX, BOX, size=(n, 4)), axis=1)
    return mu0, torch.from_numpy(ends[:, [0, 2]]), torch.from_numpy(ends[:, [1, 3]])


def figure2_runs(steps: int) -> dict[str, dict]:
    """Figure 2: the discriminator alone (generator fixed) and first-order dynamics, both readings, plus the
    detector's negative control (discriminator started at the optimum for reading A's fixed generator)."""
    f_ms = _t(FIG2["mu_star"])
    common = {"mu_star": f_ms, "eta_g": FIG2["eta"], "eta_d": FIG2["eta"], "steps": steps}
    out: dict[str, dict] = {}
    for reading in ("A", "B"):
        mu0 = _t([FIG2[f"mu0_{reading}"]])
        out[reading] = {}
        for name, train in (("discriminator-only", False), ("first-order", True)):
            tr = first_order_dynamics(mu0=mu0, l0=_t([FIG2["l0"]]), r0=_t([FIG2["r0"]]), train_generator=train,
                                      **common)
            det = detect_discriminator_collapse(tr)
            out[reading][name] = {"trajectory": tr, "collapsed": bool(det.collapsed[0]),
                                  "first_step": int(det.first_step[0]), "final_mu": tr.mu[-1, 0].tolist(),
                                  "final_l": tr.l[-1, 0].tolist(), "final_r": tr.r[-1, 0].tolist(),
                                  "outcome": str(classify_outcomes(tr).labels[0]) if train else None}
    mu0 = _t([FIG2["mu0_A"]])
    l_opt, r_opt = optimal_discriminator(mu=mu0, mu_star=f_ms)
    tr = first_order_dynamics(mu0=mu0, l0=l_opt.clamp(-12, 12), r0=r_opt.clamp(-12, 12), train_generator=False,
                              **common)
    out["optimal-start"] = {"collapsed": bool(detect_discriminator_collapse(tr).collapsed[0])}
    return out


# ---- figures ----------------------------------------------------------------------------------------------


def _vs_steps(ax, curve, n: int, title: str) -> None:
    steps = [row["steps"] for row in curve.table()]
    for o in OUTCOMES:
        ax.plot(steps, [row[o] / n for row in curve.table()], "o-", color=COLOURS[o],
                label="still moving" if o == "other" else o)
    ax.axvline(curve.horizon, color="k", ls="--", lw=0.8,
               label=f"horizon {curve.horizon}{'' if curve.settled else ' (not settled)'}")
    if len(steps) > 1:
        ax.set_xscale("log")
    else:
        ax.set_xlim(0, 1.5 * steps[0])
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("generator steps")
    ax.set_ylabel(f"share of {n} runs")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=6)


def _k_panel(ax, sweep: list[dict]) -> None:
    ks = [row["k"] for row in sweep]
    for j, o in enumerate(OUTCOMES):
        est = np.array([[row["fractions"][o][key] for key in ("estimate", "ci_low", "ci_high")] for row in sweep])
        x = np.array(ks, dtype=float) * (1 + 0.04 * (j - 1.5))
        ax.errorbar(x, est[:, 0], yerr=[est[:, 0] - est[:, 1], est[:, 2] - est[:, 0]], fmt="o-", capsize=2,
                    color=COLOURS[o], label="still moving" if o == "other" else o)
    ax.set_xscale("log")
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("discriminator steps per generator step k")
    ax.set_ylabel("share at each k's horizon (95% CP)")
    horizons = ", ".join(f"{row['horizon']}{'' if row['settled'] else '*'}" for row in sweep)
    ax.set_title(f"first order, {sweep[0]['n']} starts per k; horizons {horizons} (* not settled)", fontsize=8)
    ax.legend(fontsize=6)


def _heatmap(ax, labels: np.ndarray, k: int, title: str) -> None:
    from matplotlib.colors import ListedColormap

    codes = np.array([OUTCOMES.index(o) for o in labels]).reshape(k, k)
    ax.imshow(codes, origin="lower", extent=(-BOX, BOX, -BOX, BOX), cmap=ListedColormap([COLOURS[o] for o in OUTCOMES]),
              vmin=-0.5, vmax=len(OUTCOMES) - 0.5, interpolation="nearest")
    ax.plot(*MU_STAR, "w*", ms=10)
    ax.plot(*MU_STAR[::-1], "w*", ms=10)
    ax.set_xlabel("initial $\\mu_1$")
    ax.set_ylabel("initial $\\mu_2$")
    ax.set_title(title, fontsize=9)


def li17_figures(config, s, opt, fo, n: int, sweep: list[dict], fig2: dict, curve_a, curve_c) -> list[str]:
    """Outcome shares vs steps and vs k, power curves, the Figure 2 example and (``s.grid`` > 0) outcome maps."""
    from ..._figures import new_figure, save_figure
    from .._common import power_figure

    names = []
    fig, axes = new_figure(3, 1, width=4.4, height=3.6)
    _vs_steps(axes[0, 0], opt, n, "optimal-discriminator dynamics")
    _vs_steps(axes[0, 1], fo, n, "first-order dynamics (k = 1)")
    _k_panel(axes[0, 2], sweep)
    names.append(save_figure(fig, config.out_dir, "li17-dynamics-outcomes"))
    for curve, name in ((curve_a, "optimal"), (curve_c, "first-order")):
        if curve is not None:
            names.append(power_figure(curve, config.out_dir, f"li17-dynamics-power-{name}",
                                      xlabel=f"planted {curve.label} share"))
    if s.grid:
        g = np.linspace(-BOX, BOX, s.grid)
        m1, m2 = np.meshgrid(g, g, indexing="xy")
        starts = torch.from_numpy(np.stack([m1.ravel(), m2.ravel()], axis=1))
        ends = np.sort(np.random.default_rng(0).uniform(-BOX, BOX, size=(starts.shape[0], 4)), axis=1)
        ms = _t(MU_STAR)
        grid_opt = classify_outcomes(optimal_discriminator_dynamics(mu0=starts, mu_star=ms, eta_g=ETA,
                                                                    steps=opt.horizon, record_every=10)).labels
        grid_fo = classify_outcomes(first_order_dynamics(
            mu0=starts, l0=torch.from_numpy(ends[:, [0, 2]]), r0=torch.from_numpy(ends[:, [1, 3]]), mu_star=ms,
            eta_g=ETA, eta_d=ETA, steps=fo.horizon, record_every=10)).labels
        fig, axes = new_figure(2, 1, width=4.6, height=4.2)
        _heatmap(axes[0, 0], grid_opt, s.grid, f"optimal D, {opt.horizon} steps")
        _heatmap(axes[0, 1], grid_fo, s.grid, f"first order, {fo.horizon} steps (fixed random D per cell)")
        names.append(save_figure(fig, config.out_dir, "li17-dynamics-heatmaps"))
    runs = fig2["A"]
    x = torch.linspace(-6, 8, 600, dtype=torch.float64)
    f_ms = _t(FIG2["mu_star"])
    tr_d, tr_f = runs["discriminator-only"]["trajectory"], runs["first-order"]["trajectory"]
    l_opt, r_opt = optimal_discriminator(mu=tr_d.mu[0, 0], mu_star=f_ms)
    states = [("(a) initial", tr_d.mu[0, 0], tr_d.l[0, 0], tr_d.r[0, 0]),
              ("(b) optimal D for (a)", tr_d.mu[0, 0], l_opt, r_opt),
              (f"(c) D alone, {tr_d.steps} steps", tr_d.mu[-1, 0], tr_d.l[-1, 0], tr_d.r[-1, 0]),
              (f"(d) first order, {tr_f.steps} steps", tr_f.mu[-1, 0], tr_f.l[-1, 0], tr_f.r[-1, 0])]
    fig, axes = new_figure(4, 1, width=3.4, height=2.8)
    for ax, (title, mu, l, r) in zip(axes[0], states, strict=True):
        ax.plot(x.numpy(), (mixture_density(x, mu=f_ms) - mixture_density(x, mu=mu)).numpy(), color="k", lw=1.2)
        ax.axhline(0, color="grey", lw=0.6)
        for j in range(2):
            lo, hi = float(l[j].clamp(-6, 8)), float(r[j].clamp(-6, 8))
            ax.axvspan(lo, hi, color="tab:blue", alpha=0.25)
            if hi - lo < 1e-6:  # a collapsed interval
                ax.axvline(lo, color="tab:red", lw=1.5)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("x")
    axes[0, 0].set_ylabel("$p^* - p_\\mu$")
    names.append(save_figure(fig, config.out_dir, "li17-dynamics-discriminator-collapse"))
    return names
