# ruff: noqa: E741  (l and r are the lecture's names for the interval ends)
"""Claim ``li17-dynamics``: optimal-discriminator dynamics converge, first-order dynamics often do not (Li,
Madry, Peebles & Schmidt 2017, as presented in Madry's lecture 9; MATH.md section 4).

Protocol (all float64, seeded through one ``numpy.random.SeedSequence``):

* target mu* = (-0.5, 0.5), step 0.1 for both players, 1,000 steps (the lecture's Figure 1 setting);
* n i.i.d. initial means mu0 ~ Uniform([-3, 3]^2); first-order runs also draw their discriminator: the four
  ends (l_1, r_1, l_2, r_2) are the sorted values of four i.i.d. Uniform([-3, 3]) draws;
* each run is classified by :func:`~ganlimits.verify.classify_outcomes` (criterion recorded in the result) and
  the fractions get Clopper-Pearson intervals (valid because the initial states are i.i.d.);
* verdict: ``consistent`` when the lower 95% limit of the optimal-dynamics converged fraction is >= 0.95
  and the lower limit of the first-order not-converged fraction is >= 0.2 ("often"), the Figure 2 collapse
  example is reproduced and detected, and every control case is classified correctly; ``refuted`` when an
  upper limit falls below its level (0.95, resp. 0.2); ``inconclusive`` otherwise;
* control (power of the classifier and the detector): runs whose outcome is known by construction - a merged
  start (mu_1 = mu_2, which the optimal dynamics cannot separate by symmetry) must be labelled
  mode-collapse, a discriminator placed far from all mass must give vanishing-gradient, an optimal run from
  near the target must be labelled converged, the Figure 2(c) discriminator must be flagged as collapsed,
  and a discriminator started at the optimum for the same fixed generator must not be flagged.

All runs of one dynamics (random draws, heat-map grid, control starts) go through one vectorised call.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from .._registry import RunConfig
from .._results import ClaimResult, Estimate
from ..estimators import clopper_pearson
from ..lab import (
    OUTCOMES,
    Li17Trajectory,
    classify_outcomes,
    detect_discriminator_collapse,
    first_order_dynamics,
    mixture_density,
    optimal_discriminator,
    optimal_discriminator_dynamics,
    outcome_fractions,
)
from ._common import CheckedSettings, make_result, resolve_settings

__all__ = ["run", "Settings"]
MU_STAR = (-0.5, 0.5)
ETA = 0.1
BOX = 3.0
RECORD_EVERY = 5
CONVERGED_MIN = 0.95  # "always converges": lower limit of the converged fraction at least this
NOT_CONVERGED_MIN = 0.2  # "often do not": lower limit of the not-converged fraction at least this
CONFIDENCE = 0.95
# Optimal-dynamics control starts: merged (cannot separate, symmetry) and near the target (converges).
CONTROL_OPT_MU0 = ((0.3, 0.3), (-0.9, 0.8))
# First-order control start: both intervals far left of every mode, so no player has a gradient.
CONTROL_FO = {"mu0": (2.0, 2.6), "l0": (-14.0, -11.0), "r0": (-12.0, -10.0)}
# Figure 2 of the lecture: mu* = (-2, 2), step 0.3, 1000 steps. The caption's numbers lost their punctuation
# in the seed text ("mu = {-1, 2, 5}", "right discriminator [-1, 2.5]"); reading A is mu0 = (-1, 2.5) with
# the right interval [1, 2.5], reading B is mu0 = (-1.2, 5). Both are run; reading A is the one plotted.
FIG2 = {
    "mu_star": (-2.0, 2.0),
    "eta": 0.3,
    "steps": 1000,
    "l0": (-1.0, 1.0),
    "r0": (0.2, 2.5),
    "mu0_A": (-1.0, 2.5),
    "mu0_B": (-1.2, 5.0),
}


@dataclass(frozen=True)
class Settings(CheckedSettings):
    """Settings of ``li17-dynamics``: ``n_runs`` random starts, a ``grid`` x ``grid`` lattice of starts for the
    outcome maps, ``steps`` per run, and ``fig2_steps`` for the lecture's Figure 2 collapse example."""

    n_runs: int
    grid: int
    steps: int
    fig2_steps: int = 1000

    @classmethod
    def quick(cls) -> Settings:
        return cls(n_runs=100, grid=11, steps=1000)

    @classmethod
    def full(cls) -> Settings:
        return cls(n_runs=600, grid=31, steps=1000)


def _t(x) -> torch.Tensor:
    return torch.tensor(x, dtype=torch.float64)


def _random_discriminators(rng: np.random.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    ends = np.sort(rng.uniform(-BOX, BOX, size=(n, 4)), axis=1)
    return torch.from_numpy(ends[:, [0, 2]]), torch.from_numpy(ends[:, [1, 3]])


def _grid(k: int) -> torch.Tensor:
    g = np.linspace(-BOX, BOX, k)
    m1, m2 = np.meshgrid(g, g, indexing="xy")  # row i: mu_2 = g[i]; column j: mu_1 = g[j]
    return torch.from_numpy(np.stack([m1.ravel(), m2.ravel()], axis=1))


def _rows(traj: Li17Trajectory, rows: slice) -> Li17Trajectory:
    return dataclasses.replace(
        traj,
        mu=traj.mu[:, rows],
        l=traj.l[:, rows],
        r=traj.r[:, rows],
        loss=traj.loss[:, rows],
        mu_star=traj.mu_star[rows],
    )


def _first_converged_step(traj: Li17Trajectory, tol: float) -> np.ndarray:
    """First recorded step from which every later record is within ``tol`` of the target (-1 if none)."""
    err = (torch.sort(traj.mu, -1).values - torch.sort(traj.mu_star, -1).values).abs().amax(-1)  # (T, B)
    ok = (err <= tol).numpy()
    stays = np.flip(np.cumprod(np.flip(ok, 0), 0), 0).astype(bool)
    idx = np.where(stays.any(0), stays.argmax(0), -1)
    return np.where(idx >= 0, traj.steps_at.numpy()[np.maximum(idx, 0)], -1)


def _verdict(converged: Estimate, not_converged: Estimate, *, fig2_detected: bool, control_caught: bool) -> str:
    """``refuted`` when an upper limit falls below its level (the optimal dynamics' converged fraction below
    ``CONVERGED_MIN``, or the first-order not-converged fraction below ``NOT_CONVERGED_MIN``); ``consistent`` when
    both lower limits reach their levels, the Figure 2 collapse was detected and the controls were caught;
    ``inconclusive`` otherwise."""
    if converged.ci_high < CONVERGED_MIN or not_converged.ci_high < NOT_CONVERGED_MIN:
        return "refuted"
    supports = converged.ci_low >= CONVERGED_MIN and not_converged.ci_low >= NOT_CONVERGED_MIN and fig2_detected
    return "consistent" if supports and control_caught else "inconclusive"


def _figure2_runs(steps: int) -> dict[str, dict]:
    """Figure 2: the discriminator alone (generator fixed) and first-order dynamics, both readings, plus the
    detector's negative control (discriminator started at the optimum for reading A's fixed generator)."""
    f_ms = _t(FIG2["mu_star"])
    common = {"mu_star": f_ms, "eta_g": FIG2["eta"], "eta_d": FIG2["eta"], "steps": steps}
    out: dict[str, dict] = {}
    for reading in ("A", "B"):
        mu0 = _t([FIG2[f"mu0_{reading}"]])
        out[reading] = {}
        for name, train in (("discriminator-only", False), ("first-order", True)):
            tr = first_order_dynamics(
                mu0=mu0, l0=_t([FIG2["l0"]]), r0=_t([FIG2["r0"]]), train_generator=train, **common
            )
            det = detect_discriminator_collapse(tr)
            out[reading][name] = {
                "trajectory": tr,
                "collapsed": bool(det.collapsed[0]),
                "first_step": int(det.first_step[0]),
                "final_mu": tr.mu[-1, 0].tolist(),
                "final_l": tr.l[-1, 0].tolist(),
                "final_r": tr.r[-1, 0].tolist(),
                "outcome": str(classify_outcomes(tr).labels[0]) if train else None,
            }
    mu0 = _t([FIG2["mu0_A"]])
    l_opt, r_opt = optimal_discriminator(mu=mu0, mu_star=f_ms)
    tr = first_order_dynamics(
        mu0=mu0, l0=l_opt.clamp(-12, 12), r0=r_opt.clamp(-12, 12), train_generator=False, **common
    )
    out["optimal-start"] = {"collapsed": bool(detect_discriminator_collapse(tr).collapsed[0])}
    return out


def run(config: RunConfig, settings: Settings | None = None) -> ClaimResult:
    """Run the claim (see the module docstring for the protocol and the verdict rule)."""
    st = resolve_settings(Settings, config, settings)
    n, k, steps = st.n_runs, st.grid, st.steps
    rng_mu, rng_d, rng_grid = (np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(3))
    ms = _t(MU_STAR)
    bar = tqdm(total=4, desc="li17-dynamics", disable=not config.progress, leave=False)

    mu0 = torch.from_numpy(rng_mu.uniform(-BOX, BOX, size=(n, 2)))
    grid_mu = _grid(k)
    draws, grid = slice(0, n), slice(n, n + k * k)
    # optimal dynamics: draws, grid, control starts in one call
    opt_all = optimal_discriminator_dynamics(
        mu0=torch.cat([mu0, grid_mu, _t(CONTROL_OPT_MU0)]),
        mu_star=ms,
        eta_g=ETA,
        steps=steps,
        record_every=RECORD_EVERY,
    )
    opt_labels = classify_outcomes(opt_all)
    bar.update()
    # first-order dynamics: the same mu0 with random discriminators, grid, control start
    l_d, r_d = _random_discriminators(rng_d, n)
    l_g, r_g = _random_discriminators(rng_grid, k * k)
    fo_all = first_order_dynamics(
        mu0=torch.cat([mu0, grid_mu, _t([CONTROL_FO["mu0"]])]),
        l0=torch.cat([l_d, l_g, _t([CONTROL_FO["l0"]])]),
        r0=torch.cat([r_d, r_g, _t([CONTROL_FO["r0"]])]),
        mu_star=ms,
        eta_g=ETA,
        eta_d=ETA,
        steps=steps,
        record_every=RECORD_EVERY,
    )
    fo_labels = classify_outcomes(fo_all)
    bar.update()
    opt, fo = _rows(opt_all, draws), _rows(fo_all, draws)
    opt_out, fo_out = classify_outcomes(opt), classify_outcomes(fo)
    fo_dc = detect_discriminator_collapse(fo)
    opt_frac = outcome_fractions(opt_out, confidence=CONFIDENCE, seed=config.seed)
    fo_frac = outcome_fractions(fo_out, confidence=CONFIDENCE, seed=config.seed)
    fig2 = _figure2_runs(st.fig2_steps)
    fig2_detected = fig2["A"]["discriminator-only"]["collapsed"] and fig2["A"]["first-order"]["collapsed"]
    bar.update()

    cases = [
        ("optimal dynamics from merged start mu0 = (0.3, 0.3)", "mode-collapse", opt_labels.labels[-2]),
        (
            "first-order, intervals [-14, -12], [-11, -10], mu0 = (2, 2.6)",
            "vanishing-gradient",
            fo_labels.labels[-1],
        ),
        ("optimal dynamics from mu0 = (-0.9, 0.8)", "converged", opt_labels.labels[-1]),
        (
            "Figure 2(c): discriminator alone, reading A",
            "flagged",
            "flagged" if fig2["A"]["discriminator-only"]["collapsed"] else "not flagged",
        ),
        (
            "same fixed generator, discriminator started at the optimum (ends clipped to +-12)",
            "not flagged",
            "flagged" if fig2["optimal-start"]["collapsed"] else "not flagged",
        ),
    ]
    ok = [expected == str(got) for _, expected, got in cases]
    control = Estimate.exact(float(np.mean(ok)), n=len(ok))
    control_caught = all(ok)

    conv, notconv = opt_frac["converged"], fo_frac["not-converged"]
    verdict = _verdict(conv, notconv, fig2_detected=fig2_detected, control_caught=control_caught)
    notes = [
        f"outcome criterion: {opt_out.criterion}",
        f"discriminator-collapse criterion: {fo_dc.criterion}",
        "initial states: mu0 i.i.d. Uniform([-3, 3]^2); first-order discriminator ends = sorted 4 i.i.d. "
        "Uniform([-3, 3]); the same mu0 for both dynamics",
        "the heat-map grid includes the diagonal mu_1 = mu_2, from which the optimal dynamics cannot "
        "separate the means (symmetry); the random draws avoid it with probability 1",
        "Figure 2's initial means are read from a caption that lost its punctuation; readings A "
        "(mu0 = (-1, 2.5)) and B (mu0 = (-1.2, 5)) are both run, A decides the verdict",
        "first-order intervals are projected back onto l_1 <= r_1 <= l_2 <= r_2 after every step (isotonic "
        "projection), the project's explicit reading of the constraint",
    ]
    if not control_caught:
        notes.append(
            "a control case was misclassified: the classifier/detector lacked power; verdict inconclusive"
        )
    if not fig2_detected:
        notes.append("the Figure 2 collapse example was not detected")

    conv_steps = _first_converged_step(opt, 0.1)
    grid_opt, grid_fo = opt_labels.labels[grid], fo_labels.labels[grid]
    measurements = {
        "optimal_dynamics": {
            "counts": opt_out.counts(),
            "fractions": {o: e.to_dict() for o, e in opt_frac.items()},
            "max_error_in_window": float(opt_out.error.max()),
            "steps_to_stay_within_0.1": {
                "median": float(np.median(conv_steps[conv_steps >= 0])) if (conv_steps >= 0).any() else None,
                "max": int(conv_steps.max()),
            },
        },
        "first_order_dynamics": {
            "counts": fo_out.counts(),
            "fractions": {o: e.to_dict() for o, e in fo_frac.items()},
            "discriminator_collapse": {
                "flagged": int(fo_dc.collapsed.sum()),
                "fraction": clopper_pearson(
                    int(fo_dc.collapsed.sum()), n, confidence=CONFIDENCE, seed=config.seed
                ).to_dict(),
                "negative_at_end": int(fo_dc.negative_at_end.sum()),
            },
        },
        "figure2": {
            reading: {
                name: {key: v for key, v in r.items() if key != "trajectory"} for name, r in runs.items()
            }
            for reading, runs in fig2.items()
            if reading != "optimal-start"
        },
        "grid": {
            "points_per_axis": k,
            "box": [-BOX, BOX],
            "optimal_counts": {o: int((grid_opt == o).sum()) for o in OUTCOMES},
            "first_order_counts": {o: int((grid_fo == o).sum()) for o in OUTCOMES},
        },
        "controls": [{"case": c, "expected": e, "got": str(g)} for c, e, g in cases],
    }
    figures: list[str] = []
    if config.figures:
        figures = _figures(config, opt, opt_out, fo, fo_out, grid_opt, grid_fo, k, fig2)
    bar.update()
    bar.close()

    summary = (
        f"optimal-D converged {conv.estimate:.3f} [{conv.ci_low:.3f}, {conv.ci_high:.3f}]; first-order not "
        f"converged {notconv.estimate:.3f} [{notconv.ci_low:.3f}, {notconv.ci_high:.3f}] "
        f"(mode-collapse {fo_frac['mode-collapse'].estimate:.2f}); n={n}; Fig. 2 collapse "
        f"{'detected' if fig2_detected else 'NOT detected'}"
    )
    return make_result(
        "li17-dynamics", config, st,
        verdict=verdict,
        params={
            "mu_star": list(MU_STAR),
            "eta_g": ETA,
            "eta_d": ETA,
            "steps": steps,
            "n_runs": n,
            "box": BOX,
            "grid": k,
            "record_every": RECORD_EVERY,
            "confidence": CONFIDENCE,
            "converged_min": CONVERGED_MIN,
            "not_converged_min": NOT_CONVERGED_MIN,
            "figure2": FIG2 | {"steps": st.fig2_steps},
        },
        measured=conv,
        bound={
            "value": CONVERGED_MIN,
            "label": "optimal-D converged fraction, lower limit >=",
            "first_order_not_converged_min": NOT_CONVERGED_MIN,
        },
        control=control,
        control_caught=control_caught,
        summary=summary,
        control_summary=f"{sum(ok)}/{len(ok)} known-outcome runs classified correctly",
        measurements=measurements,
        figures=figures,
        notes=notes,
    )


# ---- figures ----------------------------------------------------------------------------------------------

_COLOURS = {
    "converged": "#2b8a3e",
    "mode-collapse": "#c92a2a",
    "vanishing-gradient": "#1c7ed6",
    "other": "#f59f00",
}


def _heatmap(ax, labels: np.ndarray, k: int, title: str) -> None:
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    codes = np.array([OUTCOMES.index(o) for o in labels]).reshape(k, k)
    cmap = ListedColormap([_COLOURS[o] for o in OUTCOMES])
    ax.imshow(
        codes,
        origin="lower",
        extent=(-BOX, BOX, -BOX, BOX),
        cmap=cmap,
        vmin=-0.5,
        vmax=len(OUTCOMES) - 0.5,
        interpolation="nearest",
    )
    ax.plot(*MU_STAR[::-1], "w*", ms=10)
    ax.plot(*MU_STAR, "w*", ms=10)
    ax.set_xlabel("initial $\\mu_1$")
    ax.set_ylabel("initial $\\mu_2$")
    ax.set_title(title)
    ax.legend(handles=[Patch(color=_COLOURS[o], label=o) for o in OUTCOMES], fontsize=7, loc="upper left")


def _trajectory_panel(ax, traj: Li17Trajectory, i: int, title: str) -> None:
    """Figure 1 style: solid lines the generator means, dotted/dashed lines the interval ends (infinite ends
    are not drawn; the optimal discriminator's ends, which jump as mu crosses mu*, are drawn as dots)."""
    t = traj.steps_at.numpy()
    for j, c in enumerate(("tab:blue", "tab:orange")):
        ax.plot(t, traj.mu[:, i, j].numpy(), color=c, lw=1.8, label=f"$\\hat\\mu_{j + 1}$")
    for j, c in enumerate(("tab:green", "tab:purple")):
        for ends, ls, name in ((traj.l, ":", "l"), (traj.r, "--", "r")):
            y = ends[:, i, j].numpy().copy()
            y[~np.isfinite(y)] = np.nan
            if traj.dynamics == "optimal":
                ax.plot(t, y, ".", color=c, ms=1.5, label=f"${name}_{j + 1}$")
            else:
                ax.plot(t, y, color=c, ls=ls, lw=1.1, label=f"${name}_{j + 1}$")
    for m in MU_STAR:
        ax.axhline(m, color="grey", lw=0.6)
    ax.set_ylim(-5.2, 5.2)
    ax.set_xlabel("step")
    ax.set_title(title, fontsize=9)


def _figures(config, opt, opt_out, fo, fo_out, grid_opt, grid_fo, k, fig2) -> list[str]:
    from .._figures import new_figure, save_figure

    names = []
    fig, axes = new_figure(2, 1, width=5.0, height=4.6)
    _heatmap(axes[0, 0], grid_opt, k, "optimal-discriminator dynamics")
    _heatmap(axes[0, 1], grid_fo, k, "first-order dynamics (random initial D)")
    names.append(save_figure(fig, config.out_dir, "li17-dynamics-heatmaps"))

    panels = [(opt, opt_out, "converged", "(a) optimal D: converges")]
    for label, text in (
        ("converged", "first order: converges"),
        ("mode-collapse", "first order: mode collapse"),
        ("vanishing-gradient", "first order: vanishing gradient"),
        ("other", "first order: still moving"),
    ):
        if len(panels) < 4 and (fo_out.labels == label).any():
            panels.append((fo, fo_out, label, f"({'abcd'[len(panels)]}) {text}"))
    fig, axes = new_figure(len(panels), 1, width=3.6, height=3.2)
    for ax, (traj, out, label, text) in zip(axes[0], panels, strict=True):
        _trajectory_panel(ax, traj, int(np.flatnonzero(out.labels == label)[0]), text)
    axes[0, -1].legend(fontsize=6, loc="lower right", ncol=2)
    names.append(save_figure(fig, config.out_dir, "li17-dynamics-trajectories"))

    runs = fig2["A"]
    x = torch.linspace(-6, 8, 600, dtype=torch.float64)
    f_ms = _t(FIG2["mu_star"])
    tr_d, tr_f = runs["discriminator-only"]["trajectory"], runs["first-order"]["trajectory"]
    l_opt, r_opt = optimal_discriminator(mu=tr_d.mu[0, 0], mu_star=f_ms)
    states = [
        ("(a) initial", tr_d.mu[0, 0], tr_d.l[0, 0], tr_d.r[0, 0], True),
        ("(b) optimal D for (a)", tr_d.mu[0, 0], l_opt, r_opt, False),
        ("(c) D alone, 1000 steps", tr_d.mu[-1, 0], tr_d.l[-1, 0], tr_d.r[-1, 0], True),
        ("(d) first order, 1000 steps", tr_f.mu[-1, 0], tr_f.l[-1, 0], tr_f.r[-1, 0], True),
    ]
    fig, axes = new_figure(4, 1, width=3.4, height=2.8)
    for ax, (title, mu, l, r, mark_empty) in zip(axes[0], states, strict=True):
        ax.plot(
            x.numpy(), (mixture_density(x, mu=f_ms) - mixture_density(x, mu=mu)).numpy(), color="k", lw=1.2
        )
        ax.axhline(0, color="grey", lw=0.6)
        for j in range(2):
            lo, hi = float(l[j].clamp(-6, 8)), float(r[j].clamp(-6, 8))
            ax.axvspan(lo, hi, color="tab:blue", alpha=0.25)
            if mark_empty and hi - lo < 1e-6:  # a collapsed interval
                ax.axvline(lo, color="tab:red", lw=1.5)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("x")
    axes[0, 0].set_ylabel("$p^* - p_\\mu$")
    names.append(save_figure(fig, config.out_dir, "li17-dynamics-discriminator-collapse"))
    return names
