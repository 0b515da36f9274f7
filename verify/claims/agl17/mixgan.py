r"""Claim ``agl17-mixgan``: a trained mixture of k = 5 generators and discriminators (MIX+GAN) captures more modes
than a single GAN (Arora, Ge, Liang, Ma & Zhang 2017, ICML, §5; Arora's blog post "Generalization and Equilibrium in
Generative Adversarial Networks (GANs)", 2017: MIX+GAN "often improves the learnt distribution";
``docs/papers/agl17.md``, "MIX+GAN").

Protocol. MIX+GAN (:func:`~ganlimits.verify.lab.train_mixgan`: k generators and k discriminators of the lab's one
MLP family, weights softmax of trained logits, entropy regulariser of weight ``entropy_weight``) is trained with
every k in ``ks`` on each target (the grid of 25 by default; the 1200-D mixture of 10 with ``--set
targets=grid,mixture_1200d``) from ``seeds`` seeds, at the lab's constant learning rate, until its snapshots settle
(the lab's :class:`~ganlimits.verify.lab.regime.SettleRule`, its high-quality floor the higher of the regime's and the
published one, so that a run below the published regime trains on) or the cap (``steps_2d`` / ``steps_1200d``).
Two arms beside each other, both against the same k = 1 GAN:

- ``paper`` — the paper's protocol: every component of full width, so the mixture has k times the capacity, and
  every component gets as many updates as the GAN (one MIX+GAN step is k GAN steps' work): "k times the capacity and
  corresponding training time";
- ``equal`` — each component has the largest width whose k generators together have no more parameters than one
  generator of ``width``, same steps per component: equal parameters (a harder statement than the paper's).

Seed s of a target gives every run the same data and evaluation streams, so runs are paired by seed. Each trained
mixture is scored on ``n_eval`` fresh samples with VEEGAN's metrics (modes, % high quality, reverse KL; the lab's
calibrated radius) and by its empirical equilibrium gap (:func:`~ganlimits.verify.lab.equilibrium_gap`, reported).

Regime gate (``measurements["regime"]``). Each target's own draws and uniform noise over its box are scored like a
model (:func:`~ganlimits.verify.lab.regime.target_regime`); a run is in regime when it settled and its high-quality
share is clearly above the diffuse baseline's (:func:`~ganlimits.verify.lab.regime.run_regime`). A comparison is decided
only when every run it uses is in regime, the target's own draws score every component and the baseline GAN reaches the
published regime (mean high-quality share >= ``baseline_hq``, against PacGAN's 94.8% on the grid)
(:func:`~ganlimits.verify.lab.regime.comparison_gate`); otherwise it is ``inconclusive`` with that reason.

Verdict (does k = max(ks) improve on k = 1?). For each arm and target, the paired mode differences
:math:`d_s = \text{modes}(k_{\max}, s) - \text{modes}(1, s)` over seeds give a one-sided Student lower limit (95%) and
an upper limit (Bonferroni over the targets of the arm), with the integer floor on the spread
(:mod:`ganlimits.verify.claims._paired`). A gated comparison is ``refuted`` when its upper limit is <= 0,
``consistent`` when its lower limit is > 0, its near-boundary control was caught and its resolution is within 2 modes,
``inconclusive`` otherwise. The claim's verdict is that of the ``verdict_arm`` (the paper's by default): ``refuted``
when a comparison of that arm is refuted, ``consistent`` when all of them are consistent (its p-value, the largest
one-sided p-value, is ``verdict_pvalue``), ``inconclusive`` otherwise; the other arm's decisions are reported beside
it. The adaptation of the verdict rule to a comparison is ``veegan-benchmark``'s: the unit is one mode, the baseline
of the verdict helpers -1 mode, the control a planted improvement of 1.5 modes (exactly, by construction: 2.5 times
the bound's distance from the baseline) through the same metric and the same paired test at the verdict's number of
seeds, with the seed-to-seed spread measured on that comparison (:mod:`._mixgan_paired`); the resolution needs 14
planted pairs per strength (95% Clopper-Pearson lower limit of the detection rate >= 0.8) and must be <= 2 modes.

Output: besides the JSON result and the figures, ``<out>/agl17-mixgan-table.md`` holds the tables.

Deviation: the paper trains DCGANs on CIFAR-10 and CelebA with k = 5 and reports Inception scores; this claim trains
the lab's MLPs on the synthetic targets for a CPU budget and counts modes, and each discriminator scores a block of
every generator's draws per step (:class:`~ganlimits.verify.lab.MixGAN`: the same expected payoff, linear cost in k).
Its verdict is about this setting.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..._registry import RunConfig
from ..._results import ClaimResult, Estimate
from ..._streams import Streams
from ..._sweep import run_trials
from ...lab import LAB_TARGETS, LabConfig, equilibrium_gap, lab_target, train_mixgan
from ...lab.metrics import DISTANCE_RULE
from ...lab.regime import SettleRule, comparison_gate, gate_controls, run_regime, target_regime
from .._common import (
    CONFIDENCE,
    MAX_RESOLUTION_FACTOR,
    NearBoundaryControl,
    check_decision_inputs,
    make_result,
    min_power_repeats,
    power_curve,
    power_figure,
    resolve_settings,
    streams_for,
)
from .._paired import CONTROL_STRENGTH, PAIRED_TEST, STRENGTHS, UNIT, PairedComparison
from .._training import SettledHorizonSettings, one_torch_thread
from ._mixgan_figures import aggregate_k, modes_vs_k_figure, table_markdown
from ._mixgan_paired import planted_spread, power_trial

__all__ = ["Settings", "run", "train_trial", "near_control", "decide_comparison", "decide_arm", "ARMS"]

SEEDS_INSIDE = True
"""The verdict is a paired comparison over the trained seeds of one run: ``reproduce`` does not replicate it."""

CLAIM = "agl17-mixgan"
ARMS = ("paper", "equal")
"""The paper's protocol (full-size components, k times the capacity and work) and the equal-parameter arm."""
_TARGET_FIELDS = ("ring_radius", "ring_std", "grid_std", "mixture_std")


@dataclass(frozen=True, kw_only=True)
class Settings(SettledHorizonSettings):
    """Settings of ``agl17-mixgan``: the mixture sizes ``ks`` (must hold 1; the verdict compares the largest with
    1), the ``arms`` trained (``"paper"``: full-size components; ``"equal"``: equal total parameters) and the
    ``verdict_arm`` that decides, the targets, ``seeds`` per (k, arm, target), the step caps (``steps_2d`` on 2-D
    targets, ``steps_1200d`` on the 1200-D mixture) of the settled horizon (snapshots every ``eval_every`` steps; the
    lab's shared fields of :class:`~ganlimits.verify.claims._training.SettledHorizonSettings`: ``settle_window``,
    ``settle_hq_tol``, ``settle_persist``, ``n_eval`` samples scored, minibatch and Adam), MIX+GAN's
    ``entropy_weight``, the lab's networks (``width``, ``depth``, ``noise_dim``; Adam's ``beta2``), the published
    regime of the baseline GAN (``baseline_hq``), the reference draws of the regime gate (``regime_repeats``), the
    best response of the equilibrium gap (``gap_steps`` Adam steps on ``gap_n_train`` draws per side, scored on
    ``gap_n_fresh`` fresh draws per side), the targets' constants and ``power_repeats`` planted pairs per strength
    of the power curves (>= 14 for a resolution)."""

    seeds: int
    steps_2d: int
    steps_1200d: int
    eval_every: int
    power_repeats: int
    gap_steps: int
    ks: tuple[int, ...] = (1, 5)
    arms: tuple[str, ...] = ARMS
    verdict_arm: str = "paper"
    targets: tuple[str, ...] = ("grid",)
    entropy_weight: float = 0.1
    baseline_hq: float = 0.6
    regime_repeats: int = 5
    gap_n_train: int = 4096
    gap_n_fresh: int = 4096
    width: int = 128
    depth: int = 2
    noise_dim: int = 16
    beta2: float = 0.999
    ring_radius: float = 1.0
    ring_std: float = 0.01
    grid_std: float = 0.05
    mixture_std: float = 1.0

    _limits = SettledHorizonSettings._limits | {
        "targets": {"choices": LAB_TARGETS}, "arms": {"choices": ARMS}, "verdict_arm": {"choices": ARMS},
        "seeds": {"low": 2, "integer": True}, "entropy_weight": {"low": 0},
        "ks": {"low": 1, "high": 64, "integer": True}, "baseline_hq": {"low": 0, "high": 1},
        "gap_n_train": {"low": 2, "integer": True}, "gap_n_fresh": {"low": 2, "integer": True}}

    @classmethod
    def quick(cls) -> Settings:
        return cls(seeds=2, steps_2d=60, steps_1200d=15, eval_every=20, power_repeats=2, gap_steps=30,
                   n_eval=500, regime_repeats=1, gap_n_train=512, gap_n_fresh=1024, settle_window=2, settle_persist=1)

    @classmethod
    def full(cls) -> Settings:
        return cls(seeds=5, steps_2d=16_000, steps_1200d=3000, eval_every=250, power_repeats=min_power_repeats(),
                   gap_steps=500)

    def validate(self) -> None:
        if 1 not in self.ks or len(self.ks) < 2 or len(set(self.ks)) != len(self.ks):
            raise ValueError(f"ks must hold 1 and at least one larger k, without repeats (the verdict compares the "
                             f"largest k with k = 1), got {self.ks!r}")
        if not self.targets or len(set(self.targets)) != len(self.targets):
            raise ValueError(f"targets must be non-empty without repeats, got {self.targets!r}")
        if not self.arms or len(set(self.arms)) != len(self.arms):
            raise ValueError(f"arms must be non-empty without repeats, got {self.arms!r}")
        if self.verdict_arm not in self.arms:
            raise ValueError(f"verdict_arm must be one of the arms trained {self.arms!r}, got {self.verdict_arm!r}")

    @property
    def k_max(self) -> int:
        return max(self.ks)

    def constants(self) -> dict:
        return {f: getattr(self, f) for f in _TARGET_FIELDS}

    def steps_for(self, target: str) -> int:
        return self.steps_1200d if target == "mixture_1200d" else self.steps_2d


def train_trial(config: dict, seed: int) -> dict:
    """One (k, arm, target, seed) run with one torch thread, to its settled horizon: the final scores, the snapshots,
    the horizon, the budget and speed, and the equilibrium gap of the trained mixture (best response seeded from
    ``seed``'s stream ``"gap"``)."""
    with one_torch_thread():
        cpu = time.process_time()
        target = lab_target(config["target"], **config["constants"])
        lab = LabConfig(**config["lab"])
        result = train_mixgan(target, k=config["k"], steps=config["steps"], seed=seed, config=lab,
                              entropy_weight=config["entropy_weight"], equal_params=config["equal_params"],
                              eval_every=config["eval_every"], n_eval=config["n_eval"],
                              settle=SettleRule(**config["settle"]))
        out = result.to_dict()
        gap = equilibrium_gap(result.generator, target, seed=Streams(seed).seed("gap"), steps=config["gap_steps"],
                              n_train=config["gap_n_train"], n_fresh=config["gap_n_fresh"], config=lab,
                              confidence=CONFIDENCE)
        out["gap"] = gap.to_dict()
        out["cpu_s"] = time.process_time() - cpu
        return out


def _run_key(k: int, arm: str) -> str:
    """The row of a run: ``"k=1"`` (the GAN, shared by both arms) or ``"k=5 paper"``."""
    return "k=1" if k == 1 else f"k={k} {arm}"


def _trial_configs(s: Settings, streams, floors: dict[str, float]) -> tuple[list[tuple], list[tuple[dict, int]]]:
    """The sweep: ``(keys, jobs)`` with key ``(run key, target, seed index)``; seed i of a target is shared by every
    run; ``floors[target]`` the regime's high-quality floor of the settle rule."""
    keys, jobs = [], []
    lab = s.lab_config().to_dict()
    for target in s.targets:
        steps = s.steps_for(target)
        for i in range(s.seeds):
            seed = streams.seed("trial", target, i)
            runs = [(1, s.arms[0])] + [(k, arm) for arm in s.arms for k in s.ks if k > 1]
            for k, arm in runs:
                keys.append((_run_key(k, arm), target, i))
                jobs.append(({"k": k, "target": target, "constants": s.constants(), "steps": steps,
                              "eval_every": s.eval_every, "n_eval": s.n_eval, "lab": lab,
                              "entropy_weight": s.entropy_weight, "equal_params": arm == "equal" and k > 1,
                              "settle": s.settle_rule(floors[target]).to_dict(), "gap_steps": s.gap_steps,
                              "gap_n_train": s.gap_n_train, "gap_n_fresh": s.gap_n_fresh}, seed))
    return keys, jobs


def near_control(base: dict, seed: int) -> tuple[NearBoundaryControl, dict]:
    """The near-boundary control of one comparison: a planted pair with mean improvement exactly
    ``CONTROL_STRENGTH`` modes (planted spread ``base["m"]``, ``base["p"]``, ``base["seeds"]`` seeds) through the
    lab's metric and the verdict's paired test (:func:`~._mixgan_paired.power_trial`); returns the control and the
    planted trial."""
    ctl = power_trial(base | {"delta": CONTROL_STRENGTH}, seed)
    est = Estimate(ctl["estimate"], ctl["ci_low"], math.inf, base["confidence"], base["seeds"],
                   "paired Student t, one-sided lower limit", seed, sides=1)
    control = NearBoundaryControl.exact(
        f"planted improvement of {CONTROL_STRENGTH:g} modes on {base['target']}", CONTROL_STRENGTH,
        truth=("exact: planted generators cover known numbers of modes and the mean paired difference is "
               f"{CONTROL_STRENGTH:g} by construction"),
        measured=est, bound=0.0, baseline=-UNIT, direction="upper")
    return control, ctl


def decide_comparison(comparison: PairedComparison, *, gate: tuple[bool, str], control: NearBoundaryControl,
                      curve, capped: bool) -> tuple[str, str]:
    """One comparison (an arm on a target): the gate first (nothing is decided on runs out of regime), then the
    adapted verdict rule of the module docstring. ``control`` and ``curve`` must serve this comparison (same n,
    confidence, bound 0 and baseline -1: checked)."""
    check_decision_inputs(comparison.support, 0.0, control=control, resolution=curve, direction="upper")
    ok, why = gate
    if not ok:
        return "inconclusive", f"not decided: {why}"
    if comparison.contradicts:
        flat = " (the same difference in every seed; spread floored)" if len(set(comparison.diffs)) == 1 else ""
        return "refuted", (f"mean paired difference {comparison.support.estimate:.2f} modes, upper limit "
                           f"{comparison.refute_upper:.2f} <= 0 ({comparison.refute_confidence:.4g} one-sided)" + flat)
    reasons = []
    if not control.caught:
        reasons.append(f"the near-boundary control (planted improvement of {CONTROL_STRENGTH:g} modes) was not "
                       f"caught (lower limit {control.measured.ci_low:.2f}): the paired test lacks power at "
                       f"{comparison.support.n} seeds")
    factor = curve.resolution_factor
    if factor is None:
        reasons.append(f"no resolution: no planted strength detected with a 95% lower limit of 80% power "
                       f"({curve.repeats} pairs per strength; at least {min_power_repeats()} are needed)")
    elif factor > MAX_RESOLUTION_FACTOR:
        reasons.append(f"resolution {curve.resolution:g} modes, coarser than "
                       f"{(MAX_RESOLUTION_FACTOR - 1) * UNIT:g} modes")
    if capped:
        reasons.append("the measured seed-to-seed spread exceeds what the planted family can show on this target, so "
                       "its resolution would be optimistic")
    if not comparison.supports:
        reasons.append(f"lower limit {comparison.support.ci_low:.2f} not above 0")
    if reasons:
        return "inconclusive", "; ".join(reasons)
    return "consistent", (f"mean paired difference {comparison.support.estimate:.2f} modes, lower limit "
                          f"{comparison.support.ci_low:.2f} > 0; control caught; resolution {curve.resolution:g} "
                          "modes")


def decide_arm(decisions: dict[str, tuple[str, str]], comparisons: dict[str, PairedComparison], k_max: int,
               arm: str) -> tuple[str, str, float | None]:
    """The claim's verdict from one arm's comparisons (target -> (verdict, reason)): refuted when one is refuted,
    consistent when all are, inconclusive otherwise; with the p-value of the null the verdict rejects."""
    refuted = [t for t, (v, _) in decisions.items() if v == "refuted"]
    if refuted:
        worst = min(refuted, key=lambda t: comparisons[t].refute_upper)
        p = min(1.0, len(comparisons) * comparisons[worst].pvalue_less)
        return "refuted", f"{arm} arm: k = {k_max} does not capture more modes than k = 1 on {worst}: " \
                          f"{decisions[worst][1]}", p
    if all(v == "consistent" for v, _ in decisions.values()):
        return "consistent", (f"{arm} arm: k = {k_max} captures more modes than k = 1 on every target: "
                              + "; ".join(f"{t}: {r}" for t, (_, r) in decisions.items())), \
            max(c.pvalue for c in comparisons.values())
    return "inconclusive", f"{arm} arm: " + "; ".join(f"{t}: {r}" for t, (v, r) in decisions.items()
                                                        if v != "consistent"), None


def run(config: RunConfig, settings: Settings | None = None) -> ClaimResult:
    """Run the claim (module docstring: protocol, arms, regime gate, verdict rule and its adaptation)."""
    s = resolve_settings(Settings, config, settings)
    streams = streams_for(config)
    out_dir = Path(config.out_dir)
    tag = "-quick" if config.quick else ""
    refs = {t: target_regime(lab_target(t, **s.constants()), rng=streams.torch("regime", t), n_eval=s.n_eval,
                             repeats=s.regime_repeats, name=t) for t in s.targets}
    # a run below the published regime keeps training (to the cap): the settle rule's floor is the higher of the
    # regime's diffuse floor and the baseline's published share
    floors = {t: max(r.hq_floor, s.baseline_hq) for t, r in refs.items()}
    keys, jobs = _trial_configs(s, streams, floors)
    rows = run_trials(train_trial, jobs, path=out_dir / f"{CLAIM}{tag}.trials.jsonl", resume=config.resume,
                      n_jobs=config.n_jobs, scheduler=config.scheduler, desc=CLAIM, progress=config.progress)
    trials = dict(zip(keys, rows, strict=True))
    run_keys = list(dict.fromkeys(k for k, _, _ in keys))
    n_modes = {t: lab_target(t, **s.constants()).n_components for t in s.targets}
    per_target = {t: {r: [trials[(r, t, i)] for i in range(s.seeds)] for r in run_keys} for t in s.targets}

    regimes, gates = {}, {}
    for t in s.targets:
        ref = refs[t]
        checks = {r: [run_regime(x["final"], x["horizon"], ref) for x in per_target[t][r]] for r in run_keys}
        controls_ok = gate_controls(lab_target(t, **s.constants()), ref, s.settle_rule(ref.hq_floor),
                                    cap=s.steps_for(t), eval_every=s.eval_every, rng=streams.torch("gate", t))
        regimes[t] = {**ref.to_dict(), "runs": {r: [c.to_dict() for c in checks[r]] for r in run_keys},
                      "gate_controls": controls_ok, "rule": s.settle_rule(floors[t]).describe(n_modes[t]),
                      "published_hq": s.baseline_hq,
                      "published_source": "PacGAN Table 1: GAN 94.8% high quality on the grid"}
        broken = [name for name, c in controls_ok.items() if not c["ok"]]
        for arm in s.arms:
            arm_key = _run_key(s.k_max, arm)
            ok, why = comparison_gate({"gan": checks["k=1"], f"MIX+GAN {arm_key}": checks[arm_key]},
                                      regime=ref, baseline="gan", published_hq=s.baseline_hq,
                                      published_source="PacGAN's GAN: 94.8% on the grid")
            if broken:
                ok, why = False, (f"the regime gate misread planted runs ({', '.join(broken)})"
                                  + ("" if ok else f"; {why}"))
            gates[(arm, t)] = (ok, why)
            regimes[t].setdefault("comparisons", {})[arm] = {"decided": ok, "reason": why}

    comparisons, controls, curves, planted, decisions = {}, {}, {}, {}, {}
    for arm in s.arms:
        arm_key = _run_key(s.k_max, arm)
        for t in s.targets:
            diffs = [trials[(arm_key, t, i)]["final"]["modes"] - trials[("k=1", t, i)]["final"]["modes"]
                     for i in range(s.seeds)]
            c = PairedComparison.from_diffs(t, "k=1", diffs, confidence=CONFIDENCE, family=len(s.targets),
                                            seed=config.seed)
            var = float(np.var(diffs, ddof=1))
            m, p, capped = planted_spread(var, s.seeds, n_modes[t])
            base = {"target": t, "constants": s.constants(), "m": m, "p": p, "seeds": s.seeds, "n_eval": s.n_eval,
                    "confidence": CONFIDENCE, "test": PAIRED_TEST}
            control, ctl = near_control(base, streams.seed("control", arm, t))
            curve = power_curve(
                power_trial, [base | {"delta": d} for d in STRENGTHS], strengths=STRENGTHS, repeats=s.power_repeats,
                n=s.seeds, bound=0.0, baseline=-UNIT, streams=streams, label=f"{arm} arm, {t}",
                confidence=CONFIDENCE, path=out_dir / f"{CLAIM}{tag}.power-{arm}-{t}.jsonl", resume=config.resume,
                n_jobs=config.n_jobs, progress=config.progress)
            key = f"{arm}/{t}"
            comparisons[key], controls[key], curves[key] = c, control, curve
            planted[key] = {"measured_var": var, "m": m, "p": p, "planted_var": 2 * m * p * (1 - p), "capped": capped,
                            "control_metric_matches_planted": ctl["metric_matches_planted"]}
            decisions[key] = decide_comparison(c, gate=gates[(arm, t)], control=control, curve=curve, capped=capped)

    arm_verdicts = {arm: decide_arm({t: decisions[f"{arm}/{t}"] for t in s.targets},
                                    {t: comparisons[f"{arm}/{t}"] for t in s.targets}, s.k_max, arm)
                    for arm in s.arms}
    verdict, reason, pvalue = arm_verdicts[s.verdict_arm]
    others = [f"{arm} arm (reported): {v}" for arm, (v, _, _) in arm_verdicts.items() if arm != s.verdict_arm]
    if others:
        reason = f"{reason}; " + "; ".join(others)
    vkeys = [f"{s.verdict_arm}/{t}" for t in s.targets]
    decisive = min((comparisons[k] for k in vkeys), key=lambda c: c.support.ci_low)
    worst_key = min(vkeys, key=lambda k: controls[k].measured.ci_low)
    table = {t: {r: aggregate_k(per_target[t][r], n_modes=n_modes[t], confidence=CONFIDENCE) for r in run_keys}
             for t in s.targets}
    budget = {t: {r: {"k": per_target[t][r][0]["k"], "width": per_target[t][r][0]["component_width"],
                      "params_g": per_target[t][r][0]["n_params"]["generator"],
                      "params_d": per_target[t][r][0]["n_params"]["discriminator"],
                      "steps": [x["steps"] for x in per_target[t][r]],
                      "steps_per_s": float(np.mean([x["steps_per_s"] for x in per_target[t][r]])),
                      "budget": per_target[t][r][0]["budget"]} for r in run_keys} for t in s.targets}
    tables = {t: table_markdown(t, table[t], budget[t], regimes[t], n_seeds=s.seeds, confidence=CONFIDENCE)
              for t in s.targets}
    figures = []
    if config.figures:
        figures.append(modes_vs_k_figure(out_dir, f"{CLAIM}-modes-vs-k", per_target, n_modes=n_modes))
        figures += [power_figure(curve, out_dir, f"{CLAIM}-power-{k.replace('/', '-')}",
                                 xlabel="planted mean mode difference (modes)",
                                 title=f"paired test at {s.seeds} seeds: {k}") for k, curve in curves.items()]
    out_dir.mkdir(parents=True, exist_ok=True)
    setting = (f"{s.lab_config().describe()}; entropy weight {s.entropy_weight:g}; arms "
               + ", ".join(s.arms) + f" (verdict: {s.verdict_arm}); step caps "
               + ", ".join(f"{t} {s.steps_for(t)}" for t in s.targets)
               + f", stopped when settled ({s.settle_rule().describe()}, floor the regime's); {s.n_eval} samples "
               "scored; best response "
               f"{s.gap_steps} steps on {s.gap_n_train} draws per side, scored on {s.gap_n_fresh}")
    (out_dir / f"{CLAIM}-table.md").write_text(
        f"# {CLAIM}: MIX+GAN modes, % high quality, reverse KL and equilibrium gap over {s.seeds} seeds\n\n"
        f"Setting: {setting}; {DISTANCE_RULE}.\n\n" + "\n\n".join(tables.values()) + "\n\nDecisions: "
        + "; ".join(f"{k}: **{v}** ({r})" for k, (v, r) in decisions.items()) + "\n")
    summary = "; ".join(f"{k}: {c.support.estimate:+.1f} modes (lower limit {c.support.ci_low:.2f}, per-seed "
                        f"{[int(d) for d in c.diffs]}): {decisions[k][0]}" for k, c in comparisons.items())
    return make_result(
        CLAIM, config, s,
        verdict=verdict,
        verdict_reason=reason,
        verdict_pvalue=pvalue,
        measured=decisive.support,
        bound={"value": 0.0, "label": f"modes(k={s.k_max}) minus modes(k=1), paired over seeds, must exceed "
                                      f"({s.verdict_arm} arm)", "unit": "modes", "comparisons": len(vkeys)},
        near_control=controls[worst_key],
        power=curves[worst_key],
        params={"architecture": s.lab_config().describe(), "lab_config": s.lab_config().to_dict(), "ks": list(s.ks),
                "arms": list(s.arms), "verdict_arm": s.verdict_arm,
                "budget": budget, "caps": {t: s.steps_for(t) for t in s.targets},
                "settle_rule": {t: s.settle_rule(floors[t]).describe(n_modes[t]) for t in s.targets},
                "seeds": s.seeds, "n_eval": s.n_eval,
                "targets": {t: lab_target(t, **s.constants()).description for t in s.targets},
                "distance_rule": DISTANCE_RULE, "objective": trials[(run_keys[-1], s.targets[0], 0)]["objective"],
                "weights_scheme": "w = softmax(logits), logits trained by the player's Adam (exponentiated-gradient "
                                  "family); entropy regulariser -mean log(w + 1e-6)",
                "trial_seeds": {t: [streams.seed("trial", t, i) for i in range(s.seeds)] for t in s.targets}},
        summary=f"modes(k={s.k_max}) - modes(k=1), mean over seeds: {summary}",
        control_summary="; ".join(f"{k}: planted {CONTROL_STRENGTH:g} modes, lower limit {c.measured.ci_low:.2f} "
                                  f"({'caught' if c.caught else 'missed'})" for k, c in controls.items()),
        measurements={"regime": regimes, "decisions": {k: {"verdict": v, "reason": r} for k, (v, r) in
                                                       decisions.items()},
                      "arm_verdicts": {a: {"verdict": v, "reason": r, "pvalue": p}
                                       for a, (v, r, p) in arm_verdicts.items()},
                      "tables_markdown": tables, "comparisons": {k: c.to_dict() for k, c in comparisons.items()},
                      "table": table, "near_controls": {k: c.to_dict() for k, c in controls.items()},
                      "power_curves": {k: c.to_dict() for k, c in curves.items()}, "planted_spread": planted,
                      "weights_g": {f"{t}/{r}": [x["weights_g"] for x in per_target[t][r]] for t in s.targets
                                    for r in run_keys},
                      "gaps": {f"{t}/{r}": [x["gap"] for x in per_target[t][r]] for t in s.targets for r in run_keys},
                      "horizons": {f"{t}/{r}": [x["horizon"] for x in per_target[t][r]] for t in s.targets
                                   for r in run_keys},
                      "training_cpu_s": sum(float(x.get("cpu_s", math.nan)) for x in trials.values())},
        figures=figures,
        notes=[f"table ({t}):\n{tables[t]}" for t in s.targets] + [
            f"setting: {setting}",
            "the equilibrium gap (payoff of a fresh best-response discriminator minus V) is a measurement beside the "
            "verdict; it is a lower bound on the sup over discriminators of the best response's size",
        ],
    )
