r"""Claim ``agl17-thm31``: the uniform distribution on m samples of a target is within neural-net distance ε
of the target once m ~ C p log(p)/ε², while its Wasserstein distance stays large (Arora, Ge, Liang, Ma & Zhang
2017, Theorem 3.1 and corollary; the seed's "Theorem 1"; MATH.md §2.1-2.2).

.. math::

    d_{\mathcal F,\phi}(\hat\mu_m, \mu) = \sup_{D\in\mathcal F} \mathbb E_{\hat\mu_m}\phi(D)
    + \mathbb E_{\mu}\phi(1 - D) - 2\phi(1/2) \le \varepsilon
    \quad\text{for } m \ge C\,p\,\Delta^2\log(L L_\phi p/\varepsilon)/\varepsilon^2 .

The distance is estimated by :func:`~ganlimits.verify.neural_net_distance`: K attackers of one
:class:`~ganlimits.verify.MLPFamily` (capacity p, Lipschitz constant L in the parameters) trained on half of a
sample of μ̂_m (n draws with replacement from the m points) and half of a fresh sample of μ, scored on the
held-out halves, Bonferroni-Hoeffding interval. φ = identity; shifting φ by a constant leaves d unchanged, so
Δ = 1/2 (φ - 1/2 maps [0, 1] into [-1/2, 1/2]) and L_φ = 1.

**Verdict** (where the hypotheses hold): a small class (one hidden layer of 16 on the 2-D grid of 25
Gaussians, p = 65), ε = 0.1, and m at least the theorem's size in every form: the paper's with C = 1 (L
rescaled to the unit parameter ball, ``L_θ r``, as in ``arz-thm1``), the seed's C p log p/ε², and the
explicit [spec] size (ε-net of the ball of radius r that holds the class). ``verdict_upper`` against ε.
**Control**: the same attacker against the uniform law on ONE sample (m = 1) must find a distance whose lower
limit exceeds ε.

**Measurements** (outside the hypotheses): the distance for m = 1, 4, 16, ... and several capacities on the
grid and on the jittered digits; the fitted slope of log d vs log m over the points whose lower limit is > 0;
the smallest m whose estimate (and whose upper limit) is below ε, next to the theorem's m for that capacity.
Wasserstein-1 between μ̂_m and a fresh sample of μ (exact assignment, both of size n_W; μ̂_m as n_W/m copies of
each point, so m <= n_W), with its floor W1 between two fresh samples of size n_W: for the 64-d digits it
barely moves with m, while the neural-net distance falls to the noise floor.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganlimits.theory import AGL17_REPORTED_C

from .._figures import new_figure, save_figure
from .._registry import RunConfig
from .._results import ClaimResult, Estimate, verdict_upper
from .._sweep import run_trials
from ..estimators import nearest_distance_bound, neural_net_distance, wasserstein1
from ._agl17 import DELTA_PHI, family_spec, input_radius, make_target, support_text, theorem_sizes
from ._common import CONFIDENCE, CheckedSettings, make_result, resolve_settings

__all__: list[str] = []



@dataclass(frozen=True)
class Settings(CheckedSettings):
    """Settings of ``agl17-thm31``: ``eps``; ``n`` draws per side of each distance estimate (half trains, half
    scores) and ``n_verdict`` for the verdict; the attack (``steps``, ``K``, ``lr``) and class (``weight_norm``,
    ``bias_bound``); ``m_grid`` the supports measured; ``capacities_grid``/``capacities_digits`` the hidden-layer
    shapes measured on each target (empty: skip the target); ``verdict_target``/``verdict_hidden`` the verdict
    class; ``n_w1`` fresh target points for the Wasserstein measurements."""

    _limits = {"verdict_target": {"choices": ("grid", "digits")}}

    eps: float
    n: int
    steps: int
    K: int
    lr: float
    weight_norm: float
    bias_bound: float
    m_grid: tuple[int, ...]
    capacities_grid: tuple[tuple[int, ...], ...]
    capacities_digits: tuple[tuple[int, ...], ...]
    verdict_target: str
    verdict_hidden: tuple[int, ...]
    n_verdict: int
    n_w1: int

    @property
    def capacities(self) -> dict[str, tuple[tuple[int, ...], ...]]:
        """Target name -> hidden-layer shapes measured on it."""
        return {name: caps for name, caps in (("grid", self.capacities_grid), ("digits", self.capacities_digits))
                if caps}

    @classmethod
    def quick(cls) -> Settings:
        return cls(eps=0.1, n=4000, steps=150, K=4, lr=0.01, weight_norm=5.0, bias_bound=1.0,
                   m_grid=(1, 16, 256, 4096), capacities_grid=((16,),), capacities_digits=((16,),),
                   verdict_target="grid", verdict_hidden=(16,), n_verdict=4000, n_w1=512)

    @classmethod
    def full(cls) -> Settings:
        return cls(eps=0.1, n=8000, steps=300, K=4, lr=0.01, weight_norm=5.0, bias_bound=1.0,
                   m_grid=tuple(4**k for k in range(9)), capacities_grid=((4,), (16,), (64,)),
                   capacities_digits=((4,), (16,)), verdict_target="grid", verdict_hidden=(16,), n_verdict=16000,
                   n_w1=1024)


def distance_trial(config: dict, seed: int) -> dict:
    """One measurement (a pure function of its config and seed, for :func:`run_trials`).

    Draws from ``torch.Generator().manual_seed(seed)``: the m points of μ̂_m, n indices into them, n fresh
    target points, then the attack (split, members, steps) inside :func:`neural_net_distance`; with
    ``w1``: a fresh target sample of size n_W (and for the floor a second one).

    Wasserstein measurements (``w1``): ``w1_lower``, the mean distance from a fresh target point to the
    nearest of the m points, a lower bound on the population W1(μ̂_m, μ) (any coupling moves x to some x_i);
    ``w1``, the exact W1 between μ̂_m (as n_W/m copies of each point) and the fresh sample, when m divides
    n_W; ``w1_floor``, the exact W1 between two fresh samples of size n_W (the bias of that estimator).
    """
    rng = torch.Generator().manual_seed(int(seed))
    target = make_target(config["target"])
    m, n = int(config["m"]), int(config["n"])
    points, _ = target.sample(m, generator=rng)
    p_sample = points[torch.randint(m, (n,), generator=rng)]
    q_sample, _ = target.sample(n, generator=rng)
    est, info = neural_net_distance(
        p_sample, q_sample, hidden=tuple(config["hidden"]), K=config["K"], phi="identity",
        steps=config["steps"], lr=config["lr"], generator=rng, confidence=CONFIDENCE,
        weight_norm=config["weight_norm"], bias_bound=config["bias_bound"],
        input_radius=config["input_radius"], return_info=True)
    out = {"m": m, "p": info.capacity, "distance": est.to_dict(),
           "train_best": float(info.train_values.max())}
    n_w = int(config.get("n_w1") or 0)
    if n_w:
        fresh, _ = target.sample(n_w, generator=rng)
        out["w1_lower"] = nearest_distance_bound(points, fresh).to_dict()
        if n_w % m == 0:
            uniform_m = points.repeat_interleave(n_w // m, dim=0)  # exactly the law of mu_hat_m
            out["w1"] = wasserstein1(uniform_m, fresh, method="exact").estimate
        if config.get("w1_floor"):
            other, _ = target.sample(n_w, generator=rng)
            out["w1_floor"] = wasserstein1(other, fresh, method="exact").estimate
    return out


def _slope(rows: list[dict]) -> tuple[float | None, int]:
    """Least-squares slope of log d vs log m over the rows with m >= 4 whose lower limit is > 0."""
    pts = [(r["m"], r["distance"]["estimate"]) for r in rows if r["m"] >= 4 and r["distance"]["ci_low"] > 0]
    if len(pts) < 2:
        return None, len(pts)
    m, d = np.log(np.array(pts, dtype=float)).T
    return float(np.polyfit(m, d, 1)[0]), len(pts)


def _first(rows: list[dict], key: str, eps: float) -> int | None:
    hits = [r["m"] for r in rows if r["m"] > 1 and r["distance"][key] <= eps]
    return min(hits) if hits else None


def verdict_trials(s: Settings, seed: int) -> tuple[dict, list[tuple[dict, int]]]:
    """The theorem's sizes for the verdict class, and the two trials ``[(verdict, seed), (control, seed)]``:
    m at least every form of the theorem's size, then m = 1 with the same attacker."""
    vt = make_target(s.verdict_target)
    vspec = family_spec(vt, s.verdict_hidden, s)
    need = theorem_sizes(vspec, eps=s.eps)
    m_verdict = math.ceil(max(need["paper"], need["blog"], need["spec"]))
    vconf = {"n": s.n_verdict, "steps": s.steps, "K": s.K, "lr": s.lr, "weight_norm": s.weight_norm,
             "bias_bound": s.bias_bound, "target": s.verdict_target, "hidden": list(s.verdict_hidden),
             "input_radius": vspec["input_radius"]}
    return need, [({**vconf, "m": m_verdict}, seed * 1000 + 1), ({**vconf, "m": 1}, seed * 1000 + 2)]


def run(config: RunConfig, settings: Settings | None = None) -> ClaimResult:
    """The verdict where the theorem's hypotheses hold and the measurements beside it (module docstring)."""
    s = resolve_settings(Settings, config, settings)
    base = {"n": s.n, "steps": s.steps, "K": s.K, "lr": s.lr, "weight_norm": s.weight_norm,
            "bias_bound": s.bias_bound}
    vt = make_target(s.verdict_target)
    need, configs = verdict_trials(s, config.seed)
    m_verdict = configs[0][0]["m"]

    # The sweep: every target, capacity and m.
    sweep_keys = []
    for ti, (tname, hiddens) in enumerate(s.capacities.items()):
        t = make_target(tname)
        for ci, hidden in enumerate(hiddens):
            spec = family_spec(t, hidden, s)
            for mi, m in enumerate(s.m_grid):
                w1 = ci == 0  # W1 depends on the pair, not on the attacker: once per target
                conf = {**base, "target": tname, "hidden": list(hidden), "input_radius": spec["input_radius"],
                        "m": m, "n_w1": s.n_w1 if w1 else 0, "w1_floor": w1 and mi == 0}
                configs.append((conf, config.seed * 1000 + 100 * (ti + 1) + 10 * ci + mi + 3))
                sweep_keys.append((tname, tuple(hidden)))
    path = Path(config.out_dir) / "agl17-thm31.trials.jsonl"
    results = run_trials(distance_trial, configs, path=path, resume=config.resume, desc="agl17-thm31",
                         progress=config.progress)

    measured = Estimate(**results[0]["distance"])
    control = Estimate(**results[1]["distance"])
    control_caught = control.ci_low > s.eps
    verdict = verdict_upper(measured, s.eps, control_caught=control_caught)
    notes = [f"verdict at p = {need['p']} ({need['class']}), eps = {s.eps}, m = {m_verdict} >= the "
             f"theorem's m in every form: paper (C = 1) {need['paper']:.0f}, seed C p log p/eps^2 "
             f"{need['blog']:.0f}, explicit {need['spec']:.0f}; phi = identity (Delta = 1/2, L_phi = 1)",
             "C: the paper's universal constant is not stated; reported with C = 1 (the seed: 'C is fairly "
             f"small'), and the explicit size corresponds to C = {need['spec'] / need['paper']:.2f}"]
    if not control_caught:
        notes.append("the attack did not catch the m = 1 control: it lacked power, so no verdict")

    sweep: dict = {}
    for (tname, hidden), row in zip(sweep_keys, results[2:], strict=True):
        sweep.setdefault(tname, {}).setdefault(hidden, []).append(row)
    report = {}
    for tname, per_cap in sweep.items():
        t = make_target(tname)
        caps = []
        for hidden, rows in per_cap.items():
            slope, used = _slope(rows)
            th = theorem_sizes(family_spec(t, hidden, s), eps=s.eps)
            first_upper = _first(rows, "ci_high", s.eps)
            caps.append({"hidden": list(hidden), "p": th["p"], "rows": rows, "slope_log_d_vs_log_m": slope,
                         "slope_points": used, "smallest_m_upper_below_eps": first_upper,
                         "smallest_m_estimate_below_eps": _first(rows, "estimate", s.eps), "theorem": th,
                         "blog_form_over_measured": th["blog"] / first_upper if first_upper else None})
        first_rows = next(iter(per_cap.values()))
        w1_rows = [{"m": r["m"], "w1_lower": r["w1_lower"], "w1_exact": r.get("w1"),
                    "distance": r["distance"]["estimate"]} for r in first_rows if "w1_lower" in r]
        floor = next((r["w1_floor"] for r in first_rows if "w1_floor" in r), None)
        w1_slope = None
        if len(w1_rows) >= 2:
            lm, lw = np.log(np.array([(r["m"], r["w1_lower"]["estimate"]) for r in w1_rows], dtype=float)).T
            w1_slope = float(np.polyfit(lm, lw, 1)[0])
            a, b = w1_rows[0], w1_rows[-1]
            notes.append(f"{tname}: from m = {a['m']} to m = {b['m']}, W1(mu_hat_m, mu) >= mean "
                         f"nearest-point distance {a['w1_lower']['estimate']:.3g} -> "
                         f"{b['w1_lower']['estimate']:.3g} "
                         f"(fitted slope {w1_slope:.2f}) while d goes {a['distance']:.3g} -> "
                         f"{b['distance']:.3g}; exact W1 between two fresh samples of {s.n_w1}: {floor:.3g}")
        report[tname] = {"target": t.description, "target_support": support_text(t),
                         "input_radius": input_radius(t), "capacities": caps, "w1": w1_rows,
                         "w1_floor_two_fresh_samples": floor, "w1_slope_log_w1_vs_log_m": w1_slope,
                         "n_w1": s.n_w1}
        for cap in caps:
            one = next(r for r in cap["rows"] if r["m"] == 1)
            if not one["distance"]["ci_low"] > s.eps:
                notes.append(f"{tname}, p = {cap['p']}: the sweep attacker did not separate m = 1 from the "
                             "target")

    figures = [_figure(report, s.eps, config.out_dir)] if config.figures else []
    caps = report.get(s.verdict_target, {}).get("capacities", [])
    main = next((c for c in caps if tuple(c["hidden"]) == s.verdict_hidden), None)
    crossing = ""
    if main is not None and main["slope_log_d_vs_log_m"] is not None:
        crossing = (f"; sweep: slope {main['slope_log_d_vs_log_m']:.2f}, upper limit below eps from m = "
                    f"{main['smallest_m_upper_below_eps']} (C p log p/eps^2 = {need['blog']:.3g})")
    return make_result(
        "agl17-thm31", config, s,
        verdict=verdict,
        params={"eps": s.eps, "p": need["p"], "m": m_verdict, "class": need["class"], "phi": "identity",
                "Delta": DELTA_PHI, "L_phi": 1.0, "C": AGL17_REPORTED_C, "target": vt.description,
                "target_support": support_text(vt)},
        measured=measured,
        bound={"value": s.eps, "label": "ε", "m_paper_C1": need["paper"], "m_blog_C1": need["blog"],
               "m_spec": need["spec"], "L_theta": need["L_theta"],
               "parameter_radius": need["parameter_radius"]},
        control=control,
        control_caught=control_caught,
        summary=(f"d(mu_hat_m, mu) at m = {m_verdict}, p = {need['p']}: {measured.estimate:.4f} "
                 f"[{measured.ci_low:.4f}, {measured.ci_high:.4f}]{crossing}"),
        control_summary=f"m = 1: d = {control.estimate:.3f} (lower {control.ci_low:.3f})",
        measurements={"theorem_sizes": need, "sweep": report},
        figures=figures,
        notes=notes,
    )


def _figure(report: dict, eps: float, out_dir) -> str:
    fig, axes = new_figure(ncols=len(report) + 1, width=4.8)
    for ax, (tname, rep) in zip(axes[0], report.items(), strict=False):
        for cap in rep["capacities"]:
            m = np.array([r["m"] for r in cap["rows"]], dtype=float)
            d = np.array([[r["distance"][k] for k in ("estimate", "ci_low", "ci_high")] for r in cap["rows"]])
            ax.errorbar(m, d[:, 0], yerr=[d[:, 0] - d[:, 1], d[:, 2] - d[:, 0]], fmt="o-", capsize=3, ms=3,
                        label=f"d, p = {cap['p']}")
        ax.axhline(eps, color="k", ls="--", lw=1, label=f"ε = {eps}")
        ax.axhline(0, color="0.6", lw=0.5)
        ax.set_xscale("log")
        ax.set_xlabel("m (points of the uniform law)")
        ax.set_ylabel("neural-net distance to the target (95%)")
        ax.set_title(tname, fontsize=9)
        if rep["w1"]:
            ax2 = ax.twinx()
            keys = ("estimate", "ci_low", "ci_high")
            lower = np.array([[r["w1_lower"][k] for k in keys] for r in rep["w1"]])
            mw = np.array([r["m"] for r in rep["w1"]], dtype=float)
            ax2.errorbar(mw, lower[:, 0], yerr=[lower[:, 0] - lower[:, 1], lower[:, 2] - lower[:, 0]],
                         fmt="s:", color="tab:red", ms=3, capsize=2, label="W1 lower bound (right axis)")
            exact = [(r["m"], r["w1_exact"]) for r in rep["w1"] if r["w1_exact"] is not None]
            if exact:
                ax2.plot(*zip(*exact, strict=True), "x", color="darkred",
                         label=f"exact W1 vs {rep['n_w1']} fresh")
            if rep["w1_floor_two_fresh_samples"] is not None:
                ax2.axhline(rep["w1_floor_two_fresh_samples"], color="tab:red", lw=0.8, ls="-.",
                            label="W1 floor (two fresh samples)")
            ax2.set_ylabel("Wasserstein-1", color="tab:red")
            ax2.set_ylim(bottom=0)
            ax2.legend(fontsize=6, loc="center right")
        ax.legend(fontsize=6, loc="upper right")
    ax = axes[0][-1]
    for tname, rep in report.items():
        caps = [c for c in rep["capacities"] if c["smallest_m_upper_below_eps"]]
        p = [c["p"] for c in rep["capacities"]]
        seed_form = [c["theorem"]["blog"] for c in rep["capacities"]]
        ax.plot(p, seed_form, "x--", label=f"{tname}: C p log p/ε², C=1")
        ax.plot(p, [c["theorem"]["spec"] for c in rep["capacities"]], "+:", label=f"{tname}: explicit size")
        if caps:
            ax.plot([c["p"] for c in caps], [c["smallest_m_upper_below_eps"] for c in caps], "o-",
                    label=f"{tname}: measured (upper limit < ε)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("capacity p")
    ax.set_ylabel("m at which d < ε")
    ax.legend(fontsize=6)
    return save_figure(fig, out_dir, "agl17-thm31_distance_vs_m")
