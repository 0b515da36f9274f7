"""The tables and figures of claim ``az17-diversity``: per-width summaries, the plateau (slopes of the lower and
upper halves of the widths), the markdown table, and support against discriminator parameters on log axes with the
fit (Arora & Zhang 2017, diversity vs discriminator size; ``docs/papers/az17.md``).

Shape letters: ``W`` widths, ``S`` seeds per width, ``p`` discriminator parameters.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from ._common import power_figure
from ._diversity_cases import ols_slope

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


def width_rows(st, trained: dict, confidence: float) -> list[dict[str, Any]]:
    """One row per width: parameters, the geometric mean support over seeds with the Student interval of the mean
    of ``log N_hat`` (exponentiated), modes captured and % high quality (mean, Student interval)."""
    out = []
    for w, p in zip(st.d_widths, st.d_params(), strict=True):
        runs = [trained[(w, j)] for j in range(st.seeds)]
        logs = _student([math.log(r["support"]) for r in runs], confidence)
        out.append({"d_width": w, "d_params": p,
                    "support": {"estimate": math.exp(logs["estimate"]), "ci_low": math.exp(logs["ci_low"]),
                                "ci_high": math.exp(logs["ci_high"]), "log_sd": logs["sd"]},
                    "supports": [r["support"] for r in runs],
                    "support_intervals": [[r["ci_low"], r["ci_high"]] for r in runs],
                    "modes": _student([r["final"]["modes"] for r in runs], confidence, 0, st.side**2),
                    "high_quality": _student([r["final"]["high_quality"] for r in runs], confidence, 0, 1),
                    "nonuniform": sum(bool(r["nonuniform"]) for r in runs),
                    "train_s": float(np.mean([r["train_s"] for r in runs]))})
    return out


def segments(st, trained: dict, confidence: float) -> dict[str, Any]:
    """The plateau: OLS slopes (Student intervals) over the lower and the upper half of the widths (disjoint: the
    middle width is left out when their number is odd), and the difference upper - lower with the Welch interval
    (the two halves are independent runs). ``flat_top``: the upper half's interval contains 0 (no growth
    detected there); ``slowdown``: the difference's interval lies below 0; ``plateau``: both."""
    W = len(st.d_widths)
    half = W // 2
    parts = {"lower": st.d_widths[:half], "upper": st.d_widths[W - half:]}
    out: dict[str, Any] = {}
    for name, widths in parts.items():
        xs = [math.log(trained[(w, j)]["d_params"]) for w in widths for j in range(st.seeds)]
        ys = [math.log(trained[(w, j)]["support"]) for w in widths for j in range(st.seeds)]
        out[name] = {"widths": list(widths), **ols_slope(xs, ys, confidence)}
    lo, up = out["lower"], out["upper"]
    var_l, var_u = lo["se"] ** 2, up["se"] ** 2
    df = (var_l + var_u) ** 2 / (var_l**2 / (lo["n"] - 2) + var_u**2 / (up["n"] - 2)) if var_l + var_u > 0 else 1e9
    diff = up["slope"] - lo["slope"]
    halfw = float(stats.t.ppf((1 + confidence) / 2, df)) * math.sqrt(var_l + var_u)
    out["difference"] = {"estimate": diff, "ci_low": diff - halfw, "ci_high": diff + halfw, "df": df}
    out["flat_top"] = bool(up["ci_low"] <= 0 <= up["ci_high"])
    out["slowdown"] = bool(diff + halfw < 0)
    out["plateau"] = out["flat_top"] and out["slowdown"]
    return out


def _fmt(e: dict, digits: int = 1) -> str:
    return f"{e['estimate']:.{digits}f} [{e['ci_low']:.{digits}f}, {e['ci_high']:.{digits}f}]"


def table_markdown(st, rows, fit, segs, coverage, target_support, holdout, near, power, verdict,
                   fit_uniform=None) -> str:
    """The claim's table file: per-width supports and modes, the fit, the plateau, the planted coverage, the control
    and the resolution."""
    lines = [f"# az17-diversity: birthday support vs discriminator size ({st.seeds} seeds per width)", "",
             f"Setting: {st.lab_config().describe()}; discriminator {st.d_depth} hidden layers of the width below; "
             f"{st.steps} steps; target {st.side}x{st.side} grid of Gaussians (std {st.std:g}, spacing "
             f"{st.spacing:g}), birthday support {target_support:.1f} (exact) at the duplicate rule (miss "
             f"{st.miss:g}; held-out miss rate {holdout['miss_rate']['estimate']:.4f}). Intervals 95%.", "",
             "| D width | D parameters | support (geometric mean, Student) | per seed | modes /"
             f"{st.side ** 2} | % high quality | flagged non-uniform |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['d_width']} | {r['d_params']} | {_fmt(r['support'])} | "
                     + ", ".join(f"{v:.0f}" for v in r["supports"])
                     + f" | {_fmt(r['modes'])} | {_fmt({k: 100 * v for k, v in r['high_quality'].items()})} | "
                     f"{r['nonuniform']}/{len(r['supports'])} |")
    lines += ["", f"Fit (OLS of log N on log p, {fit['n']} runs): slope **{fit['slope']:.3f}** "
              f"[{fit['ci_low']:.3f}, {fit['ci_high']:.3f}], residual s.d. {fit['residual_sd']:.3f}; "
              f"near-linear band [{1 - st.tolerance:g}, {1 + st.tolerance:g}]. Verdict: **{verdict}**.", "",
              "Sensitivity, runs not flagged non-uniform only: " + (
                  "too few runs" if fit_uniform is None else
                  f"slope {fit_uniform['slope']:.3f} [{fit_uniform['ci_low']:.3f}, {fit_uniform['ci_high']:.3f}] "
                  f"({fit_uniform['n']} runs)") + ".", "",
              f"Plateau: lower-half slope {segs['lower']['slope']:.3f} [{segs['lower']['ci_low']:.3f}, "
              f"{segs['lower']['ci_high']:.3f}] (widths {segs['lower']['widths']}), upper-half slope "
              f"{segs['upper']['slope']:.3f} [{segs['upper']['ci_low']:.3f}, {segs['upper']['ci_high']:.3f}] "
              f"(widths {segs['upper']['widths']}); difference {_fmt(segs['difference'], 3)} (Welch). Upper half "
              f"flat (interval contains 0): {segs['flat_top']}; slowdown (difference below 0): {segs['slowdown']}; "
              f"plateau (both): {segs['plateau']}.", "",
              "Planted generators of known support through the same pipeline (coverage of the 95% interval):", "",
              "| planted law | exact support | runs | coverage (Clopper-Pearson) | median N_hat / N | flagged "
              "non-uniform |", "|---|---|---|---|---|---|"]
    for key, c in coverage.items():
        lines.append(f"| {key} | {c['truth']:.1f} | {c['n']} | {_fmt(c['coverage'], 2)} | {c['median_ratio']:.2f} | "
                     f"{c['flagged_nonuniform']}/{c['n']} |")
    lines += ["", "The verdict is gated on the pooled coverage of the equal-weight laws; on Zipf-weighted laws the "
              "uniform model does not hold (they are flagged) and the estimate sits above 1 / Pr[pair collides]."]
    res = power.resolution
    lines += ["", f"Near-boundary control: {near.name}: |slope - 1| = {near.true_value:.2f} planted, measured "
              f"{near.measured.estimate:.2f} [{near.measured.ci_low:.2f}, {near.measured.ci_high:.2f}]; caught: "
              f"{near.caught}.", "",
              "Resolution (|slope - 1| planted: detected / repeats): "
              + ", ".join(f"{s:.2f}: {d}/{power.repeats}" for s, d in zip(power.strengths, power.detected,
                                                                          strict=True))
              + f"; smallest deviation detected with 80% power: {'none' if res is None else f'{res:.2f}'}.", ""]
    return "\n".join(lines)


def figures(config, st, trained, fit, rows, power, target_support) -> list[str]:
    """Support vs discriminator parameters (log axes, per-run intervals, fit with its band, slope-1 reference,
    target support), modes captured vs parameters, the power curve, and samples of the trained generators."""
    from .._figures import new_figure, save_figure

    out_dir = Path(config.out_dir)
    names = []
    fig, axes = new_figure(2, 1, width=6.0, height=4.5)
    ax, ax2 = axes[0, 0], axes[0, 1]
    for (_w, j), r in trained.items():
        x = r["d_params"] * (1 + 0.04 * (j - (st.seeds - 1) / 2))
        hi = r["ci_high"] if math.isfinite(r["ci_high"]) else r["support"] * 3
        ax.errorbar([x], [r["support"]], yerr=[[r["support"] - r["ci_low"]], [hi - r["support"]]], fmt="o",
                    color="C0", alpha=0.5, ms=3, capsize=2)
    p = np.array([r["d_params"] for r in rows], dtype=float)
    ax.plot(p, [r["support"]["estimate"] for r in rows], "s", color="C1", label="geometric mean over seeds")
    xx = np.geomspace(p[0] / 1.3, p[-1] * 1.3, 100)
    lx = np.log(xx)
    xs = np.log([r["d_params"] for r in trained.values()])
    xm, sxx = xs.mean(), ((xs - xs.mean()) ** 2).sum()
    yhat = fit["intercept"] + fit["slope"] * lx
    tq = stats.t.ppf(0.975, fit["n"] - 2)
    band = tq * fit["residual_sd"] * np.sqrt(1 / fit["n"] + (lx - xm) ** 2 / sxx)
    ax.plot(xx, np.exp(yhat), "C3-", label=f"OLS slope {fit['slope']:.2f} [{fit['ci_low']:.2f}, {fit['ci_high']:.2f}]")
    ax.fill_between(xx, np.exp(yhat - band), np.exp(yhat + band), color="C3", alpha=0.15, label="95% band of the fit")
    ym = fit["intercept"] + fit["slope"] * xm
    ax.plot(xx, np.exp(ym + (lx - xm)), "k:", label="slope 1 (linear) through the centroid")
    ax.axhline(target_support, color="grey", ls="--", label=f"target's support {target_support:.0f}")
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
    ax2.set_ylabel("modes captured (3 std rule)")
    ax2.set_title("modes captured, one line per seed")
    ax2.legend(fontsize=7)
    names.append(save_figure(fig, out_dir, "az17-diversity-support"))
    names.append(power_figure(power, out_dir, "az17-diversity-power", xlabel="planted |slope - 1|",
                              title=f"planted slope fits at {len(st.d_widths)} widths x {st.seeds} seeds"))
    fig, axes = new_figure(len(st.d_widths), 1, width=2.4, height=2.6)
    half = st.spacing * st.side / 2 + st.spacing
    for i, w in enumerate(st.d_widths):
        a = axes[0, i]
        pts = np.asarray(trained[(w, 0)].get("figure_samples") or np.zeros((0, 2)))
        ticks = (np.arange(st.side) - (st.side - 1) / 2) * st.spacing
        gx, gy = np.meshgrid(ticks, ticks)
        a.plot(gx.ravel(), gy.ravel(), "+", color="grey", ms=4)
        if len(pts):
            a.plot(pts[:, 0], pts[:, 1], ".", ms=2, color="C0")
        a.set_xlim(-half, half)
        a.set_ylim(-half, half)
        a.set_title(f"D width {w} (p={trained[(w, 0)]['d_params']})", fontsize=8)
        a.set_xticks([])
        a.set_yticks([])
    names.append(save_figure(fig, out_dir, "az17-diversity-samples"))
    return names
