"""Claim ``arz-thm3``: the memorizing generator as a ReLU network (Arora, Risteski & Zhang 2017, Theorem 3).

.. math::

    d_{TV}(\\hat G(\\nu), G(\\nu)) \\le \\Pr_z[\\hat G(z) \\ne G(z)] = 1 - (1 - q)^{d'} \\le \\delta,
    \\qquad q = \\sum_{j=1}^{k-1} [F(\\tau_j) - F(\\tau_j - w)]

with :math:`F(t) = 2\\Phi(t/\\sigma) - 1` the CDF of :math:`|z_i|` and :math:`w` the ramp width chosen from the TV
budget :math:`\\delta` (MATH.md §1.8, [spec]).

Measured: the exact mismatch probability (float64, from the ramp masses), a Monte-Carlo frequency of
``literal(z) != ideal(z)`` over fresh codes with a Clopper-Pearson interval, and the bound δ; the non-zero weight
count and the largest weight against their theory formulas; E(G(z)) == z bit for bit. Verdict: ``verdict_upper`` on
the Monte-Carlo frequency vs δ. Control (power): the same Monte-Carlo test must catch a network built with a TV
budget ten times larger (its mismatch frequency's lower limit must exceed δ).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ganlimits.constructions import (
    GaussianBlockPartition,
    IdealGenerator,
    MemorizingGenerator,
    NoiseExtractingEncoder,
    NoiseModel,
    digits,
)
from ganlimits.theory import arz_thm3_summary

from .._figures import new_figure, save_figure
from .._registry import RunConfig
from .._results import ClaimResult, verdict_upper
from ..estimators import clopper_pearson
from ._common import CONFIDENCE, CheckedSettings, make_result, resolve_settings

__all__: list[str] = []

@dataclass(frozen=True)
class Settings(CheckedSettings):
    """Settings of ``arz-thm3``: ``k`` intervals per code coordinate, ``code_dim`` d' (m = k^d'), ``tv_budget`` δ,
    ``n_mc`` Monte-Carlo codes, ``control_factor`` how much wider the control's TV budget is, ``tv_sweep`` the budgets
    of the figure with ``n_sweep`` codes each."""

    _limits = {"k": {"low": 2, "integer": True},
               "tv_sweep": {"low": 0, "high": 1, "low_open": True, "high_open": True},
               "control_factor": {"low": 1, "low_open": True}}

    k: int
    code_dim: int
    tv_budget: float
    n_mc: int
    control_factor: float
    tv_sweep: tuple[float, ...]
    n_sweep: int
    confidence: float = CONFIDENCE

    @classmethod
    def quick(cls) -> Settings:
        return cls(k=10, code_dim=2, tv_budget=0.05, n_mc=20_000, control_factor=10.0,
                   tv_sweep=(0.01, 0.03, 0.1, 0.3), n_sweep=5_000)

    @classmethod
    def full(cls) -> Settings:
        return cls(k=32, code_dim=2, tv_budget=0.02, n_mc=200_000, control_factor=10.0,
                   tv_sweep=(0.003, 0.01, 0.03, 0.1, 0.3), n_sweep=50_000)


def _build(*, k: int, code_dim: int, tv_budget: float, rng: torch.Generator):
    target = digits(jitter=0.05)
    noise = NoiseModel(dim=target.dim, code_dim=code_dim)
    partition = GaussianBlockPartition(k=k, code_dim=code_dim, sigma=1.0)
    memory, _ = target.sample(partition.m, generator=rng)
    gen = MemorizingGenerator(memory=memory, partition=partition, noise=noise, tv_budget=tv_budget)
    return gen, noise, partition, memory


def _mismatch_frequency(gen: MemorizingGenerator, ideal: IdealGenerator, z: torch.Tensor) -> tuple[int, int]:
    """(rows where the literal network differs from the ideal generator, rows where z is on a ramp)."""
    with torch.no_grad():
        literal = gen(z)
        reference = ideal(z)
    differ = (literal != reference).any(dim=1)
    on_ramp = gen.ramp_mask(z)
    return int(differ.sum()), int(on_ramp.sum())


def run(config: RunConfig, settings: Settings | None = None) -> ClaimResult:
    """Build Theorem 3's network and compare it with the ideal generator (module docstring)."""
    s = resolve_settings(Settings, config, settings)
    rng = torch.Generator().manual_seed(config.seed)
    gen, noise, partition, memory = _build(k=s.k, code_dim=s.code_dim, tv_budget=s.tv_budget, rng=rng)
    ideal = IdealGenerator(memory=memory, partition=partition, noise=noise)
    encoder = NoiseExtractingEncoder(noise=noise)

    z = torch.randn(s.n_mc, s.code_dim, generator=rng, dtype=torch.float64)
    n_differ, n_ramp = _mismatch_frequency(gen, ideal, z)
    measured = clopper_pearson(n_differ, s.n_mc, confidence=s.confidence, seed=config.seed)
    exact = float(gen.mismatch_probability())
    with torch.no_grad():
        inverts = bool(torch.equal(encoder(gen(z)), z)) and bool(torch.equal(encoder(gen.fast(z)), z))

    summary = arz_thm3_summary(k=s.k, code_dim=s.code_dim, dim=noise.dim, tv_budget=s.tv_budget, sigma=1.0)
    weights_match = int(gen.num_nonzero_weights()) == int(summary["num_nonzero_weights"])
    max_weight_ok = float(gen.max_abs_circuit_weight()) <= float(summary["max_weight"]) * (1 + 1e-12)
    exact_in_interval = measured.ci_low <= exact <= measured.ci_high

    # Control: a network whose ramps are ten times wider than the theorem prescribes for delta.
    control_delta = min(0.99, s.control_factor * s.tv_budget)
    ctrl_gen = MemorizingGenerator(memory=memory, partition=partition, noise=noise, tv_budget=control_delta)
    z_ctrl = torch.randn(s.n_mc, s.code_dim, generator=rng, dtype=torch.float64)
    ctrl_differ, _ = _mismatch_frequency(ctrl_gen, ideal, z_ctrl)
    control = clopper_pearson(ctrl_differ, s.n_mc, confidence=s.confidence, seed=config.seed)
    control_caught = control.ci_low > s.tv_budget

    verdict = verdict_upper(measured, s.tv_budget, control_caught=control_caught)
    notes = []
    identities = {"encoder_inverts_generator": inverts, "weight_count_equals_formula": weights_match,
                  "max_weight_within_formula": max_weight_ok}
    if not all(identities.values()):
        failed = [k for k, v in identities.items() if not v]
        notes.append(f"exact identities failed: {', '.join(failed)}")
        verdict = "refuted"
    if not exact_in_interval:
        notes.append(f"the exact mismatch probability {exact:.4g} lies outside the Monte-Carlo interval "
                     f"[{measured.ci_low:.4g}, {measured.ci_high:.4g}] "
                     f"(a {1 - s.confidence:g}-level event, or an error)")
    if not control_caught:
        notes.append("the Monte-Carlo test did not catch the wide-ramp control: the attack lacked power")

    sweep = _tv_sweep(s, memory, partition, noise, ideal, rng, config.seed)
    figures = [_figure(sweep, config.out_dir)] if config.figures else []
    return make_result(
        "arz-thm3", config, s,
        verdict=verdict,
        params={"k": s.k, "code_dim": s.code_dim, "dim": noise.dim, "m": partition.m, "delta": s.tv_budget,
                "sigma": 1.0, "n_mc": s.n_mc, "target": "digits(jitter=0.05)"},
        measured=measured,
        bound={"value": s.tv_budget, "label": "TV budget δ"},
        control=control,
        control_caught=control_caught,
        summary=(f"Pr[literal ≠ ideal]: MC {measured.estimate:.4f} [{measured.ci_low:.4f}, {measured.ci_high:.4f}], "
                 f"exact {exact:.4f}; weights {gen.num_nonzero_weights()} = formula: {weights_match}"),
        control_summary=f"ramps for δ={control_delta:g}: MC {control.estimate:.4f} (lower {control.ci_low:.4f})",
        measurements={
            "mismatch_exact": exact,
            "mismatch_exact_in_mc_interval": exact_in_interval,
            "ramp_frequency": n_ramp / s.n_mc,
            "ramp_width": float(gen.width),
            "num_nonzero_weights": int(gen.num_nonzero_weights()),
            "num_nonzero_weights_formula": int(summary["num_nonzero_weights"]),
            "max_abs_circuit_weight": float(gen.max_abs_circuit_weight()),
            "max_abs_weight_with_memory": float(gen.max_abs_weight()),
            "max_weight_formula": float(summary["max_weight"]),
            "tv_bound_dq": float(summary["tv_bound"]),
            **identities,
            "control_delta": control_delta,
            "control_exact": float(ctrl_gen.mismatch_probability()),
            "tv_sweep": sweep,
        },
        notes=notes,
        figures=figures,
    )


def _tv_sweep(s, memory, partition, noise, ideal, rng, seed) -> list[dict]:
    rows = []
    for delta in s.tv_sweep:
        gen = MemorizingGenerator(memory=memory, partition=partition, noise=noise, tv_budget=delta)
        z = torch.randn(s.n_sweep, partition.code_dim, generator=rng, dtype=torch.float64)
        n_differ, _ = _mismatch_frequency(gen, ideal, z)
        est = clopper_pearson(n_differ, s.n_sweep, confidence=s.confidence, seed=seed)
        rows.append({"delta": delta, "exact": float(gen.mismatch_probability()), "mc": est.to_dict()})
    return rows


def _figure(sweep: list[dict], out_dir) -> str:
    fig, axes = new_figure()
    ax = axes[0, 0]
    deltas = np.array([r["delta"] for r in sweep])
    mc = np.array([r["mc"]["estimate"] for r in sweep])
    lo = np.array([r["mc"]["ci_low"] for r in sweep])
    hi = np.array([r["mc"]["ci_high"] for r in sweep])
    ax.plot(deltas, deltas, "k--", label="bound δ")
    ax.plot(deltas, [r["exact"] for r in sweep], "o-", label="exact (ramp masses)")
    ax.errorbar(deltas, mc, yerr=[mc - lo, hi - mc], fmt="s", capsize=3, label="Monte Carlo (95% CP)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("TV budget δ")
    ax.set_ylabel("Pr[literal network ≠ ideal generator]")
    ax.set_title("Theorem 3: TV of the ReLU network")
    ax.legend()
    return save_figure(fig, out_dir, "arz-thm3_tv")

