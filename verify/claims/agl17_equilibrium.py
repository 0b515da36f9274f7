r"""Claim ``agl17-equilibrium``: a mixture of T Gaussians folded into ONE ReLU network by a selector on a 1-D
seed is an ε-approximate equilibrium of the GAN game (Arora, Ge, Liang, Ma & Zhang 2017, Theorems 4.2-4.3;
the seed's "Theorem 2"; MATH.md §2.3-2.4).

.. math::

    F(u, v) = \mathbb E_{x\sim\mu}\phi(D_v(x)) + \mathbb E_{x\sim G_u}\phi(1 - D_v(x)),\qquad
    V = 2\phi(1/2),\qquad \sup_{v} F(\hat G_T, v) \le V + \varepsilon .

The other half of the equilibrium is exact: the constant discriminator D = 1/2 earns F = V against every
generator. So the claim is that no discriminator of the class gains more than ε over V against the folded
generator :class:`~ganlimits.constructions.FoldedMixtureGenerator` (centres drawn from a narrower copy of the
target so that the infinite mixture IS the target,
:func:`~ganlimits.constructions.mixture_generator_from_target`; selector width w = δ'/(100 T); its exact
mismatch probability, an upper bound on its TV to the ideal mixture, is reported). The best attacker's
excess sup_v F - V is the neural-net distance d(μ, Ĝ_T), estimated by
:func:`~ganlimits.verify.neural_net_distance` (trained on half of each sample, scored on the held-out
halves, Bonferroni-Hoeffding interval); φ = identity, so V = 1, Δ = 1/2, L_φ = 1.

**Verdict**: T at least both the size of Theorem 4.2 with C = 1 (L' = 1: a component c + s g is 1-Lipschitz in
its parameter c; L rescaled to the unit parameter ball as in ``agl17-thm31``) and the explicit [spec] size of
the sampling argument, which applies verbatim with the T components in place of the m samples: the attacker's
payoff against the mixture is an average of T i.i.d. terms in [0, 1] whose mean is its payoff against μ.
``verdict_upper`` of the payoff gap against ε. **Control**: T = 1 (a single Gaussian) must be caught by the
same attacker (lower limit > ε).

**Measurements**: the payoff gap for T = 1, 4, 16, ... on the 2-D grid (and, in the full run, on the jittered
digits with components centred at digit images), each with the fold's exact mismatch probability, ramp mass,
Lemma 3's bound and the network size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganlimits.constructions import mixture_generator_from_target
from ganlimits.theory import agl17_mixture_size, equilibrium_value

from .._figures import new_figure, save_figure
from .._registry import RunConfig
from .._results import ClaimResult, Estimate, verdict_upper
from .._sweep import run_trials
from ..estimators import neural_net_distance
from ._agl17 import DELTA_PHI, family_spec, make_target, support_text, theorem_sizes
from ._common import CONFIDENCE, CheckedSettings, make_result, resolve_settings

__all__: list[str] = []



@dataclass(frozen=True)
class Settings(CheckedSettings):
    """Settings of ``agl17-equilibrium``: ``eps``; ``n`` draws per side per payoff estimate and ``n_verdict`` for the
    verdict; the attack (``steps``, ``K``, ``lr``) and class (``weight_norm``, ``bias_bound``, ``hidden``);
    ``tv_budget`` δ' of the fold; ``T_grid_grid``/``T_grid_digits`` the mixture sizes measured on each target
    (empty: skip); ``component_std_grid``/``component_std_digits`` the components' std."""

    eps: float
    n: int
    steps: int
    K: int
    lr: float
    weight_norm: float
    bias_bound: float
    tv_budget: float
    T_grid_grid: tuple[int, ...]
    T_grid_digits: tuple[int, ...]
    component_std_grid: float
    component_std_digits: float
    hidden: tuple[int, ...]
    n_verdict: int

    @property
    def T_grid(self) -> dict[str, tuple[int, ...]]:
        return {name: Ts for name, Ts in (("grid", self.T_grid_grid), ("digits", self.T_grid_digits)) if Ts}

    @property
    def component_std(self) -> dict[str, float]:
        return {"grid": self.component_std_grid, "digits": self.component_std_digits}

    @classmethod
    def quick(cls) -> Settings:
        return cls(eps=0.1, K=4, lr=0.01, weight_norm=5.0, bias_bound=1.0, tv_budget=0.01, hidden=(16,),
                   component_std_grid=0.025, component_std_digits=0.05, n=4000, steps=150,
                   T_grid_grid=(1, 4, 16, 64, 256, 1024), T_grid_digits=(), n_verdict=4000)

    @classmethod
    def full(cls) -> Settings:
        return cls(eps=0.1, K=4, lr=0.01, weight_norm=5.0, bias_bound=1.0, tv_budget=0.01, hidden=(16,),
                   component_std_grid=0.025, component_std_digits=0.05, n=8000, steps=300, n_verdict=16000,
                   T_grid_grid=tuple(4**k for k in range(8)), T_grid_digits=(1, 16, 256, 4096))


def payoff_trial(config: dict, seed: int) -> dict:
    """One payoff measurement (a pure function of config and seed, for :func:`run_trials`).

    Draws from ``torch.Generator().manual_seed(seed)``: the T centres, the generator's n seeds (h then g),
    n target points, then the attack inside :func:`neural_net_distance` (real side = target, fake side = the
    folded generator, so the objective is F - V).
    """
    rng = torch.Generator().manual_seed(int(seed))
    target = make_target(config["target"])
    gen = mixture_generator_from_target(target, T=int(config["T"]), std=config["component_std"],
                                        generator=rng, tv_budget=config["delta"])
    fake, _ = gen.sample(int(config["n"]), generator=rng)
    real, _ = target.sample(int(config["n"]), generator=rng)
    est, info = neural_net_distance(
        real, fake, hidden=tuple(config["hidden"]), K=config["K"], phi="identity", steps=config["steps"],
        lr=config["lr"], generator=rng, confidence=CONFIDENCE, weight_norm=config["weight_norm"],
        bias_bound=config["bias_bound"], input_radius=config["input_radius"], return_info=True)
    return {"T": gen.T, "p": info.capacity, "gap": est.to_dict(),
            "mismatch_probability": gen.mismatch_probability(), "ramp_mass": gen.ramp_mass(),
            "ramp_bound": gen.ramp_bound(), "width": gen.width, "K_gate": gen.K,
            "num_nonzero_weights": gen.num_nonzero_weights(), "train_best": float(info.train_values.max())}


def trial_config(s: Settings, tname: str, T: int, n: int) -> dict:
    """The config of one :func:`payoff_trial`."""
    return {"steps": s.steps, "K": s.K, "lr": s.lr, "weight_norm": s.weight_norm, "bias_bound": s.bias_bound,
            "delta": s.tv_budget, "hidden": list(s.hidden), "target": tname, "T": int(T), "n": int(n),
            "component_std": s.component_std[tname],
            "input_radius": family_spec(make_target(tname), s.hidden, s)["input_radius"]}


def verdict_trials(s: Settings, seed: int) -> tuple[dict, list[tuple[dict, int]]]:
    """The theorem's sizes for the verdict class and the trials ``[(verdict, seed), (control, seed)]``:
    T at least Theorem 4.2's T (C = 1) and the explicit sampling size, then T = 1 with the same attacker."""
    need = theorem_sizes(family_spec(make_target("grid"), s.hidden, s), eps=s.eps)
    need["T_thm42_C1"] = agl17_mixture_size(
        p=need["p"], eps=s.eps, lipschitz=need["L_theta"] * need["parameter_radius"], generator_lipschitz=1.0,
        phi_range=DELTA_PHI, lphi=1.0)
    T_verdict = math.ceil(max(need["T_thm42_C1"], need["spec"]))
    return need, [(trial_config(s, "grid", T_verdict, s.n_verdict), seed * 1000 + 1),
                  (trial_config(s, "grid", 1, s.n_verdict), seed * 1000 + 2)]


def run(config: RunConfig, settings: Settings | None = None) -> ClaimResult:
    """The verdict at the theorem's T and the measurements beside it (module docstring)."""
    s = resolve_settings(Settings, config, settings)
    V = equilibrium_value("identity")
    grid_target = make_target("grid")
    need, configs = verdict_trials(s, config.seed)
    T_thm42, T_verdict = need["T_thm42_C1"], configs[0][0]["T"]
    keys = []
    for ti, (tname, Ts) in enumerate(s.T_grid.items()):
        for i, T in enumerate(Ts):
            configs.append((trial_config(s, tname, T, s.n), config.seed * 1000 + 100 * (ti + 1) + i + 3))
            keys.append(tname)
    results = run_trials(payoff_trial, configs, path=Path(config.out_dir) / "agl17-equilibrium.trials.jsonl",
                         resume=config.resume, desc="agl17-equilibrium", progress=config.progress)

    verdict_row, control_row = results[0], results[1]
    measured = Estimate(**verdict_row["gap"])
    control = Estimate(**control_row["gap"])
    control_caught = control.ci_low > s.eps
    verdict = verdict_upper(measured, s.eps, control_caught=control_caught)
    notes = [f"verdict at T = {T_verdict} >= Theorem 4.2's T (C = 1, L' = 1) {T_thm42:.0f} and the explicit "
             f"sampling size {need['spec']:.0f}; class {need['class']} (p = {need['p']}); phi = identity, "
             f"V = 2 phi(1/2) = {V:g}",
             f"the fold at T = {T_verdict}: {verdict_row['num_nonzero_weights']} non-zero weights, exact "
             f"Pr[network != mixture] = {verdict_row['mismatch_probability']:.3g} <= delta' = {s.tv_budget}",
             "the discriminator side of the equilibrium is exact: D = 1/2 earns F = V against every "
             "generator"]
    if not control_caught:
        notes.append("the attack did not catch the T = 1 control: it lacked power, so no verdict")
    sweep: dict = {}
    for tname, row in zip(keys, results[2:], strict=True):
        sweep.setdefault(tname, {"target": make_target(tname).description,
                                 "target_support": support_text(make_target(tname)),
                                 "component_std": s.component_std[tname], "rows": []})["rows"].append(row)
    for tname, sw in sweep.items():
        rows = sw["rows"]
        within = [r["T"] for r in rows if r["gap"]["ci_high"] <= s.eps]
        sw["smallest_T_upper_below_eps"] = min(within) if within else None
        sw["payoff"] = [{"T": r["T"], "F": V + r["gap"]["estimate"]} for r in rows]
        one = next((r for r in rows if r["T"] == 1), None)
        if one is not None and not one["gap"]["ci_low"] > s.eps:
            notes.append(f"{tname}: the sweep did not separate T = 1 from the target")
    figures = [_figure(sweep, s.eps, T_verdict, measured, config.out_dir)] if config.figures else []
    return make_result(
        "agl17-equilibrium", config, s,
        verdict=verdict,
        params={"eps": s.eps, "T": T_verdict, "p": need["p"], "class": need["class"], "phi": "identity",
                "V": V, "Delta": DELTA_PHI, "L_phi": 1.0, "L_G": 1.0, "C": 1.0,
                "target": grid_target.description,
                "target_support": support_text(grid_target), "component_std": s.component_std["grid"],
                "delta_prime": s.tv_budget,
                "T_grid": {k: list(v) for k, v in s.T_grid.items()}},
        measured=measured,
        bound={"value": s.eps, "label": "ε (over V = 2φ(1/2))", "T_thm42_C1": T_thm42,
               "T_spec": need["spec"], "equilibrium_value": V},
        control=control,
        control_caught=control_caught,
        summary=(f"sup_D F - V at T = {T_verdict}: {measured.estimate:.4f} [{measured.ci_low:.4f}, "
                 f"{measured.ci_high:.4f}] (F = {V + measured.estimate:.4f}; fold TV <= "
                 f"{verdict_row['mismatch_probability']:.2g})"),
        control_summary=f"T = 1: F - V = {control.estimate:.3f} (lower {control.ci_low:.3f})",
        measurements={"theorem_sizes": need, "verdict_fold": verdict_row,
                      "control_fold": control_row, "sweep": sweep},
        figures=figures,
        notes=notes,
    )


def _figure(sweep: dict, eps: float, T_verdict: int, measured: Estimate, out_dir) -> str:
    fig, axes = new_figure(ncols=1, width=6.0)
    ax = axes[0][0]
    for tname, sw in sweep.items():
        T = np.array([r["T"] for r in sw["rows"]], dtype=float)
        g = np.array([[r["gap"][k] for k in ("estimate", "ci_low", "ci_high")] for r in sw["rows"]])
        ax.errorbar(T, g[:, 0], yerr=[g[:, 0] - g[:, 1], g[:, 2] - g[:, 0]], fmt="o-", capsize=3, ms=3,
                    label=f"{tname} (s = {sw['component_std']:g})")
    ax.errorbar([T_verdict], [measured.estimate], yerr=[[measured.estimate - measured.ci_low],
                                                        [measured.ci_high - measured.estimate]],
                fmt="D", color="k", capsize=3, label=f"verdict, T = {T_verdict}")
    ax.axhline(eps, color="k", ls="--", lw=1, label=f"ε = {eps}")
    ax.axhline(0, color="0.6", lw=0.5)
    ax.set_xscale("log")
    ax.set_xlabel("T (mixture components folded into one network)")
    ax.set_ylabel("best attacker's payoff - 2φ(1/2) (95%)")
    ax.legend(fontsize=7)
    return save_figure(fig, out_dir, "agl17-equilibrium_gap_vs_T")
