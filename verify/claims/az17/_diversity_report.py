"""The tables and figures of claim ``az17-diversity``: per-width summaries (regime, validity, supports), the
markdown table, and support against discriminator parameters on log axes with the hinge (Arora & Zhang 2017,
diversity vs discriminator size; ``docs/papers/az17.md``).

Shape letters: ``W`` widths, ``S`` seeds per width, ``p`` discriminator parameters.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from .._common import power_figure

__all__: list[str] = []


def _student(values, confidence: float, low: float = -math.inf, high: float = math.inf) -> dict[str, float]:
    """Mean and Student interval of ``values``, clipped to the quantity's range ``[low, high]``."""
    v = np.asarray(values, dtype=np.float64)
    m = float(v.mean())
    if v.size < 2:
        return {"estimate": m, "ci_low": -math.inf, "ci_high": math.inf, "sd": math.nan, "n": int(v.size)}
    sd = float(v.std(ddof=1))
    half = float(stats.t.ppf((1 + confidence) / 2, v.size - 1)) * sd / math.sqrt(v.size)
    return {"estimate": m, "ci_low": max(low, m - half), "ci_high": min(high, m + half), "sd": sd, "n": int(v.size)}


def width_rows(st, trained: dict, confidence: float, gates: dict) -> list[dict[str, Any]]:
    """One row per width: parameters, the geometric mean support over its valid runs (all runs beside it) with the
    Student interval of the mean of ``log N_hat`` (exponentiated), modes captured and % high quality over all runs
    (mean, Student interval), the runs in regime and those flagged non-uniform."""
    out = []
    for w, p in zip(st.d_widths, st.d_params(), strict=True):
        runs = [trained[(w, j)] for j in range(st.seeds)]
        ok = [r for j, r in enumerate(runs) if gates[(w, j)]["in_regime"] and not r["nonuniform"]
              and not r["censored"]]
        logs = _student([math.log(r["support"]) for r in ok], confidence) if ok else None
        out.append({"d_width": w, "d_params": p,
                    "support_valid": None if logs is None else {
                        "estimate": math.exp(logs["estimate"]), "ci_low": math.exp(logs["ci_low"]),
                        "ci_high": math.exp(logs["ci_high"]), "log_sd": logs["sd"], "n": logs["n"]},
                    "supports": [r["support"] for r in runs],
                    "support_intervals": [[r["ci_low"], r["ci_high"]] for r in runs],
                    "valid": [bool(gates[(w, j)]["in_regime"] and not r["nonuniform"] and not r["censored"])
                              for j, r in enumerate(runs)],
                    "in_regime": sum(bool(gates[(w, j)]["in_regime"]) for j in range(st.seeds)),
                    "steps": [r["steps"] for r in runs], "settled": [bool(r["settled"]) for r in runs],
                    "modes": _student([r["final"]["modes"] for r in runs], confidence, 0, st.side**2),
                    "high_quality": _student([r["final"]["high_quality"] for r in runs], confidence, 0, 1),
                    "nonuniform": sum(bool(r["nonuniform"]) for r in runs),
                    "train_s": float(np.mean([r["train_s"] for r in runs]))})
    return out


def _fmt(e: dict | None, digits: int = 1) -> str:
    if e is None:
        return "—"
    return f"{e['estimate']:.{digits}f} [{e['ci_low']:.{digits}f}, {e['ci_high']:.{digits}f}]"


def table_markdown(st, rows, fit, line, coverage, target_support, holdout, near, power, verdict, excluded,
                   regime) -> str:
    """The claim's table file: the regime's reference rows, per-width supports, modes, regime and exclusions, the
    hinge and the line, the planted coverage, the control and the resolution."""
    lines = [f"# az17-diversity: birthday support vs discriminator size ({st.seeds} seeds per width)", "",
             f"Setting: {st.lab_config().describe()}; discriminator {st.d_depth} hidden layers of the width below; at "
             f"most {st.steps} steps, stopped when settled; target {st.side}x{st.side} grid of Gaussians (std "
             f"{st.std:g}, spacing {st.spacing:g}), birthday support {target_support:.1f} (exact) at the duplicate "
             f"rule (miss {st.miss:g}; held-out miss rate {holdout['miss_rate']['estimate']:.4f}). Intervals 95%.", "",
             f"Regime: the target's own draws score {regime['target_modes_mean']:.1f}/{regime['n_components']} modes "
             f"at {100 * regime['target_high_quality_mean']:.1f}% high quality; uniform noise over its box "
             f"{regime['diffuse_modes_mean']:.1f} modes at {100 * regime['diffuse_high_quality_mean']:.1f}%; a run "
             f"is in regime when settled with a high-quality share whose lower limit is >= "
             f"{100 * regime['hq_floor']:.1f}%.", "",
             "| D width | D parameters | in regime | valid | steps (settled?) | support of valid runs (geometric mean) "
             f"| support per seed | modes /{st.side ** 2} | % high quality | flagged non-uniform |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['d_width']} | {r['d_params']} | {r['in_regime']}/{st.seeds} | {sum(r['valid'])}/{st.seeds} "
                     f"| " + ", ".join(f"{s}{'' if ok else '*'}" for s, ok in zip(r["steps"], r["settled"],
                                                                                 strict=True))
                     + f" | {_fmt(r['support_valid'])} | " + ", ".join(f"{v:.0f}" for v in r["supports"])
                     + f" | {_fmt(r['modes'])} | {_fmt({k: 100 * v for k, v in r['high_quality'].items()})} | "
                     f"{r['nonuniform']}/{len(r['supports'])} |")
    lines += ["", "(* not settled at the cap.)", "", "Exclusions (runs that never enter the fit): "
              + "; ".join(f"width {w}: {e['out_of_regime']} out of regime, {e['nonuniform']} non-uniform, "
                          f"{e['censored']} beyond budget" for w, e in excluded.items()) + ".", ""]
    if fit is None:
        lines += [f"Hinge: not fitted (fewer than {st.min_growth} sizes with {st.min_runs} valid runs). Verdict: "
                  f"**{verdict}**.", ""]
    else:
        plateau = ("none in range (the break is the largest size)" if fit["plateau_slope"] is None else
                   f"{fit['plateau_slope']:.3f}" + ("" if fit["plateau_ci"] is None else
                                                    f" [{fit['plateau_ci'][0]:.3f}, {fit['plateau_ci'][1]:.3f}]"))
        lines += [f"Hinge (valid runs, {fit['n']}): growth slope **{fit['growth_slope']:.3f}** "
                  f"[{fit['growth_ci'][0]:.3f}, {fit['growth_ci'][1]:.3f}] (stratified bootstrap, {fit['B']} "
                  f"resamples) up to the break at p = {fit['break_size']:.0f}; plateau slope {plateau}; near-linear "
                  f"band [{1 - st.tolerance:g}, {1 + st.tolerance:g}]. Verdict: **{verdict}**.", ""]
    if line is not None:
        lines += [f"One straight line over the valid runs (reported only): slope {line['slope']:.3f} "
                  f"[{line['ci_low']:.3f}, {line['ci_high']:.3f}].", ""]
    lines += ["Planted generators of known support through the same pipeline (coverage of the 95% interval):", "",
              "| planted law | exact support | runs | coverage (Clopper-Pearson) | median N_hat / N | flagged "
              "non-uniform |", "|---|---|---|---|---|---|"]
    for key, c in coverage.items():
        lines.append(f"| {key} | {c['truth']:.1f} | {c['n']} | {_fmt(c['coverage'], 2)} | {c['median_ratio']:.2f} | "
                     f"{c['flagged_nonuniform']}/{c['n']} |")
    lines += ["", "The verdict is gated on the pooled coverage of the equal-weight laws; on Zipf-weighted laws the "
              "uniform model does not hold (they are flagged) and the estimate sits above 1 / Pr[pair collides]."]
    if near is not None:
        res = power.resolution
        lines += ["", f"Near-boundary control: {near.name}: |slope - 1| = {near.true_value:.2f} planted, measured "
                  f"{near.measured.estimate:.2f} [{near.measured.ci_low:.2f}, {near.measured.ci_high:.2f}]: "
                  + ("caught." if near.caught else "missed."), "",
                  "Resolution (|slope - 1| planted: detected / repeats): "
                  + ", ".join(f"{s:.2f}: {d}/{power.repeats}" for s, d in zip(power.strengths, power.detected,
                                                                              strict=True))
                  + f"; smallest deviation detected with 80% power (95% lower limit): "
                  f"{'none' if res is None else f'{res:.2f}'}.", ""]
    return "\n".join(lines)


def figures(config, st, trained, fit, rows, power, target_support, gates) -> list[str]:
    """Support vs discriminator parameters (log axes, per-run intervals, valid runs filled and excluded runs open, the
    hinge, slope-1 reference, target support), modes captured vs parameters, the power curve, and samples of the
    trained generators."""
    from ..._figures import new_figure, save_figure

    out_dir = Path(config.out_dir)
    names = []
    fig, axes = new_figure(2, 1, width=6.0, height=4.5)
    ax, ax2 = axes[0, 0], axes[0, 1]
    for (w, j), r in trained.items():
        x = r["d_params"] * (1 + 0.04 * (j - (st.seeds - 1) / 2))
        hi = r["ci_high"] if math.isfinite(r["ci_high"]) else r["support"] * 3
        ok = gates[(w, j)]["in_regime"] and not r["nonuniform"] and not r["censored"]
        ax.errorbar([x], [r["support"]], yerr=[[r["support"] - r["ci_low"]], [hi - r["support"]]],
                    fmt="o" if ok else "x", color="C0" if ok else "grey", alpha=0.6, ms=4, capsize=2)
    p = np.array([r["d_params"] for r in rows], dtype=float)
    if fit is not None:
        xx = np.geomspace(p[0] / 1.3, p[-1] * 1.3, 100)
        lx = np.log(xx)
        yhat = (fit["intercept"] + fit["growth_slope"] * np.minimum(lx - fit["break_log_size"], 0)
                + (fit["plateau_slope"] or 0.0) * np.maximum(lx - fit["break_log_size"], 0))
        ax.plot(xx, np.exp(yhat), "C3-", label=f"hinge: growth slope {fit['growth_slope']:.2f} "
                                               f"[{fit['growth_ci'][0]:.2f}, {fit['growth_ci'][1]:.2f}]")
        ax.plot(xx, np.exp(fit["intercept"] + (lx - fit["break_log_size"])), "k:", label="slope 1 through the break")
    ax.axhline(target_support, color="grey", ls="--", label=f"target's support {target_support:.0f}")
    ax.plot([], [], "o", color="C0", label="valid run")
    ax.plot([], [], "x", color="grey", label="excluded run (out of regime / non-uniform)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("discriminator parameters p")
    ax.set_ylabel("birthday support N_hat (95% interval)")
    ax.set_title("support vs discriminator size")
    ax.legend(fontsize=7)
    for j in range(st.seeds):
        ax2.plot(p, [trained[(w, j)]["final"]["modes"] for w in st.d_widths], "o-", alpha=0.6, ms=3)
    ax2.axhline(st.side**2, color="grey", ls="--", label="target modes")
    ax2.set_xscale("log")
    ax2.set_xlabel("discriminator parameters p")
    ax2.set_ylabel("modes captured")
    ax2.set_title("modes captured, one line per seed")
    ax2.legend(fontsize=7)
    names.append(save_figure(fig, out_dir, "az17-diversity-support"))
    if power is not None:
        names.append(power_figure(power, out_dir, "az17-diversity-power", xlabel="planted |growth slope - 1|",
                                  title=f"planted hinge fits at the valid design ({power.n} runs)"))
    fig, axes = new_figure(len(st.d_widths), 1, width=2.4, height=2.6)
    half = st.spacing * st.side / 2 + st.spacing
    for i, w in enumerate(st.d_widths):
        a = axes[0, i]
        pts = np.asarray(trained[(w, 0)].get("figure_samples") or np.zeros((0, 2)))
        ticks = (np.arange(st.side) - (st.side - 1) / 2) * st.spacing
        gx, gy = np.meshgrid(ticks, ticks)
        a.plot(gx.ravel(), gy.ravel(), "+", color="grey", ms=3)
        if len(pts):
            a.plot(pts[:, 0], pts[:, 1], ".", ms=2, color="C0")
        a.set_xlim(-half, half)
        a.set_ylim(-half, half)
        a.set_title(f"D width {w} (p={trained[(w, 0)]['d_params']})", fontsize=8)
        a.set_xticks([])
        a.set_yticks([])
    names.append(save_figure(fig, out_dir, "az17-diversity-samples"))
    return names
