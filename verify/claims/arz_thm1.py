r"""Claim ``arz-thm1``: the BiGAN objective cannot prevent mode collapse (Arora, Risteski & Zhang 2017, Theorem 1).

.. math::

    \mathrm{gap}(G, E; D) = \big|\mathbb{E}_{x\sim\mu}\phi(D(x, E(x)))
        - \mathbb{E}_{z\sim\nu}\phi(D(G(z), z))\big| \le \varepsilon
    \quad \text{for every } D \text{ of capacity } p,\ L\text{-Lipschitz in its parameters,}

once the generator's support m reaches the theorem's size (paper form ``p Δ² log²(pΔLL_φ/ε)/ε²`` and the project's
explicit [spec] form, MATH.md §1.3). G memorizes m clean images on an equal-measure Gaussian partition of the code
space, E reads the noise coordinates: E(G(z)) = z exactly, and the codes carry nothing about the image.

**Verdict** (where the hypotheses hold): the class is logistic discriminators on the joint input,
``D(u) = σ(w·ρ_R(u) + b)`` with ``‖w‖ ≤ s``, ``|b| ≤ β`` (an :class:`MLPFamily` with no hidden layer; p = d + d' + 1)
and φ the identity. Shifting φ by 1/2 does not change the gap, so Δ = 1/2 and L_φ = 1. The theorem's ε-net is over a
unit ball of parameters, so the Lipschitz constant used in the formula is ``L_θ · r`` with ``L_θ`` the family's
Lipschitz constant in its parameters and r the radius of the parameter ball that contains the class. m is the
smallest k² at least both forms of the theorem's support. The best attack (random members and trained attackers,
scored on a fresh sample, Bonferroni over all of them) gives the measured gap; ``verdict_upper`` against ε.
Control: the same attack against a generator of support 1 must find a gap whose lower limit exceeds ε.
The logistic class is linear in the code, and z is symmetric, so it is blind to differences that show only in
the code's second moments (an encoder that outputs zeros, say); the tests show that trained ReLU attackers of the
realistic class catch those.

**Measurements** beside the verdict (outside the hypotheses): realistic attackers (thousands of parameters) against
memorizing generators with m = k² for several k, on jittered digits and on the 1200-d Gaussian mixture; the support-1
control and the "perfect" generator x̃_fresh ⊙ z (the noise floor); the fitted slope of log gap vs log m; the support
the theorem demands for that class (both forms) next to the smallest measured m whose upper limit is below ε.

Deviation: the theorem is stated for the ideal generator G (a step function of z); the verdict uses
:class:`~ganlimits.constructions.IdealGenerator`, whose equality with the ReLU network off the ramps is claim
``arz-thm3``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from ganlimits.constructions import (
    FreshGenerator,
    NoisedTarget,
    NoiseExtractingEncoder,
    NoiseModel,
    digits,
    memorizing_generator,
    mixture_1200d,
    support_one_generator,
)
from ganlimits.theory import arz_thm1_support

from .._figures import new_figure, save_figure
from .._registry import RunConfig
from .._results import ClaimResult, Estimate, verdict_upper
from ..estimators import MLPFamily, as_phi, bigan_samples, gap_from_values, train_attacker
from ._common import CONFIDENCE, DIGITS_JITTER, CheckedSettings, make_result, resolve_settings

__all__: list[str] = []



@dataclass(frozen=True)
class AttackSettings(CheckedSettings):
    """How hard one attack pushes: random members, trained members, sample sizes and optimiser steps."""

    _limits = {"K_random": {"low": 0, "integer": True}, "K_trained": {"low": 0, "integer": True},
               "steps": {"low": 0, "integer": True}}

    K_random: int
    K_trained: int
    n_train: int
    n_test: int
    steps: int
    lr: float

    def validate(self) -> None:
        if self.K_random + self.K_trained < 1:
            raise ValueError("K_random + K_trained must be >= 1: an attack needs at least one member")


@dataclass(frozen=True)
class Settings(CheckedSettings):
    """Settings of ``arz-thm1`` (one table for the API and ``ganlimits verify arz-thm1 --set key=value``).

    ``eps`` the target gap; ``verdict_attack`` the attack of the verdict; ``weight_norm``/``bias_bound`` the
    verdict class; ``sweep_*`` the realistic attackers measured beside the verdict on the digits (``sweep_k``: m =
    k²), ``mixture_*`` the same on the 1200-d mixture (``mixture_hidden=None`` skips it); ``code_dim`` d', ``sigma``
    the code std, ``eta`` the failure probability of the explicit form, ``jitter`` the digits kernel width.
    """

    eps: float
    verdict_attack: AttackSettings
    weight_norm: float
    bias_bound: float
    sweep_k: tuple[int, ...]
    sweep_attack: AttackSettings
    sweep_hidden: tuple[int, ...]
    sweep_weight_norm: float
    mixture_hidden: tuple[int, ...] | None
    mixture_attack: AttackSettings = AttackSettings(K_random=0, K_trained=8, n_train=5000, n_test=10000, steps=300,
                                                    lr=0.01)
    jitter: float = DIGITS_JITTER
    code_dim: int = 2
    sigma: float = 1.0
    eta: float = 0.1
    confidence: float = CONFIDENCE

    @classmethod
    def quick(cls) -> Settings:
        """The small setting used by ``make test``."""
        return cls(
            eps=0.25,
            verdict_attack=AttackSettings(K_random=32, K_trained=8, n_train=4000, n_test=6000, steps=150, lr=0.05),
            weight_norm=2.0, bias_bound=1.0,
            sweep_k=(4, 8, 16, 32),
            sweep_attack=AttackSettings(K_random=0, K_trained=4, n_train=2000, n_test=4000, steps=80, lr=0.02),
            sweep_hidden=(32, 32), sweep_weight_norm=3.0,
            mixture_hidden=None,  # the 1200-d mixture sweep runs in the full setting only
        )

    @classmethod
    def full(cls) -> Settings:
        """The setting of ``make reproduce``."""
        return cls(
            eps=0.1,
            verdict_attack=AttackSettings(K_random=256, K_trained=16, n_train=20000, n_test=40000, steps=400,
                                          lr=0.05),
            weight_norm=2.0, bias_bound=1.0,
            sweep_k=(4, 8, 16, 32, 64, 128),
            sweep_attack=AttackSettings(K_random=0, K_trained=8, n_train=10000, n_test=20000, steps=400, lr=0.01),
            sweep_hidden=(32, 32), sweep_weight_norm=3.0,
            mixture_hidden=(4,),
        )


# ---- one attack ---------------------------------------------------------------------------------------------


def attack(
    generator,
    encoder,
    noised_target,
    *,
    family_spec: dict,
    a: AttackSettings,
    phi,
    rng: torch.Generator,
    seed: int,
) -> tuple[Estimate, dict]:
    """Random members and trained attackers of one class against (G, E); scored on a fresh sample.

    Returns the sup of |gap| over all members with a Bonferroni two-sample Hoeffding interval, and details.
    Draw order from ``rng``: training sample, random members, trained members' start and minibatches, test
    sample.
    """
    x_r, c_r, x_f, c_f = bigan_samples(generator, encoder, noised_target, n=a.n_train, generator_rng=rng)
    members = []
    if a.K_random:
        members.append(MLPFamily(K=a.K_random, generator=rng, **family_spec))
    if a.K_trained:
        start = MLPFamily(K=a.K_trained, generator=rng, **family_spec)
        members.append(train_attacker(start, real=(x_r, c_r), fake=(x_f, c_f), phi=phi, steps=a.steps, lr=a.lr,
                                      generator=rng, objective="bigan", sign="both"))
    x_r, c_r, x_f, c_f = bigan_samples(generator, encoder, noised_target, n=a.n_test, generator_rng=rng)
    real = torch.cat([fam(x_r, c_r) for fam in members])
    fake = torch.cat([fam(x_f, c_f) for fam in members])
    best = gap_from_values(real, fake, phi=phi, confidence=CONFIDENCE, seed=seed)
    per = (phi(real.double()).mean(1) - phi(fake.double()).mean(1)).abs()
    detail = {"K": int(real.shape[0]), "best_member_trained": bool(a.K_trained and int(per.argmax()) >= a.K_random),
              "best_random": float(per[: a.K_random].max()) if a.K_random else None,
              "best_trained": float(per[a.K_random:].max()) if a.K_trained else None}
    return best, detail


# ---- the claim ----------------------------------------------------------------------------------------------


def theorem_support(family: MLPFamily, *, eps: float, eta: float = 0.1, phi_name: str = "identity") -> dict:
    """Both forms of Theorem 1's m for a family: Δ = 1/2 and L_φ = 1 (identity, shifted by 1/2), and the
    Lipschitz constant rescaled to a unit parameter ball (``L_θ · r``)."""
    if phi_name != "identity":
        raise ValueError(f"phi_name must be 'identity' for this verdict, got {phi_name!r}")
    lip = family.lipschitz_in_parameters() * family.parameter_radius()
    sizes = arz_thm1_support(p=family.capacity, eps=eps, lipschitz=lip, phi_range=0.5, lphi=1.0, eta=eta)
    return {"p": family.capacity, "L_theta": family.lipschitz_in_parameters(),
            "parameter_radius": family.parameter_radius(), "L_unit_ball": lip, **sizes}


def run(config: RunConfig, settings: Settings | None = None) -> ClaimResult:
    """Attack Theorem 1 where its hypotheses hold and measure realistic attackers beside it (module docstring)."""
    s = resolve_settings(Settings, config, settings)
    phi = as_phi("identity")
    rng = torch.Generator().manual_seed(config.seed)
    clean = digits(jitter=s.jitter)
    noise = NoiseModel(dim=clean.dim, code_dim=s.code_dim)
    mu = NoisedTarget(clean=clean, noise=noise, sigma=s.sigma)
    encoder = NoiseExtractingEncoder(noise=noise)
    in_dim = clean.dim + s.code_dim

    # The verdict, where the theorem's hypotheses hold.
    spec = dict(in_dim=in_dim, hidden=(), weight_norm=s.weight_norm, bias_bound=s.bias_bound)
    probe = MLPFamily(K=1, generator=torch.Generator().manual_seed(0), **spec)
    need = theorem_support(probe, eps=s.eps, eta=s.eta)
    k = math.ceil(math.sqrt(max(need["paper"], need["spec"])))
    gen = memorizing_generator(clean, noise, k=k, generator=rng)
    with torch.no_grad():
        z_check = torch.randn(1000, s.code_dim, generator=rng, dtype=torch.float64)
        inverts = bool(torch.equal(encoder(gen(z_check)), z_check))
    bar = tqdm(total=3, desc="arz-thm1 verdict", disable=not config.progress, leave=False)
    measured, detail = attack(gen, encoder, mu, family_spec=spec, a=s.verdict_attack, phi=phi, rng=rng,
                              seed=config.seed)
    bar.update()
    control, control_detail = attack(support_one_generator(clean, noise, generator=rng), encoder, mu,
                                     family_spec=spec,
                                     a=s.verdict_attack, phi=phi, rng=rng, seed=config.seed)
    bar.update()
    control_caught = control.ci_low > s.eps
    verdict = verdict_upper(measured, s.eps, control_caught=control_caught)
    notes = [f"verdict at p = {need['p']}, eps = {s.eps}, m = k^2 = {k * k} >= both forms of the theorem's m "
             f"(paper {need['paper']:.0f}, explicit {need['spec']:.0f}); phi = identity (Delta = 1/2, L_phi = 1)"]
    if not inverts:
        verdict = "refuted"
        notes.append("E(G(z)) != z: the witness is not the theorem's")
    if not control_caught:
        notes.append("the attack did not catch the support-1 control: it lacked power, so no verdict")

    # Measurements outside the hypotheses: realistic capacities.
    sweep = {"digits": _sweep(clean, noise, mu, encoder, s, hidden=s.sweep_hidden, a=s.sweep_attack,
                              rng=rng, seed=config.seed, progress=config.progress)}
    bar.update()
    if s.mixture_hidden is not None:
        big = mixture_1200d(std=1.0)
        big_noise = NoiseModel(dim=big.dim, code_dim=s.code_dim)
        sweep["mixture_1200d"] = _sweep(big, big_noise, NoisedTarget(clean=big, noise=big_noise, sigma=s.sigma),
                                        NoiseExtractingEncoder(noise=big_noise), s, hidden=s.mixture_hidden,
                                        a=s.mixture_attack, rng=rng, seed=config.seed, progress=config.progress)
    bar.close()
    for name, sw in sweep.items():
        if not sw["support1"]["ci_low"] > s.eps:
            notes.append(f"{name} sweep: the realistic attacker did not catch its support-1 control")
    figures = [_figure(sweep, s.eps, config.out_dir)] if config.figures else []
    return make_result(
        "arz-thm1", config, s,
        verdict=verdict,
        params={"eps": s.eps, "p": need["p"], "m": k * k, "k": k, "code_dim": s.code_dim, "sigma": s.sigma,
                "phi": "identity", "class": probe.name.replace("K=1, ", ""), "target": clean.description,
                "target_support": clean.support, "attack": vars(s.verdict_attack), "eta": s.eta},
        measured=measured,
        bound={"value": s.eps, "label": "ε", "support_paper": need["paper"], "support_spec": need["spec"],
               "L_unit_ball": need["L_unit_ball"]},
        control=control,
        control_caught=control_caught,
        summary=(f"best of {detail['K']} attackers at m = {k * k}: gap {measured.estimate:.4f} "
                 f"[{measured.ci_low:.4f}, {measured.ci_high:.4f}]"),
        control_summary=f"support 1: gap {control.estimate:.3f} (lower {control.ci_low:.3f})",
        measurements={"verdict_attack": detail, "control_attack": control_detail, "encoder_inverts": inverts,
                      "theorem_support": need, "sweep": sweep},
        figures=figures,
        notes=notes,
    )


def _sweep(clean, noise, mu, encoder, s: Settings, *, hidden, a: AttackSettings, rng, seed, progress) -> dict:
    """Realistic attackers against memorizing generators with m = k² for each k of the sweep, and the controls."""
    phi = as_phi("identity")
    spec = dict(in_dim=clean.dim + noise.code_dim, hidden=hidden, weight_norm=s.sweep_weight_norm, bias_bound=1.0)
    probe = MLPFamily(K=1, generator=torch.Generator().manual_seed(0), **spec)
    rows = []
    for k in tqdm(s.sweep_k, desc=f"sweep m ({clean.dim}-d)", disable=not progress, leave=False):
        est, _ = attack(memorizing_generator(clean, noise, k=k, generator=rng), encoder, mu, family_spec=spec, a=a,
                        phi=phi, rng=rng, seed=seed)
        rows.append({"k": k, "m": k * k, "gap": est.to_dict()})
    one, _ = attack(support_one_generator(clean, noise, generator=rng), encoder, mu, family_spec=spec, a=a, phi=phi,
                    rng=rng, seed=seed)
    floor, _ = attack(FreshGenerator(clean, noise, rng), encoder, mu, family_spec=spec, a=a, phi=phi, rng=rng,
                      seed=seed)
    m = np.array([r["m"] for r in rows], dtype=float)
    g = np.array([r["gap"]["estimate"] for r in rows])
    positive = g > 0
    slope = float(np.polyfit(np.log(m[positive]), np.log(g[positive]), 1)[0]) if positive.sum() >= 2 else None
    below = [r["m"] for r in rows if r["gap"]["ci_high"] <= s.eps]
    need = theorem_support(probe, eps=s.eps, eta=s.eta)
    first = below[0] if below else None
    return {
        "class": probe.name.replace("K=1, ", ""), "p": probe.capacity, "eps": s.eps, "target": clean.description,
        "target_support": clean.support, "rows": rows, "support1": one.to_dict(), "perfect": floor.to_dict(),
        "slope_log_gap_vs_log_m": slope, "smallest_m_upper_below_eps": first,
        "theorem_support": need,
        "looseness_paper": (need["paper"] / first) if first else None,
        "looseness_spec": (need["spec"] / first) if first else None,
    }


def _figure(sweep: dict, eps: float, out_dir) -> str:
    fig, axes = new_figure(ncols=len(sweep))
    for ax, (name, sw) in zip(axes[0], sweep.items(), strict=True):
        m = np.array([r["m"] for r in sw["rows"]], dtype=float)
        est = np.array([r["gap"]["estimate"] for r in sw["rows"]])
        lo = np.array([r["gap"]["ci_low"] for r in sw["rows"]])
        hi = np.array([r["gap"]["ci_high"] for r in sw["rows"]])
        ax.errorbar(m, est, yerr=[est - lo, hi - est], fmt="o-", capsize=3, label="memorizing G (best attack)")
        for key, style, label in (("support1", "r", "support-1 control"), ("perfect", "g", "perfect G (floor)")):
            c = sw[key]
            ax.axhspan(c["ci_low"], c["ci_high"], color=style, alpha=0.15)
            ax.axhline(c["estimate"], color=style, lw=1, label=label)
        ax.axhline(eps, color="k", ls="--", label=f"ε = {eps}")
        ax.set_xscale("log")
        ax.set_xlabel("support m of the generator")
        ax.set_ylabel("BiGAN gap (identity φ), 95% interval")
        ax.set_title(f"{name}: p = {sw['p']}")
        ax.legend(fontsize=7)
    return save_figure(fig, out_dir, "arz-thm1_gap_vs_m")
