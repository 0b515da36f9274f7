# ruff: noqa: E741  (l and r are the lecture's names for the interval ends)
"""Claim ``li17-dynamics``: on a mixture of two unit Gaussians, optimal-discriminator dynamics converge, while
simultaneous first-order dynamics sometimes converge but more often than not fail (Li, Madry, Peebles & Schmidt
2017, as presented in Madry's lecture 9, section 2; ``docs/papers/li17.md``).

.. math::
    L(\\mu, l, r) = E_{x\\sim G_{\\mu^*}} D(x) + E_{x\\sim G_\\mu}(1 - D(x)),\\qquad
    D = 1[l_1, r_1] + 1[l_2, r_2]

Protocol (float64; randomness from the run's named streams):

* target mu* = (-0.5, 0.5) and step 0.1 for both players: the setting of the lecture's Figure 1, whose panels
  (a) and (c) show an optimal-discriminator run and a first-order run that converge. (1,000 steps, mu* = (-2, 2)
  and step 0.3 belong to the Figure 2 discriminator-collapse example, which is reproduced beside the verdict.)
* n i.i.d. initial means mu0 ~ Uniform([-3, 3]^2); a first-order run also draws its discriminator, the four ends
  being the sorted values of four i.i.d. Uniform([-3, 3]) draws. Deviation: the lecture does not say how its
  runs were initialised; this distribution is the project's own choice.
* the horizon is chosen by stabilisation (:func:`~ganlimits.verify.lab.dynamics.outcomes_until_settled`): the runs are
  classified at every checkpoint, and the horizon is the first checkpoint at which fewer than 1% of the
  verdict's runs are still moving; the fractions against the step count are reported and plotted. Still-moving
  runs are reported apart and counted neither as converged nor as failed.
* three parts, each on one-sided 95% Clopper-Pearson limits: (a) the optimal dynamics' converged share has
  lower limit >= 0.95; (b) the first-order converged share has lower limit > 0 ("sometimes converge"); (c) the
  first-order failed share (mode collapse or vanishing gradient) has lower limit > 0.5 ("more often than not the
  first order dynamics fail"). (a) and (c) each carry a near-boundary control and a power curve: planted
  populations of runs with an exactly known share, mixing known-outcome runs (merged starts, which the dynamics
  cannot separate by symmetry; starts at the equilibrium with empty intervals, a fixed point) with runs resampled
  from the verdict's own classified runs, attacked exactly as the verdict is (n runs, the same one-sided limit).
  Verdict: ``refuted`` if a part is refuted, ``consistent`` if all three are (with every known-outcome run
  classified correctly and the runs settled), ``inconclusive`` otherwise.
* beside the verdict: a sweep over k discriminator steps per generator step (each k at its own settled horizon),
  the Figure 2 collapse example, and outcome maps over a grid of initial means.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy import stats

from ..._registry import RunConfig
from ..._results import ClaimResult, Estimate
from ..._sweep import run_trials
from ...lab.dynamics import detect_discriminator_collapse, outcomes_until_settled, proportion_interval
from .._common import (
    CONFIDENCE,
    CheckedSettings,
    NearBoundaryControl,
    PowerCurve,
    decide,
    make_result,
    resolve_settings,
    streams_for,
)
from ._support import BOX, ETA, MU_STAR, figure2_runs, li17_figures, random_starts

__all__ = ["run", "Settings", "k_sweep_trial"]
CONVERGED_MIN = 0.95  # (a) "always converge": one-sided lower limit of the converged share at least this
FAILED_MIN = 0.5  # (c) "more often than not fail": one-sided lower limit of the failed share above this
OPT_RATIOS = (1.2, 1.5, 2.0, 2.5, 3.0)  # planted non-converged share over the allowed 5%
OPT_CONTROL_RATIO = 2.5
FO_RATIOS = (1.1, 1.2, 1.4, 1.6, 1.8)  # planted distance from "every run fails" over the bound's distance 0.5
FO_CONTROL_RATIO = 1.6
CONTROL_POOL = 24  # known-outcome runs of each kind riding along with the verdict's runs


def _increasing(name: str, values: tuple[int, ...]) -> None:
    if any(b <= a for a, b in zip(values, values[1:], strict=False)):
        raise ValueError(f"{name} must increase strictly, got {values!r}")


@dataclass(frozen=True)
class Settings(CheckedSettings):
    """Settings of ``li17-dynamics``: ``n_runs`` i.i.d. starts per dynamics; ``checkpoints`` /
    ``opt_checkpoints`` the generator step counts at which first-order / optimal runs are classified (the horizon
    is the first with fewer than ``settled_share`` still moving, then ``extra_checkpoints`` more are run to show
    the fractions have stopped moving); ``k_values`` discriminator steps per generator step swept on ``n_sweep``
    starts up to ``sweep_checkpoints``; ``power_repeats`` planted populations per strength; ``grid`` points per
    axis of the outcome maps (0: none); ``fig2_steps`` of the Figure 2 example; ``record_every`` step."""

    _limits = {"settled_share": {"low": 0, "high": 1, "low_open": True, "high_open": True},
               "extra_checkpoints": {"low": 0, "integer": True}, "grid": {"low": 0, "integer": True}}

    n_runs: int
    checkpoints: tuple[int, ...]
    opt_checkpoints: tuple[int, ...]
    k_values: tuple[int, ...]
    n_sweep: int
    sweep_checkpoints: tuple[int, ...]
    power_repeats: int
    grid: int
    extra_checkpoints: int = 0
    settled_share: float = 0.01
    fig2_steps: int = 1000
    record_every: int = 10

    def validate(self) -> None:
        for name in ("checkpoints", "opt_checkpoints", "sweep_checkpoints"):
            _increasing(name, getattr(self, name))
            if min(getattr(self, name)) < self.record_every:
                raise ValueError(f"{name}: every checkpoint must be >= record_every = {self.record_every}")
        if len(set(self.k_values)) != len(self.k_values) or not self.k_values:
            raise ValueError(f"k_values must be distinct discriminator step counts >= 1, got {self.k_values!r}")
        records = (max(self.checkpoints) // self.record_every + 1) * (self.n_runs + 2 * CONTROL_POOL + 2) * 48
        if records > 2e9:
            raise ValueError(f"checkpoints / record_every: recording {max(self.checkpoints)} steps every "
                             f"{self.record_every} for {self.n_runs} runs needs {records / 1e9:.1f} GB")
        if max(self.k_values) * max(self.sweep_checkpoints) > 5_000_000:
            raise ValueError(f"k_values: k = {max(self.k_values)} over {max(self.sweep_checkpoints)} generator steps "
                             "is more than 5 million discriminator steps per run")
        # The near-boundary controls must be catchable at this n: a planted converged share of 1 - 3 x 5% must
        # give a one-sided upper limit below 0.95 (and a failed share of 0.1 one below 0.5).
        n = self.n_runs
        if _upper(round((1 - 3 * (1 - CONVERGED_MIN)) * n), n) >= CONVERGED_MIN:
            raise ValueError(f"n_runs = {n} is too small: even a converged share of 0.85 could not be told from "
                             f"{CONVERGED_MIN} (the near-boundary control would be impossible)")

    @classmethod
    def quick(cls) -> Settings:
        return cls(n_runs=150, checkpoints=(1000, 2000, 5000, 10000, 20000), opt_checkpoints=(300, 600, 1000),
                   k_values=(1, 10), n_sweep=40, sweep_checkpoints=(500, 1000, 2000), power_repeats=200, grid=0)

    @classmethod
    def full(cls) -> Settings:
        return cls(n_runs=600, checkpoints=(1000, 2000, 3000, 5000, 10000, 20000, 40000),
                   opt_checkpoints=(300, 600, 1000, 2000), k_values=(1, 2, 5, 10, 20), n_sweep=100,
                   sweep_checkpoints=(1000, 2000, 5000, 10000), power_repeats=400, grid=15,
                   extra_checkpoints=1)


def _upper(successes: int, n: int) -> float:
    return proportion_interval(int(successes), n, confidence=CONFIDENCE, sides=1).ci_high


def k_sweep_trial(config: dict, seed: int) -> dict:
    """First-order dynamics with ``config["k"]`` discriminator steps per generator step from ``config["n"]`` starts
    drawn from ``np.random.default_rng(seed)`` (the same starts for every k), run until settled."""
    rng = np.random.default_rng(int(seed))
    mu0, l0, r0 = random_starts(rng, int(config["n"]))
    curve = outcomes_until_settled(dynamics="first-order", mu0=mu0, l0=l0, r0=r0, mu_star=torch.tensor(MU_STAR),
                                   eta_g=ETA, eta_d=ETA, checkpoints=tuple(config["checkpoints"]),
                                   d_steps=int(config["k"]), settled_share=config["settled_share"],
                                   record_every=int(config["record_every"]))
    return {"k": int(config["k"]), **curve.to_dict(confidence=CONFIDENCE)}


def _planted_power(labels: np.ndarray, target, known: str, ratios, control_ratio: float, bound: float,
                   rng: np.random.Generator, repeats: int, label: str
                   ) -> tuple[PowerCurve | None, NearBoundaryControl | None, dict]:
    """Power of the one-sided limit on the share of ``target`` labels (claim: share >= ``bound``, baseline 1) against
    planted populations: a run is a known-outcome run (label ``known``, never ``target``) with probability q, else
    one of the verdict's own classified ``labels`` drawn uniformly. The planted share q' = (1 - q) x/n is known
    exactly; strengths are 1 - ratio (1 - bound). Common random numbers across strengths."""
    n = labels.size
    hit = np.isin(labels, [target] if isinstance(target, str) else list(target))
    share = hit.mean()
    strengths = [1 - ratio * (1 - bound) for ratio in ratios]
    if share <= max(strengths):
        return None, None, {"reason": f"the verdict's own share {share:.3f} is already below the planted ones"}
    u = rng.random((repeats, n))
    draws = hit[rng.integers(0, n, size=(repeats, n))]
    caught = np.array([_upper(c, n) < bound for c in range(n + 1)])  # the attack's decision for each count
    detected, qs = [], []
    for s in strengths:
        q = 1 - s / share
        counts = ((u >= q) & draws).sum(axis=1)
        detected.append(int(caught[counts].sum()))
        qs.append(q)
    curve = PowerCurve(strengths=tuple(strengths), detected=tuple(detected), repeats=repeats, n=n, bound=bound,
                       baseline=1.0, label=label, direction="lower", confidence=CONFIDENCE)
    i = list(ratios).index(control_ratio)
    c_count = int(((rng.random(n) >= qs[i]) & hit[rng.integers(0, n, size=n)]).sum())
    measured = proportion_interval(c_count, n, confidence=CONFIDENCE, sides=1)
    control = NearBoundaryControl.exact(
        f"{label}: planted share {strengths[i]:.3f}", strengths[i], baseline=1.0, direction="lower",
        truth=f"exact: with probability {qs[i]:.3f} a known-outcome run ({known}), else one of the verdict's {n} "
              f"runs drawn uniformly (share {share:.4f}), so the planted share is (1 - {qs[i]:.3f}) x {share:.4f}",
        measured=measured, bound=bound)
    return curve, control, {"mixing_probability": qs, "verdict_share": float(share)}


def run(config: RunConfig, settings: Settings | None = None) -> ClaimResult:
    """Run the claim (module docstring: protocol, parts and verdict rule)."""
    s = resolve_settings(Settings, config, settings)
    streams = streams_for(config)
    n, P = s.n_runs, CONTROL_POOL
    ms = torch.tensor(MU_STAR, dtype=torch.float64)
    mu0, l0, r0 = random_starts(streams.numpy("starts"), n)
    ctl = streams.numpy("known-outcome runs")
    merged = torch.from_numpy(np.repeat(ctl.uniform(-BOX, BOX, (P, 1)), 2, axis=1))
    # optimal: the verdict's starts, then P merged starts (cannot separate: symmetry) and one start near mu*
    opt = outcomes_until_settled(dynamics="optimal", mu0=torch.cat([mu0, merged, torch.tensor([[-0.9, 0.8]])]),
                                 mu_star=ms, eta_g=ETA, checkpoints=s.opt_checkpoints, settled_share=s.settled_share,
                                 record_every=s.record_every, decide_rows=n)
    # first order: the verdict's starts, P merged starts (never separate), P fixed points (mu0 = mu*, empty
    # intervals at random places: every gradient is 0), one start whose intervals lie far from all mass
    _, fl, fr = random_starts(ctl, P)
    pts = np.sort(ctl.uniform(-BOX, BOX, (P, 2)), axis=1)
    empty = torch.from_numpy(pts)
    fo = outcomes_until_settled(
        dynamics="first-order", mu0=torch.cat([mu0, merged, ms.expand(P, 2), torch.tensor([[2.0, 2.6]])]),
        l0=torch.cat([l0, fl, empty, torch.tensor([[-14.0, -11.0]])]),
        r0=torch.cat([r0, fr, empty, torch.tensor([[-12.0, -10.0]])]), mu_star=ms, eta_g=ETA, eta_d=ETA,
        checkpoints=s.checkpoints, settled_share=s.settled_share, extra_checkpoints=s.extra_checkpoints,
        record_every=s.record_every, decide_rows=n)
    opt_lab, fo_lab = opt.outcomes.labels, fo.outcomes.labels
    fig2 = figure2_runs(s.fig2_steps)
    cases = [("optimal dynamics from merged starts", "mode-collapse", set(opt_lab[n:n + P])),
             ("optimal dynamics from mu0 = (-0.9, 0.8)", "converged", {opt_lab[-1]}),
             ("first order from merged starts", "mode-collapse", set(fo_lab[n:n + P])),
             ("first order from the equilibrium with empty intervals (fixed point)", "converged",
              set(fo_lab[n + P:n + 2 * P])),
             ("first order, intervals [-14, -12], [-11, -10], mu0 = (2, 2.6)", "vanishing-gradient", {fo_lab[-1]}),
             ("Figure 2(c): discriminator alone, reading A", "flagged",
              {"flagged" if fig2["A"]["discriminator-only"]["collapsed"] else "not flagged"}),
             ("same fixed generator, discriminator started at the optimum", "not flagged",
              {"flagged" if fig2["optimal-start"]["collapsed"] else "not flagged"})]
    ok = [got == {want} for _, want, got in cases]

    opt_v = _sub(opt, n)
    fo_v = _sub(fo, n)
    opt_1 = opt_v["one"]["converged"]
    fo_conv, fo_fail = fo_v["one"]["converged"], fo_v["one"]["failed"]
    power_rng = streams.numpy("power")
    curve_a, ctrl_a, info_a = _planted_power(opt_lab[:n], "converged", "a merged start", OPT_RATIOS, OPT_CONTROL_RATIO,
                                             CONVERGED_MIN,
                                             power_rng, s.power_repeats, "optimal converged")
    curve_c, ctrl_c, info_c = _planted_power(fo_lab[:n], ("mode-collapse", "vanishing-gradient"),
                                             "a fixed point at the equilibrium", FO_RATIOS, FO_CONTROL_RATIO,
                                             FAILED_MIN, power_rng,
                                             s.power_repeats, "first-order failed")
    parts = {"a": _part(opt_1, CONVERGED_MIN, ctrl_a, curve_a), "c": _part(fo_fail, FAILED_MIN, ctrl_c, curve_c)}
    b_ok = fo_conv.ci_low > 0
    parts["b"] = ("consistent" if b_ok else "inconclusive",
                  f"{int(round(fo_conv.estimate * n))} of {n} first-order runs converged (one-sided lower limit "
                  f"{fo_conv.ci_low:.3g}{' > 0' if b_ok else ' = 0'})")
    verdicts = [v for v, _ in parts.values()]
    settled = opt.settled and fo.settled
    if "refuted" in verdicts:
        verdict = "refuted"
    elif all(v == "consistent" for v in verdicts) and all(ok) and settled:
        verdict = "consistent"
    else:
        verdict = "inconclusive"
    reason = "; ".join(f"({k}) {v}: {r}" for k, (v, r) in sorted(parts.items()))
    if not all(ok):
        reason += "; a known-outcome run was misclassified"
    if not settled:
        reason += f"; the runs had not settled by the last checkpoint (fewer than {s.settled_share:.0%} still moving)"
    pvalue = _pvalue(verdict, parts, round(opt_1.estimate * n), round(fo_fail.estimate * n), n)

    sweep_cfg = {"n": s.n_sweep, "checkpoints": list(s.sweep_checkpoints), "settled_share": s.settled_share,
                 "record_every": s.record_every}
    sweep_seed = streams.seed("k-sweep")
    sweep = run_trials(k_sweep_trial, [({**sweep_cfg, "k": k}, sweep_seed) for k in s.k_values],
                       path=Path(config.out_dir) / "li17-dynamics.k-sweep.jsonl", resume=config.resume,
                       n_jobs=config.n_jobs, scheduler=config.scheduler, desc="li17 k-sweep", progress=config.progress)
    fo_dc = detect_discriminator_collapse(fo.trajectory)
    measurements = {
        "optimal_dynamics": opt_v["dict"], "first_order_dynamics": {
            **fo_v["dict"], "discriminator_collapse_flagged": int(fo_dc.collapsed[:n].sum()),
            "discriminator_collapse_criterion": fo_dc.criterion},
        "parts": {k: {"verdict": v, "reason": r} for k, (v, r) in parts.items()},
        "one_sided": {"optimal_converged": opt_1.to_dict(), "first_order_converged": fo_conv.to_dict(),
                      "first_order_failed": fo_fail.to_dict()},
        "power_optimal": None if curve_a is None else {**curve_a.to_dict(), **info_a},
        "control_optimal": None if ctrl_a is None else ctrl_a.to_dict(),
        "power_first_order": None if curve_c is None else {**curve_c.to_dict(), **info_c},
        "k_sweep": sweep,
        "figure2": {rd: {name: {k: v for k, v in r.items() if k != "trajectory"} for name, r in runs.items()}
                    for rd, runs in fig2.items() if rd != "optimal-start"},
        "controls": [{"case": c, "expected": e, "got": sorted(str(x) for x in g)} for c, e, g in cases],
    }
    figures = li17_figures(config, s, opt, fo, n, sweep, fig2, curve_a, curve_c) if config.figures else []
    extra = {} if ctrl_c is not None else {"control": fo_fail, "control_caught": False, "control_true_value": None}
    return make_result(
        "li17-dynamics", config, s, verdict=verdict, measured=fo_fail, near_control=ctrl_c, power=curve_c, **extra,
        verdict_reason=reason, verdict_pvalue=pvalue,
        params={"mu_star": list(MU_STAR), "eta_g": ETA, "eta_d": ETA, "box": BOX, "n_runs": n,
                "horizon_first_order": fo.horizon, "horizon_optimal": opt.horizon, "confidence": CONFIDENCE,
                "sides": 1, "converged_min": CONVERGED_MIN, "failed_min": FAILED_MIN},
        bound={"value": FAILED_MIN, "label": "first-order failed share (mode collapse or vanishing gradient), "
               "one-sided lower limit >", "optimal_converged_min": CONVERGED_MIN,
               "first_order_converged_min": 0.0},
        summary=(f"at the settled horizons ({opt.horizon} / {fo.horizon} steps): optimal converged {opt_1.fmt()}; "
                 f"first order converged {fo_conv.fmt()}, failed {fo_fail.fmt()}, still moving "
                 f"{fo_v['one']['other'].estimate:.3f}"),
        control_summary=f"{sum(ok)}/{len(ok)} known-outcome cases classified correctly",
        measurements=measurements, figures=figures,
        notes=[f"outcome criterion: {fo.outcomes.criterion}",
               "initial states: mu0 i.i.d. Uniform([-3, 3]^2); first-order discriminator ends = sorted 4 i.i.d. "
               "Uniform([-3, 3]) (the project's own choice: the lecture does not state its initialisation); the "
               "same mu0 for both dynamics",
               "the horizon is chosen on the verdict's own runs by a rule that looks only at the still-moving share",
               "first-order intervals are projected back onto l_1 <= r_1 <= l_2 <= r_2 after every step (isotonic "
               "projection), the project's explicit reading of the constraint"])


def _sub(curve, n: int) -> dict:
    """Fractions (two-sided for the table, one-sided for the parts) over the verdict's first ``n`` runs."""
    from ...lab.dynamics import Outcomes, outcome_fractions

    o = curve.outcomes
    mine = Outcomes(o.labels[:n], o.error[:n], o.separation[:n], o.grad[:n], o.criterion)
    two = outcome_fractions(mine, confidence=CONFIDENCE)
    return {"one": outcome_fractions(mine, confidence=CONFIDENCE, sides=1), "two": two,
            "dict": {"horizon": curve.horizon, "settled": curve.settled, "counts": mine.counts(),
                     "fractions": {k: e.to_dict() for k, e in two.items()},
                     "still_moving": {"count": mine.counts()["other"], "fraction": two["other"].to_dict(),
                                      "note": "label 'other': still moving at the horizon, neither converged "
                                              "nor failed"},
                     "vs_steps": curve.table(), "n": n}}


def _pvalue(verdict: str, parts: dict, x_a: int, x_c: int, n: int) -> float | None:
    """The p-value of the null the verdict rejects (exact binomial): for ``consistent``, "some part fails" (an
    intersection-union test: the largest of the parts' p-values of "share below its bound"; part (b)'s null, a
    converged share of 0, cannot produce a converged run, so its p-value is 0); for ``refuted``, "both
    statistical parts hold" (Bonferroni over (a) and (c): twice the smaller p-value of "share at least its
    bound", taken over the refuted parts); None otherwise."""
    if verdict == "consistent":
        return max(float(stats.binom.sf(x_a - 1, n, CONVERGED_MIN)), float(stats.binom.sf(x_c - 1, n, FAILED_MIN)))
    if verdict == "refuted":
        p = {"a": float(stats.binom.cdf(x_a, n, CONVERGED_MIN)), "c": float(stats.binom.cdf(x_c, n, FAILED_MIN))}
        return min(1.0, 2 * min(p[k] for k in p if parts[k][0] == "refuted"))
    return None


def _part(measured: Estimate, bound: float, control, curve) -> tuple[str, str]:
    if control is None:
        if measured.ci_high < bound:
            return "refuted", f"the upper limit {measured.ci_high:.3g} lies below {bound:g}"
        return "inconclusive", "no planted population could be built below the verdict's own share"
    return decide(measured, bound, control=control, resolution=curve, direction="lower")
