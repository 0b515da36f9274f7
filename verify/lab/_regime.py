r"""The regime gate: whether a trained run is in the regime where its mode count means something
(``docs/papers/veegan.md``, "Regime gate"; ``docs/design.md``, "Training verdicts only in regime").

A mode count says little on its own: uniform noise over the grid's box "captures" about 21 of 25 modes (at 1.8%
high quality), and a generator that has not left its diffuse stage scores the same. So every target gets two
reference rows, scored exactly like a model (2,500 draws, :func:`~ganlimits.verify.lab.mode_metrics`):

- the **target's own draws** (``target_modes``, ``target_high_quality``): the metric must score every component
  on them, or the metric's rule is wrong for this target;
- **diffuse noise** (``diffuse_modes``, ``diffuse_high_quality``): uniform draws over the data's box
  (:func:`~ganlimits.constructions.mixture_box`).

A run is **in regime** when it has settled (:class:`~ganlimits.verify.lab.regime.SettleRule`) and its high-quality share
is *clearly* above the diffuse baseline: the one-sided 95% Clopper–Pearson lower limit of its share (over its n_eval
scored samples) is at least the one-sided 95% upper limit of the diffuse share (pooled over the reference repeats)
plus :data:`REGIME_MARGIN` (10 points). A **comparison** between methods is decided only when every run it uses is
in regime, the target's own draws score every component, and the baseline GAN reaches the published regime (its
mean high-quality share at least the floor the claim states, e.g. 60% against PacGAN's 95–98%): otherwise it is
not decided, and the reason says which of these failed (:func:`comparison_gate`).

The gate is tested on planted runs that fail the way trained runs fail (:func:`gate_controls`): a sharp generator
on every mode (in regime), a diffuse cloud, samples outside the box, a mostly diffuse mixture, and a run still
sharpening at its cap (all out of regime).

Shape letters: ``n`` samples, ``d`` dimension, ``K`` mixture components.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from ganlimits.constructions import (
    DiffuseGenerator,
    GaussianMixtureTarget,
    OnModesGenerator,
    OutOfBoxGenerator,
    SamplerMixture,
    mixture_box,
)
from ganlimits.theory import check_choice, check_number, check_seed

from ..estimators import clopper_pearson
from ._horizon import Horizon, SettleRule, assess_horizon
from ._mode_metrics import THRESHOLD_RULES, ModeMetrics, lab_threshold, mode_metrics

__all__ = ["REGIME_MARGIN", "REGIME_CONFIDENCE", "TargetRegime", "target_regime", "RunRegime", "run_regime",
           "comparison_gate", "gate_controls", "outside_box_share"]

REGIME_MARGIN = 0.10
""""Clearly above the diffuse baseline": the run's lower limit exceeds the diffuse upper limit by 10 points."""

REGIME_CONFIDENCE = 0.95
"""One-sided confidence of both Clopper–Pearson limits of the gate."""


def _generator(rng) -> torch.Generator:
    """``rng`` as a torch.Generator: an int seeds a fresh one; a generator is used as is."""
    if isinstance(rng, torch.Generator):
        return rng
    return torch.Generator().manual_seed(check_seed("rng", rng))


def outside_box_share(samples, target: GaussianMixtureTarget) -> float:
    """The share of ``samples`` (n, d) with some coordinate outside the data's box (non-finite rows count as
    outside).

    >>> from ganlimits.constructions import grid
    >>> outside_box_share(torch.tensor([[0.0, 0.0], [5.5, 0.0], [4.9, -4.9]]), grid())
    0.3333333333333333
    """
    x = torch.as_tensor(samples).detach().to("cpu", torch.float64)
    low, high = mixture_box(target)
    if x.ndim != 2 or x.shape[1] != target.dim or x.shape[0] < 1:
        raise ValueError(f"samples must have shape (n, {target.dim}) with n >= 1, got {tuple(x.shape)}")
    inside = ((x >= low) & (x <= high)).all(dim=1)
    return 1.0 - float(inside.double().mean())


@dataclass(frozen=True)
class TargetRegime:
    """The two reference rows of one target and the gate's high-quality floor (module docstring).

    ``target_modes`` / ``target_high_quality`` and ``diffuse_modes`` / ``diffuse_high_quality``: one entry per
    repeat of ``n_eval`` draws; ``diffuse_hq_upper`` the one-sided upper limit of the pooled diffuse share;
    ``hq_floor`` = that limit + ``margin``; ``threshold`` the high-quality radius (in std) of ``threshold_rule``;
    ``published`` the same reference rows under the published rule when it differs (else None)."""

    target: str
    n_components: int
    n_eval: int
    threshold_rule: str
    threshold: float
    box: tuple[float, float]
    target_modes: tuple[int, ...]
    target_high_quality: tuple[float, ...]
    diffuse_modes: tuple[int, ...]
    diffuse_high_quality: tuple[float, ...]
    diffuse_hq_upper: float
    margin: float
    confidence: float
    published: dict | None = None

    @property
    def hq_floor(self) -> float:
        """The share a run's lower limit must reach to be in regime."""
        return self.diffuse_hq_upper + self.margin

    @property
    def target_scores_every_component(self) -> bool:
        """The metric scores every component on every repeat of the target's own draws."""
        return all(m == self.n_components for m in self.target_modes)

    def to_dict(self) -> dict:
        mean = lambda v: math.fsum(v) / len(v)  # noqa: E731
        return {"target": self.target, "n_components": self.n_components, "n_eval": self.n_eval,
                "repeats": len(self.target_modes), "threshold_rule": self.threshold_rule,
                "threshold": self.threshold, "box": list(self.box),
                "target_modes": list(self.target_modes), "target_high_quality": list(self.target_high_quality),
                "target_modes_mean": mean(self.target_modes),
                "target_high_quality_mean": mean(self.target_high_quality),
                "target_scores_every_component": self.target_scores_every_component,
                "diffuse_modes": list(self.diffuse_modes), "diffuse_high_quality": list(self.diffuse_high_quality),
                "diffuse_modes_mean": mean(self.diffuse_modes),
                "diffuse_high_quality_mean": mean(self.diffuse_high_quality),
                "diffuse_hq_upper": self.diffuse_hq_upper, "margin": self.margin, "confidence": self.confidence,
                "hq_floor": self.hq_floor, "published_rule": self.published,
                "rule": (f"in regime: settled, and the one-sided {self.confidence:.0%} lower limit of the high-quality "
                         f"share >= {self.hq_floor:.4f} (the diffuse share's upper limit "
                         f"{self.diffuse_hq_upper:.4f} + {self.margin:g})")}


def _rows(target, sampler, n_eval, repeats, gen, thresholds) -> list[tuple[list[int], list[float], int]]:
    """Per threshold: (modes per repeat, high-quality share per repeat, pooled high-quality count), every threshold
    scoring the same draws."""
    rows = [([], [], 0) for _ in thresholds]
    for _ in range(repeats):
        x = sampler.sample(n_eval, generator=gen)[0]
        for i, t in enumerate(thresholds):
            m = mode_metrics(x, target, threshold=t)
            modes, hq, count = rows[i]
            modes.append(m.modes)
            hq.append(m.high_quality)
            rows[i] = (modes, hq, count + round(m.high_quality * m.n))
    return rows


def target_regime(target: GaussianMixtureTarget, *, rng, n_eval: int = 2500, repeats: int = 5,
                  threshold_rule: str = "calibrated", margin: float = REGIME_MARGIN,
                  confidence: float = REGIME_CONFIDENCE, name: str | None = None) -> TargetRegime:
    """The reference rows of ``target`` (``repeats`` sets of ``n_eval`` draws each of the target and of uniform noise
    over its box, scored with the radius of ``threshold_rule``) and the gate's floor. ``rng``: an int seed or a
    ``torch.Generator``.

    >>> from ganlimits.constructions import grid
    >>> r = target_regime(grid(), rng=0, repeats=3)
    >>> r.target_modes, r.target_scores_every_component, round(r.hq_floor, 3)
    ((25, 25, 25), True, 0.12)
    """
    if not isinstance(target, GaussianMixtureTarget):
        raise ValueError(f"target must be a GaussianMixtureTarget, got {type(target).__name__}")
    n_eval = check_number("n_eval", n_eval, low=1, integer=True)
    repeats = check_number("repeats", repeats, low=1, integer=True)
    check_choice("threshold_rule", threshold_rule, THRESHOLD_RULES)
    margin = check_number("margin", margin, low=0, high=1)
    confidence = check_number("confidence", confidence, low=0.5, high=1, high_open=True)
    gen = _generator(rng)
    t = lab_threshold(target, threshold_rule)
    t_pub = lab_threshold(target, "published")
    thresholds = (t,) if t_pub == t else (t, t_pub)
    own = _rows(target, target, n_eval, repeats, gen, thresholds)
    cloud = _rows(target, DiffuseGenerator(target), n_eval, repeats, gen, thresholds)
    upper = clopper_pearson(cloud[0][2], n_eval * repeats, confidence=confidence, sides=1).ci_high
    published = None
    if len(thresholds) == 2:  # the same draws under the published radius, for comparison
        published = {"threshold": t_pub, "target_modes": own[1][0], "target_high_quality": own[1][1],
                     "diffuse_modes": cloud[1][0], "diffuse_high_quality": cloud[1][1]}
    own, cloud = own[0], cloud[0]
    low, high = mixture_box(target)
    return TargetRegime(target=name or target.description, n_components=target.n_components, n_eval=n_eval,
                        threshold_rule=threshold_rule, threshold=t, box=(float(low.min()), float(high.max())),
                        target_modes=tuple(own[0]), target_high_quality=tuple(own[1]),
                        diffuse_modes=tuple(cloud[0]), diffuse_high_quality=tuple(cloud[1]),
                        diffuse_hq_upper=float(upper), margin=margin, confidence=confidence, published=published)


@dataclass(frozen=True)
class RunRegime:
    """The gate's reading of one run: ``settled`` (and the step), its final ``high_quality`` share with the
    one-sided lower limit ``hq_lower``, the ``hq_floor`` it had to reach, ``in_regime`` and the ``reason``."""

    in_regime: bool
    settled: bool
    settled_step: int | None
    high_quality: float
    hq_lower: float
    hq_floor: float
    reason: str

    def to_dict(self) -> dict:
        return {"in_regime": self.in_regime, "settled": self.settled, "settled_step": self.settled_step,
                "high_quality": self.high_quality, "hq_lower": self.hq_lower, "hq_floor": self.hq_floor,
                "reason": self.reason}


def run_regime(final: ModeMetrics | Mapping, horizon: Horizon | Mapping, regime: TargetRegime) -> RunRegime:
    """Whether a run with last scores ``final`` (a :class:`~ganlimits.verify.lab.ModeMetrics` or its dict) and
    ``horizon`` (a :class:`~ganlimits.verify.lab.regime.Horizon` or its dict) is in the regime of ``regime`` (module
    docstring).

    >>> from ganlimits.constructions import grid
    >>> from ganlimits.verify.lab.regime import SettleRule, assess_horizon
    >>> r = target_regime(grid(), rng=0, repeats=3)
    >>> snaps = [(s, 20, 0.6) for s in range(0, 2750, 250)]
    >>> h = assess_horizon(snaps, rule=SettleRule(), n_modes=25, cap=2500)
    >>> m = {"high_quality": 0.6, "n": 2500}
    >>> run_regime(m, h, r).in_regime, run_regime({"high_quality": 0.1, "n": 2500}, h, r).in_regime
    (True, False)
    """
    f = final.to_dict() if isinstance(final, ModeMetrics) else dict(final)
    h = horizon.to_dict() if isinstance(horizon, Horizon) else dict(horizon)
    hq, n = float(f["high_quality"]), int(f["n"])
    lower = clopper_pearson(round(hq * n), n, confidence=regime.confidence, sides=1).ci_low
    settled = bool(h["settled"])
    floor = regime.hq_floor
    reasons = []
    if not settled:
        reasons.append(f"not settled by step {h['steps']} (cap {h['cap']})")
    if lower < floor:
        reasons.append(f"high-quality share {hq:.3f} (lower limit {lower:.3f}) not clearly above the diffuse "
                       f"baseline (needs >= {floor:.3f})")
    ok = not reasons
    reason = (f"in regime: settled at step {h['settled_step']}, high-quality share {hq:.3f} (lower limit {lower:.3f} "
              f">= {floor:.3f})") if ok else "out of regime: " + "; ".join(reasons)
    return RunRegime(in_regime=ok, settled=settled, settled_step=h.get("settled_step"), high_quality=hq,
                     hq_lower=float(lower), hq_floor=floor, reason=reason)


def comparison_gate(runs: Mapping[str, Sequence[RunRegime]], *, regime: TargetRegime, baseline: str = "gan",
                    published_hq: float, published_source: str = "") -> tuple[bool, str]:
    """Whether a comparison between the methods of ``runs`` (method -> one :class:`RunRegime` per seed) may be
    decided on this target, and why (module docstring): the target's own draws score every component, the
    ``baseline`` method's mean high-quality share reaches ``published_hq`` (the published regime, stated by the
    claim with its ``published_source``), and every run is in regime. ``baseline`` must be among ``runs``.
    """
    if baseline not in runs:
        raise ValueError(f"baseline {baseline!r} must be one of the compared methods {sorted(runs)}")
    published_hq = check_number("published_hq", published_hq, low=0, high=1)
    reasons = []
    if not regime.target_scores_every_component:
        reasons.append(f"the target's own draws score {min(regime.target_modes)} of {regime.n_components} "
                       "components under this rule")
    base = runs[baseline]
    base_hq = math.fsum(r.high_quality for r in base) / len(base)
    if base_hq < published_hq:
        reasons.append(f"{baseline} below the published regime (mean high-quality share {base_hq:.3f} < "
                       f"{published_hq:g}{', ' + published_source if published_source else ''})")
    out = []
    for method, checks in runs.items():
        bad = [c for c in checks if not c.in_regime]
        if bad:
            unsettled = sum(not c.settled for c in bad)
            out.append(f"{method} {len(bad)}/{len(checks)}" + (f" ({unsettled} unsettled)" if unsettled else ""))
    if out:
        reasons.append("runs out of regime: " + ", ".join(out))
    if reasons:
        return False, "; ".join(reasons)
    return True, f"every run in regime, {baseline} at {base_hq:.3f} >= {published_hq:g}"


def _planted_run(sampler_at, target, *, cap, eval_every, n_eval, rule, regime, gen) -> RunRegime:
    """Score a planted run (``sampler_at(step)`` the sampler at each snapshot) through the gate; stops like a
    trained run at the first settled snapshot."""
    snaps = []
    final = None
    for step in range(0, cap + 1, eval_every):
        final = mode_metrics(sampler_at(step).sample(n_eval, generator=gen)[0], target, threshold=regime.threshold)
        snaps.append((step, final.modes, final.high_quality))
        if 0 < step < cap and rule.holds(snaps, n_modes=target.n_components):
            break
    horizon = assess_horizon(snaps, rule=rule, n_modes=target.n_components, cap=cap)
    return run_regime(final, horizon, regime)


def gate_controls(target: GaussianMixtureTarget, regime: TargetRegime, rule: SettleRule, *, cap: int,
                  eval_every: int, rng, n_eval: int | None = None) -> dict:
    """Planted runs through the gate at the claim's cap, snapshot spacing, rule and ``n_eval`` (default the
    regime's): name -> ``{"expected": bool, "in_regime": bool, "ok": bool, "reason": str}``.

    ``sharp``: true draws of every component (in regime); ``half-diffuse``: half of them true draws, half diffuse
    (in regime: 49% high quality); ``diffuse``: uniform over the box; ``out-of-box``: every sample outside it;
    ``mostly-diffuse``: 5% true draws, 95% diffuse; ``still-sharpening``: the share of true draws grows linearly from
    0 at step 0 to 100% at the cap, so the run never settles (all four out of regime).
    """
    cap = check_number("cap", cap, low=1, integer=True)
    eval_every = check_number("eval_every", eval_every, low=1, integer=True)
    n_eval = regime.n_eval if n_eval is None else check_number("n_eval", n_eval, low=1, integer=True)
    gen = _generator(rng)
    sharp, cloud = OnModesGenerator(target, spread=1.0), DiffuseGenerator(target)
    cases = {
        "sharp": (True, lambda step: sharp),
        "half-diffuse": (True, lambda step: SamplerMixture([sharp, cloud], [0.5, 0.5])),
        "diffuse": (False, lambda step: cloud),
        "out-of-box": (False, lambda step: OutOfBoxGenerator(target)),
        "mostly-diffuse": (False, lambda step: SamplerMixture([sharp, cloud], [0.05, 0.95])),
        "still-sharpening": (False, lambda step: SamplerMixture([sharp, cloud], [step / cap, 1 - step / cap])),
    }
    out = {}
    for name, (expected, sampler_at) in cases.items():
        r = _planted_run(sampler_at, target, cap=cap, eval_every=eval_every, n_eval=n_eval, rule=rule,
                         regime=regime, gen=gen)
        out[name] = {"expected": expected, "in_regime": r.in_regime, "ok": r.in_regime == expected,
                     "reason": r.reason}
    return out
