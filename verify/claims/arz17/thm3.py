r"""Claim ``arz-thm3``: the memorizing generator as a ReLU network (Arora, Risteski & Zhang 2017, Theorem 3), checked
exactly.

.. math::

    d_{TV}(\hat G(\nu), G(\nu)) \le \Pr_z[\hat G(z) \ne G(z)] = 1 - (1 - q)^{d'} \le \delta,
    \qquad q = \sum_{j=1}^{k-1} [F(\tau_j) - F(\max(\tau_{j-1}, \tau_j - w))]

with :math:`F(t) = 2\Phi(t/\sigma) - 1` the CDF of :math:`|z_i|` and :math:`w` the ramp width chosen from the TV
budget :math:`\delta` (``docs/papers/arz17.md``, [spec]); O(m d) non-zero weights, the largest of size 1/w.

**An exact claim.** The mismatch probability is computed two ways and must agree: the sympy formula above, and from
the network's own behaviour — every ramp's end points located by bisection on the network's step outputs (its
stored weights, float64) and their union's mass under the half-normal law (scipy). It must not exceed δ. The
non-zero weight count and the largest circuit weight are read generically from every weight tensor of the built
network and compared with formulas derived from the statement alone, not from the code that builds the network
(``GENERATOR_NUM_WEIGHTS_FROM_STATEMENT``: the literal network of the statement counted unit by unit;
``GENERATOR_MAX_WEIGHT_FOR_TV``: the largest weight in terms of δ); the O(m d) is checked symbolically
(weights / (m d) -> 1 + 6/d). E(Ĝ(z)) = z bit for bit. Verdict ``holds`` when every identity holds, ``fails`` when
one does not.

**Beside it:** a Monte-Carlo frequency of ``literal(z) != ideal(z)`` over fresh codes (Clopper-Pearson), a consistency
check of the exact value; and a TV sweep. **Control:** the same exact computation (the behavioural route) on a
network whose ramps are widened until the statement's formula gives exactly ``control_factor`` times δ (both
certificates of its true value are that exact computation) must exceed δ.

Shape letters: ``n`` samples, ``d`` image dimension, ``d_code`` code dimension, ``k`` intervals per coordinate,
``m`` = k**d_code blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import optimize, special

from ganlimits.constructions import (
    GaussianBlockPartition,
    IdealGenerator,
    MemorizingGenerator,
    NoiseExtractingEncoder,
    NoiseModel,
    digits,
)
from ganlimits.theory.arz17 import (
    GENERATOR_MAX_WEIGHT_FOR_TV,
    GENERATOR_NUM_WEIGHTS_FROM_STATEMENT,
    STEP_SLOPE_FOR_TV,
    mismatch_probability,
    weights_per_memory_entry_limit,
)

from ..._figures import new_figure, save_figure
from ..._registry import RunConfig
from ..._results import ClaimResult, Estimate
from ...estimators import clopper_pearson
from .._common import (
    CONFIDENCE,
    DIGITS_JITTER,
    NEAR_BOUNDARY,
    CheckedSettings,
    NearBoundaryControl,
    make_result,
    resolve_settings,
    streams_for,
)

__all__ = ["Settings", "run", "behavioural_mismatch", "generic_weight_stats"]

_REL_TOL = 1e-9  # the two routes to the mismatch probability: erf of located float64 end points vs sympy's erf


@dataclass(frozen=True)
class Settings(CheckedSettings):
    """Settings of ``arz-thm3``: ``k`` intervals per code coordinate, ``code_dim`` d' (m = k^d'), ``tv_budget`` δ,
    ``n_mc`` Monte-Carlo codes of the consistency check, ``control_factor`` how much wider the control's TV budget is,
    ``tv_sweep`` the budgets of the figure with ``n_sweep`` codes each."""

    _limits = {"k": {"low": 2, "integer": True},
               "tv_sweep": {"low": 0, "high": 1, "low_open": True, "high_open": True},
               "control_factor": {"low": NEAR_BOUNDARY[0] * 1.02, "high": NEAR_BOUNDARY[1]}}

    k: int
    code_dim: int
    tv_budget: float
    n_mc: int
    tv_sweep: tuple[float, ...]
    n_sweep: int
    control_factor: float = 2.0
    jitter: float = DIGITS_JITTER
    confidence: float = CONFIDENCE

    @classmethod
    def quick(cls) -> Settings:
        return cls(k=10, code_dim=2, tv_budget=0.05, n_mc=20_000, tv_sweep=(0.01, 0.03, 0.1, 0.3), n_sweep=5_000)

    @classmethod
    def full(cls) -> Settings:
        return cls(k=32, code_dim=2, tv_budget=0.02, n_mc=200_000, tv_sweep=(0.003, 0.01, 0.03, 0.1, 0.3),
                   n_sweep=50_000)

    def validate(self) -> None:
        if self.control_factor * self.tv_budget >= 1:
            raise ValueError(f"control_factor: the control's TV budget {self.control_factor} x {self.tv_budget} "
                             "must stay below 1")


def _half_normal_cdf(t: np.ndarray, sigma: float) -> np.ndarray:
    return special.erf(np.maximum(t, 0.0) / (sigma * np.sqrt(2.0)))


def behavioural_mismatch(gen: MemorizingGenerator, *, iterations: int = 200) -> dict:
    r"""Pr_z[some coordinate of z lies on a ramp], from the network's behaviour alone.

    For every coordinate i and threshold j, the end points of the set where the network's step j of coordinate i
    is strictly between 0 and 1 are located by bisection on ``gen.step_layer.steps`` (its stored weights, float64)
    to adjacent floats: a_ij = sup{t >= 0 : step = 0}, b_ij = inf{t : step = 1}. The union of the intervals of a
    coordinate (merged where they overlap) has mass q_i under the half-normal law of |z_i|, and the result is
    ``1 - prod_i (1 - q_i)``. Returns the probability, the per-coordinate masses and the largest measured slope
    1 / (b - a) of a step whose ramp lies above 0 (None when every ramp reaches 0).
    """
    layer, sigma = gen.step_layer, gen.sigma
    tau = layer.thresholds.clone()
    J, d_code = tau.numel(), gen.code_dim
    idx = torch.arange(J)

    def step_at(t: torch.Tensor) -> torch.Tensor:  # t (d_code, J) -> step j of coordinate i at t[i, j]
        with torch.no_grad():
            return layer.steps(t.T.contiguous())[idx, :, idx].T

    def bisect(lo, hi, below) -> torch.Tensor:  # last t where below(t) holds, lo satisfies it, hi does not
        for _ in range(iterations):
            mid = lo + (hi - lo) / 2
            ok = below(step_at(mid))
            lo, hi = torch.where(ok, mid, lo), torch.where(ok, hi, mid)
        return lo, hi

    zero = torch.zeros(d_code, J, dtype=torch.float64)
    top = tau.expand(d_code, J) + 1.0
    starts_on = step_at(zero) != 0
    _, a = bisect(zero, tau.expand(d_code, J).clone(), lambda v: v == 0)
    a = torch.where(starts_on, zero, a)  # the first t with step > 0
    _, b = bisect(a.clone(), top.clone(), lambda v: v != 1)  # b: the first t with step == 1
    q = []
    for i in range(d_code):
        spans = sorted(zip(a[i].tolist(), b[i].tolist(), strict=True))
        merged: list[list[float]] = []
        for lo, hi in spans:
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        ends = np.array(merged, dtype=np.float64)
        q.append(float((_half_normal_cdf(ends[:, 1], sigma) - _half_normal_cdf(ends[:, 0], sigma)).sum()))
    prob = 1.0 - float(np.prod([1.0 - qi for qi in q]))
    full = ~starts_on  # ramps cut at 0 do not show their whole slope
    slope = float((1.0 / (b - a))[full].max()) if bool(full.any()) else None
    return {"probability": prob, "q": q, "max_slope": slope}


def generic_weight_stats(gen: MemorizingGenerator) -> dict:
    """Non-zero weights and the largest circuit weight, read from every weight tensor of the network generically
    (buffers whose name ends in ``weight``; the reference generator's copy of the memory is not part of it)."""
    count, largest, memory_zeros = 0, 0.0, 0
    for name, buf in gen.named_buffers():
        leaf = name.rsplit(".", 1)[-1]
        if name.startswith("reference.") or not leaf.endswith("weight"):
            continue
        count += int(torch.count_nonzero(buf))
        if name.startswith("memory_layer."):
            memory_zeros = int((buf == 0).sum())
        else:
            largest = max(largest, float(buf.abs().max()))
    return {"num_nonzero_weights": count, "max_abs_circuit_weight": largest, "memory_zero_entries": memory_zeros}


def _build(s: Settings, tv_budget: float, memory, partition, noise) -> MemorizingGenerator:
    return MemorizingGenerator(memory=memory, partition=partition, noise=noise, tv_budget=tv_budget)


def _mc(gen: MemorizingGenerator, ideal: IdealGenerator, z: torch.Tensor, confidence: float, seed) -> Estimate:
    with torch.no_grad():
        differ = int((gen(z) != ideal(z)).any(dim=1).sum())
    return clopper_pearson(differ, z.shape[0], confidence=confidence, seed=seed)


def run(config: RunConfig, settings: Settings | None = None) -> ClaimResult:
    """Build Theorem 3's network and check it exactly against its statement (module docstring)."""
    s = resolve_settings(Settings, config, settings)
    streams = streams_for(config)
    clean = digits(jitter=s.jitter)
    noise = NoiseModel(dim=clean.dim, code_dim=s.code_dim)
    partition = GaussianBlockPartition(k=s.k, code_dim=s.code_dim, sigma=1.0)
    memory, _ = clean.sample(partition.m, generator=streams.torch("memory"))
    gen = _build(s, s.tv_budget, memory, partition, noise)
    ideal = IdealGenerator(memory=memory, partition=partition, noise=noise)
    encoder = NoiseExtractingEncoder(noise=noise)

    exact = mismatch_probability(k=s.k, code_dim=s.code_dim, width=gen.width, sigma=1.0)
    beh = behavioural_mismatch(gen)
    routes_agree = abs(beh["probability"] - exact) <= _REL_TOL * exact
    stats = generic_weight_stats(gen)
    values = {"k": s.k, "d_code": s.code_dim, "d": noise.dim, "m": partition.m}
    count_formula = int(GENERATOR_NUM_WEIGHTS_FROM_STATEMENT(**values)) - stats["memory_zero_entries"]
    max_formula = float(GENERATOR_MAX_WEIGHT_FOR_TV(k=s.k, d_code=s.code_dim, tv_budget=s.tv_budget, sigma=1.0))
    slope_formula = float(STEP_SLOPE_FOR_TV(k=s.k, d_code=s.code_dim, tv_budget=s.tv_budget, sigma=1.0))
    z = torch.randn(s.n_mc, s.code_dim, generator=streams.torch("mc"), dtype=torch.float64)
    with torch.no_grad():
        inverts = bool(torch.equal(encoder(gen(z)), z)) and bool(torch.equal(encoder(gen.fast(z)), z))
    identities = {
        "mismatch_within_budget": exact <= s.tv_budget,
        "mismatch_routes_agree": routes_agree,
        "weight_count_equals_statement": stats["num_nonzero_weights"] == count_formula,
        "max_weight_equals_statement": abs(stats["max_abs_circuit_weight"] - max_formula) <= 1e-12 * max_formula,
        "step_slope_equals_statement": beh["max_slope"] is not None
        and abs(beh["max_slope"] - slope_formula) <= 1e-6 * slope_formula,
        "encoder_inverts_generator": inverts,
    }
    measured_mc = _mc(gen, ideal, z, s.confidence, config.seed)

    # Control: the same exact computation on ramps whose exact mismatch is control_factor x delta.
    def excess(width: float) -> float:
        return mismatch_probability(k=s.k, code_dim=s.code_dim, width=width, sigma=1.0) - s.control_factor * s.tv_budget

    hi = gen.width
    while excess(hi) < 0:
        hi *= 2
    width_c = float(optimize.brentq(excess, gen.width, hi, xtol=1e-15, rtol=1e-13))
    ctrl = MemorizingGenerator(memory=memory, partition=partition, noise=noise, tv_budget=s.tv_budget, width=width_c)
    ctrl_exact = mismatch_probability(k=s.k, code_dim=s.code_dim, width=width_c, sigma=1.0)
    ctrl_beh = behavioural_mismatch(ctrl)
    control = NearBoundaryControl.exact(
        f"ramps of width {width_c:.4g} (exact mismatch {s.control_factor:g} delta)", ctrl_exact,
        truth="exact: the ramp masses of the statement's formula (sympy), widths solved for control_factor x delta",
        bound=s.tv_budget, measured=Estimate.exact(ctrl_beh["probability"]))
    failed = [name for name, ok in identities.items() if not ok]
    if failed:
        verdict, reason = "fails", f"exact identities failed: {', '.join(failed)}"
    elif not control.caught:
        verdict, reason = "inconclusive", "the exact check did not flag the wide-ramp control"
    else:
        verdict, reason = "holds", (f"exact mismatch {exact:.6g} <= delta = {s.tv_budget:g} (two routes agree), "
                                    "weight count and largest weight equal the statement's, E(G(z)) = z")
    notes = [f"verdict: {reason}"]
    if not measured_mc.ci_low <= exact <= measured_mc.ci_high:
        notes.append(f"the exact mismatch {exact:.4g} lies outside the Monte-Carlo interval {measured_mc.fmt()} "
                     f"(a {1 - s.confidence:g}-level event, or an error)")
    sweep = _tv_sweep(s, memory, partition, noise, ideal, streams, config.seed)
    figures = [_figure(sweep, config.out_dir)] if config.figures else []
    limit = weights_per_memory_entry_limit()
    return make_result(
        "arz-thm3", config, s, verdict=verdict, verdict_reason=reason, near_control=control,
        params={"k": s.k, "code_dim": s.code_dim, "dim": noise.dim, "m": partition.m, "delta": s.tv_budget,
                "sigma": 1.0, "n_mc": s.n_mc, "target": clean.description},
        measured=Estimate.exact(exact, n=1),
        bound={"value": s.tv_budget, "label": "TV budget δ"},
        summary=(f"Pr[network ≠ step function] = {exact:.6g} exact (behaviour {beh['probability']:.6g}) <= δ = "
                 f"{s.tv_budget:g}; Monte Carlo {measured_mc.fmt()}; weights {stats['num_nonzero_weights']} = "
                 f"statement {count_formula}; largest {stats['max_abs_circuit_weight']:.6g} = "
                 f"{max_formula:.6g}"),
        control_summary=(f"{control.name}: exact mismatch {ctrl_exact:.6g} "
                         + ("exceeds δ (caught)" if control.caught else "does not exceed δ (missed)")),
        measurements={
            "mismatch_exact": exact, "mismatch_behaviour": beh, "monte_carlo": measured_mc.to_dict(),
            "mismatch_exact_in_mc_interval": measured_mc.ci_low <= exact <= measured_mc.ci_high,
            "ramp_width": float(gen.width), **stats, "num_nonzero_weights_statement": count_formula,
            "max_weight_statement": max_formula, "step_slope_statement": slope_formula,
            "weights_per_memory_entry": stats["num_nonzero_weights"] / (partition.m * noise.dim),
            "weights_per_memory_entry_limit": str(limit), **identities,
            "control_exact": ctrl_exact, "control_behaviour": ctrl_beh["probability"], "tv_sweep": sweep},
        notes=notes, figures=figures)


def _tv_sweep(s, memory, partition, noise, ideal, streams, seed) -> list[dict]:
    rows = []
    for delta in s.tv_sweep:
        gen = _build(s, delta, memory, partition, noise)
        z = torch.randn(s.n_sweep, partition.code_dim, generator=streams.torch("sweep", str(delta)),
                        dtype=torch.float64)
        rows.append({"delta": delta, "exact": float(gen.mismatch_probability()),
                     "mc": _mc(gen, ideal, z, s.confidence, seed).to_dict()})
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
