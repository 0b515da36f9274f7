r"""Claim ``agl17-mixgan``: a trained mixture of k = 5 generators and discriminators (MIX+GAN) captures more modes
than a single GAN at equal budget (Arora, Ge, Liang, Ma & Zhang 2017, ICML, §5; Arora's blog post "Generalization
and Equilibrium in Generative Adversarial Networks (GANs)", 2017: MIX+GAN "often improves the learnt distribution";
``docs/papers/agl17.md``, "MIX+GAN").

Protocol. MIX+GAN (:func:`~ganlimits.verify.lab.train_mixgan`: k generators and k discriminators of the lab's one
MLP family, weights softmax of trained logits, entropy regulariser of weight ``entropy_weight``) is trained with
every k in ``ks`` on each target (the grid of 25 and the 1200-D mixture of 10 by default, PacGAN's constants) from
``seeds`` seeds; each (k, target, seed) is one trial of the sweep machinery (JSON Lines log, resumable, ``n_jobs``
worker processes with one torch thread each). Seed s of a target gives every k the same data and evaluation streams,
so runs are paired by seed. Equal budget: with ``equal_params`` (default) each of the k components has the largest
width whose k generators together have no more parameters than one generator of ``width``, and every k trains for
the same number of steps (``steps_2d`` / ``steps_1200d``) with the same batch per component; parameter counts and
steps per second are recorded. Each trained mixture is scored on ``n_eval`` fresh samples with VEEGAN's metrics
(modes, % high quality, reverse KL) and by its empirical equilibrium gap
(:func:`~ganlimits.verify.lab.equilibrium_gap`: the gain over V of a freshly trained best-response discriminator of
the k = 1 discriminator's size, scored on fresh samples with a two-sample Hoeffding interval).

Verdict (does k = max(ks) improve on k = 1?). Per target, the paired mode differences
:math:`d_s = \text{modes}(k_{\max}, s) - \text{modes}(1, s)` over seeds give a one-sided Student lower limit (95%)
and an upper limit (Bonferroni over the targets), with the integer floor on the spread
(:mod:`ganlimits.verify.claims._veegan_paired`): ``refuted`` when some target's upper limit is <= 0 (no
improvement there); ``consistent`` when every lower limit is > 0 (intersection-union test; its p-value, the largest
one-sided p-value, is ``verdict_pvalue``), every near-boundary control was caught and every resolution is fine
enough; ``inconclusive`` otherwise. The adaptation of the verdict rule to a comparison is ``veegan-benchmark``'s:
the unit is one mode, the baseline of the verdict helpers -1 mode, the control a planted improvement of 1.5 modes
(2.5 times the bound's distance from the baseline) through the same metric and the same paired test at the
verdict's number of seeds, with the seed-to-seed spread measured on that target; the resolution limit is 2 modes.
The equilibrium gap is a measurement reported beside the verdict, not part of it.

Output: besides the JSON result and the figures, ``<out>/agl17-mixgan-table.md`` holds the tables.

Deviation: the paper trains DCGANs on CIFAR-10 and CelebA with k = 5 and full-size components (k times the
capacity) and reports Inception scores; this claim trains the lab's MLPs on the synthetic targets for a CPU budget,
with equal parameters by default, and counts modes. Its verdict is about this setting.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .._registry import RunConfig
from .._results import ClaimResult, Estimate
from .._streams import Streams
from .._sweep import run_trials
from ..lab import DISTANCE_RULE, LAB_TARGETS, LR_SCHEDULES, LabConfig, equilibrium_gap, lab_target, train_mixgan
from ._common import (
    CONFIDENCE,
    MAX_RESOLUTION_FACTOR,
    CheckedSettings,
    NearBoundaryControl,
    make_result,
    power_curve,
    power_figure,
    resolve_settings,
    streams_for,
)
from ._mixgan_figures import aggregate_k, modes_vs_k_figure, table_markdown
from ._veegan_paired import (
    CONTROL_STRENGTH,
    PAIRED_TEST,
    STRENGTHS,
    UNIT,
    PairedComparison,
    planted_spread,
    power_trial,
)

__all__ = ["Settings", "run", "train_trial", "near_control"]

SEEDS_INSIDE = True
"""The verdict is a paired comparison over the trained seeds of one run: ``reproduce`` does not replicate it."""

CLAIM = "agl17-mixgan"
_LAB_FIELDS = ("width", "depth", "noise_dim", "batch_size", "lr_g", "lr_d", "beta1", "beta2", "lr_schedule")
_TARGET_FIELDS = ("ring_radius", "ring_std", "grid_std", "mixture_std")


@dataclass(frozen=True)
class Settings(CheckedSettings):
    """Settings of ``agl17-mixgan``: the mixture sizes ``ks`` (must hold 1; the verdict compares the largest with
    1), the targets, ``seeds`` per (k, target), steps per run (``steps_2d`` on 2-D targets, ``steps_1200d`` on the
    1200-D mixture), ``snapshots`` evaluations per run, ``n_eval`` samples scored, MIX+GAN's ``entropy_weight``
    and ``equal_params`` (equal total parameters across k), the lab's one-network setup, the best response of the
    equilibrium gap (``gap_steps`` Adam steps on ``gap_n_train`` draws per side, scored on ``gap_n_fresh`` fresh
    draws per side), the targets' constants and ``power_repeats`` planted pairs per strength of the power curves."""

    seeds: int
    steps_2d: int
    steps_1200d: int
    power_repeats: int
    gap_steps: int
    ks: tuple[int, ...] = (1, 2, 5)
    targets: tuple[str, ...] = ("grid", "mixture_1200d")
    snapshots: int = 10
    n_eval: int = 2500
    entropy_weight: float = 0.1
    equal_params: bool = True
    gap_n_train: int = 4096
    gap_n_fresh: int = 4096
    width: int = 128
    depth: int = 2
    noise_dim: int = 16
    batch_size: int = 128
    lr_g: float = 1e-3
    lr_d: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    lr_schedule: str = "linear"
    ring_radius: float = 1.0
    ring_std: float = 0.01
    grid_std: float = 0.05
    mixture_std: float = 1.0

    _limits = {"targets": {"choices": LAB_TARGETS}, "lr_schedule": {"choices": LR_SCHEDULES},
               "beta1": {"low": 0, "high": 1, "high_open": True}, "beta2": {"low": 0, "high": 1, "high_open": True},
               "seeds": {"low": 2, "integer": True}, "n_eval": {"low": 100, "integer": True},
               "entropy_weight": {"low": 0}, "ks": {"low": 1, "high": 64, "integer": True},
               "gap_n_train": {"low": 2, "integer": True}, "gap_n_fresh": {"low": 2, "integer": True}}

    @classmethod
    def quick(cls) -> Settings:
        return cls(seeds=2, steps_2d=80, steps_1200d=15, power_repeats=5, gap_steps=60, snapshots=4,
                   gap_n_train=1024, gap_n_fresh=2048)

    @classmethod
    def full(cls) -> Settings:
        return cls(seeds=5, steps_2d=1500, steps_1200d=300, power_repeats=40, gap_steps=500)

    def validate(self) -> None:
        if not isinstance(self.equal_params, bool):
            raise ValueError(f"equal_params must be True or False, got {self.equal_params!r}")
        if 1 not in self.ks or len(self.ks) < 2 or len(set(self.ks)) != len(self.ks):
            raise ValueError(f"ks must hold 1 and at least one larger k, without repeats (the verdict compares the "
                             f"largest k with k = 1), got {self.ks!r}")
        if not self.targets or len(set(self.targets)) != len(self.targets):
            raise ValueError(f"targets must be non-empty without repeats, got {self.targets!r}")

    @property
    def k_max(self) -> int:
        return max(self.ks)

    def lab_config(self) -> LabConfig:
        return LabConfig(**{f: getattr(self, f) for f in _LAB_FIELDS})

    def constants(self) -> dict:
        return {f: getattr(self, f) for f in _TARGET_FIELDS}

    def steps_for(self, target: str) -> int:
        return self.steps_1200d if target == "mixture_1200d" else self.steps_2d


def train_trial(config: dict, seed: int) -> dict:
    """One (k, target, seed) run with one torch thread: the final scores, the snapshots, the budget and speed, and
    the equilibrium gap of the trained mixture (best response seeded from ``seed``'s stream ``"gap"``)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    cpu = time.process_time()
    try:
        target = lab_target(config["target"], **config["constants"])
        lab = LabConfig(**config["lab"])
        result = train_mixgan(target, k=config["k"], steps=config["steps"], seed=seed, config=lab,
                              entropy_weight=config["entropy_weight"], equal_params=config["equal_params"],
                              eval_every=config["eval_every"], n_eval=config["n_eval"])
        out = result.to_dict()
        gap = equilibrium_gap(result.generator, target, seed=Streams(seed).seed("gap"), steps=config["gap_steps"],
                              n_train=config["gap_n_train"], n_fresh=config["gap_n_fresh"], config=lab,
                              confidence=CONFIDENCE)
        out["gap"] = gap.to_dict()
        out["cpu_s"] = time.process_time() - cpu
        return out
    finally:
        torch.set_num_threads(before)


def _trial_configs(s: Settings, streams) -> tuple[list[tuple], list[tuple[dict, int]]]:
    """The sweep: ``(keys, jobs)`` with key ``(k, target, seed index)``; seed i of a target is shared by every k."""
    keys, jobs = [], []
    lab = s.lab_config().to_dict()
    for target in s.targets:
        steps = s.steps_for(target)
        for i in range(s.seeds):
            seed = streams.seed("trial", target, i)
            for k in s.ks:
                keys.append((k, target, i))
                jobs.append(({"k": k, "target": target, "constants": s.constants(), "steps": steps,
                              "eval_every": max(1, steps // s.snapshots), "n_eval": s.n_eval, "lab": lab,
                              "entropy_weight": s.entropy_weight, "equal_params": s.equal_params,
                              "gap_steps": s.gap_steps, "gap_n_train": s.gap_n_train,
                              "gap_n_fresh": s.gap_n_fresh}, seed))
    return keys, jobs


def near_control(base: dict, seed: int) -> tuple[NearBoundaryControl, dict]:
    """The near-boundary control of one target: a planted pair with mean improvement ``CONTROL_STRENGTH`` modes
    (spread ``base["w"]``, ``base["seeds"]`` seeds) through the lab's metric and the verdict's paired test
    (:func:`~ganlimits.verify.claims._veegan_paired.power_trial`); returns the control and the planted trial."""
    ctl = power_trial(base | {"delta": CONTROL_STRENGTH}, seed)
    est = Estimate(ctl["estimate"], ctl["ci_low"], math.inf, CONFIDENCE, base["seeds"],
                   "paired Student t, one-sided lower limit", seed, sides=1)
    control = NearBoundaryControl(
        f"planted improvement of {CONTROL_STRENGTH:g} modes on {base['target']}", true_value=CONTROL_STRENGTH,
        truth="exact: planted generators cover known numbers of modes (mean difference set by construction)",
        measured=est, bound=0.0, baseline=-UNIT, direction="upper")
    return control, ctl


def _decide(comparisons, controls, curves, capped, k_max) -> tuple[str, str]:
    """The adapted verdict rule of the module docstring, with its reason."""
    refuting = [c for c in comparisons if c.contradicts]
    if refuting:
        worst = min(refuting, key=lambda c: c.refute_upper)
        flat = " (the same difference in every seed; spread floored)" if len(set(worst.diffs)) == 1 else ""
        return "refuted", (f"k = {k_max} does not capture more modes than k = 1 on {worst.target}: mean paired "
                           f"difference {worst.support.estimate:.2f} modes, upper limit {worst.refute_upper:.2f} <= 0 "
                           f"({worst.refute_confidence:.4g} one-sided, Bonferroni over {len(comparisons)} targets)"
                           + flat)
    reasons = []
    missed = [t for t, c in controls.items() if not c.caught]
    if missed:
        reasons.append(f"the near-boundary control (planted improvement of {CONTROL_STRENGTH:g} modes) was not caught "
                       f"on {', '.join(missed)}: the paired test lacks power at this number of seeds")
    coarse = [t for t, c in curves.items() if c.resolution_factor is None
              or c.resolution_factor > MAX_RESOLUTION_FACTOR]
    if coarse:
        reasons.append(f"resolution coarser than {(MAX_RESOLUTION_FACTOR - 1) * UNIT:g} modes on {', '.join(coarse)}")
    if capped:
        reasons.append(f"the measured seed-to-seed spread on {', '.join(capped)} exceeds what the planted family can "
                       "show, so its resolution would be optimistic")
    open_ = [c for c in comparisons if not c.supports]
    if open_:
        reasons.append("lower limit not above 0 on " + ", ".join(f"{c.target} ({c.support.ci_low:.2f})"
                                                                 for c in open_))
    if reasons:
        return "inconclusive", "; ".join(reasons)
    return "consistent", (f"k = {k_max} captures more modes than k = 1 on every target (every paired lower limit > 0), "
                          f"near-boundary controls caught, resolution within {(MAX_RESOLUTION_FACTOR - 1) * UNIT:g} "
                          "modes")


def run(config: RunConfig, settings: Settings | None = None) -> ClaimResult:
    """Run the claim (module docstring: protocol, budget, verdict rule and its adaptation)."""
    s = resolve_settings(Settings, config, settings)
    streams = streams_for(config)
    out_dir = Path(config.out_dir)
    tag = "-quick" if config.quick else ""
    keys, jobs = _trial_configs(s, streams)
    rows = run_trials(train_trial, jobs, path=out_dir / f"{CLAIM}{tag}.trials.jsonl", resume=config.resume,
                      n_jobs=config.n_jobs, scheduler=config.scheduler, desc=CLAIM, progress=config.progress)
    trials = dict(zip(keys, rows, strict=True))
    n_modes = {t: lab_target(t, **s.constants()).n_components for t in s.targets}
    per_target = {t: {k: [trials[(k, t, i)] for i in range(s.seeds)] for k in s.ks} for t in s.targets}
    table = {t: {k: aggregate_k(per_target[t][k], n_modes=n_modes[t], confidence=CONFIDENCE) for k in s.ks}
             for t in s.targets}
    budget = {t: {k: {"width": per_target[t][k][0]["component_width"],
                      "params_g": per_target[t][k][0]["n_params"]["generator"],
                      "params_d": per_target[t][k][0]["n_params"]["discriminator"],
                      "steps_per_s": float(np.mean([r["steps_per_s"] for r in per_target[t][k]])),
                      "budget": per_target[t][k][0]["budget"]} for k in s.ks} for t in s.targets}

    comparisons = []
    for target in s.targets:
        diffs = [trials[(s.k_max, target, i)]["final"]["modes"] - trials[(1, target, i)]["final"]["modes"]
                 for i in range(s.seeds)]
        comparisons.append(PairedComparison.from_diffs(target, "k=1", diffs, confidence=CONFIDENCE,
                                                       family=len(s.targets), seed=config.seed))

    controls, curves, capped, planted = {}, {}, [], {}
    for c in comparisons:
        target = c.target
        sd = float(np.std(c.diffs, ddof=1))
        w, cap = planted_spread(sd, n_modes[target])
        if cap:
            capped.append(target)
        base = {"target": target, "constants": s.constants(), "w": w, "seeds": s.seeds, "n_eval": s.n_eval,
                "confidence": CONFIDENCE, "test": PAIRED_TEST}
        controls[target], ctl = near_control(base, streams.seed("control", target))
        curves[target] = power_curve(
            power_trial, [base | {"delta": d} for d in STRENGTHS], strengths=STRENGTHS, repeats=s.power_repeats,
            n=s.seeds, bound=0.0, baseline=-UNIT, streams=streams, label=target,
            path=out_dir / f"{CLAIM}{tag}.power-{target}.jsonl", resume=config.resume, n_jobs=config.n_jobs,
            progress=config.progress)
        planted[target] = {"measured_sd": sd, "w": w, "planted_sd": math.sqrt(2 * w), "capped": cap,
                           "control_metric_matches_planted": ctl["metric_matches_planted"]}

    verdict, reason = _decide(comparisons, controls, curves, capped, s.k_max)
    refuting = [c for c in comparisons if c.contradicts]
    decisive = min(refuting, key=lambda c: c.refute_upper) if refuting else min(
        comparisons, key=lambda c: c.support.ci_low)
    pvalue = (min(1.0, len(comparisons) * min(c.pvalue_less for c in refuting)) if refuting
              else max(c.pvalue for c in comparisons))
    worst_ctl = min(controls.values(), key=lambda c: c.measured.ci_low)
    worst_curve = max(curves.values(), key=lambda c: math.inf if c.resolution_factor is None
                      else c.resolution_factor)
    tables = {t: table_markdown(t, table[t], budget[t], n_seeds=s.seeds, confidence=CONFIDENCE) for t in s.targets}
    figures = []
    if config.figures:
        figures.append(modes_vs_k_figure(out_dir, f"{CLAIM}-modes-vs-k", per_target, n_modes=n_modes))
        figures += [power_figure(curve, out_dir, f"{CLAIM}-power-{t}", xlabel="planted mean mode difference (modes)",
                                 title=f"paired test at {s.seeds} seeds: {t}") for t, curve in curves.items()]
    out_dir.mkdir(parents=True, exist_ok=True)
    setting = (f"{s.lab_config().describe()}; entropy weight {s.entropy_weight:g}; "
               + ("equal total parameters across k" if s.equal_params else "full width per component")
               + f"; steps {', '.join(f'{t} {s.steps_for(t)}' for t in s.targets)}; {s.n_eval} samples scored; "
               f"best response {s.gap_steps} steps on {s.gap_n_train} draws per side, scored on {s.gap_n_fresh}")
    (out_dir / f"{CLAIM}-table.md").write_text(
        f"# {CLAIM}: MIX+GAN modes, % high quality, reverse KL and equilibrium gap over {s.seeds} seeds\n\n"
        f"Setting: {setting}; {DISTANCE_RULE}.\n\n" + "\n\n".join(tables.values()) + "\n")
    summary = "; ".join(f"{c.target}: {c.support.estimate:+.1f} modes (lower limit {c.support.ci_low:.2f}, per-seed "
                        f"{[int(d) for d in c.diffs]})" for c in comparisons)
    return make_result(
        CLAIM, config, s,
        verdict=verdict,
        verdict_reason=reason,
        verdict_pvalue=pvalue,
        measured=decisive.support,
        bound={"value": 0.0, "label": f"modes(k={s.k_max}) minus modes(k=1), paired over seeds, must exceed",
               "unit": "modes", "comparisons": len(comparisons)},
        near_control=worst_ctl,
        power=worst_curve,
        params={"architecture": s.lab_config().describe(), "lab_config": s.lab_config().to_dict(), "ks": list(s.ks),
                "budget": {t: {str(k): v for k, v in b.items()} for t, b in budget.items()},
                "steps": {t: s.steps_for(t) for t in s.targets}, "seeds": s.seeds, "n_eval": s.n_eval,
                "targets": {t: lab_target(t, **s.constants()).description for t in s.targets},
                "distance_rule": DISTANCE_RULE, "objective": trials[(s.k_max, s.targets[0], 0)]["objective"],
                "weights_scheme": "w = softmax(logits), logits trained by the player's Adam (exponentiated-gradient "
                                  "family); entropy regulariser -mean log(w + 1e-6)",
                "trial_seeds": {t: [streams.seed("trial", t, i) for i in range(s.seeds)] for t in s.targets}},
        summary=f"modes(k={s.k_max}) - modes(k=1), mean over seeds: {summary}",
        control_summary="; ".join(f"{t}: planted {CONTROL_STRENGTH:g} modes, lower limit {c.measured.ci_low:.2f} "
                                  f"({'caught' if c.caught else 'missed'})" for t, c in controls.items()),
        measurements={"tables_markdown": tables, "comparisons": [c.to_dict() for c in comparisons],
                      "table": {t: {str(k): v for k, v in rows_.items()} for t, rows_ in table.items()},
                      "near_controls": {t: c.to_dict() for t, c in controls.items()},
                      "power_curves": {t: c.to_dict() for t, c in curves.items()}, "planted_spread": planted,
                      "weights_g": {f"{t}/k={k}": [r["weights_g"] for r in per_target[t][k]] for t in s.targets
                                    for k in s.ks},
                      "gaps": {f"{t}/k={k}": [r["gap"] for r in per_target[t][k]] for t in s.targets for k in s.ks},
                      "training_cpu_s": sum(float(r.get("cpu_s", math.nan)) for r in trials.values())},
        figures=figures,
        notes=[f"table ({t}):\n{tables[t]}" for t in s.targets] + [
            f"setting: {setting}",
            "the equilibrium gap (payoff of a fresh best-response discriminator minus V) is a measurement beside the "
            "verdict; it is a lower bound on the sup over discriminators of the best response's size",
        ],
    )
