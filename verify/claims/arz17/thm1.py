r"""Claim ``arz-thm1``: the BiGAN objective cannot prevent mode collapse (Arora, Risteski & Zhang 2017, Theorem 1).

.. math::

    \mathrm{gap}(G, E; D) = \big|\mathbb{E}_{x\sim\mu}\phi(D(x, E(x)))
        - \mathbb{E}_{z\sim\nu}\phi(D(G(z), z))\big| \le \varepsilon
    \quad \text{for every } D \text{ of capacity } p,\ L\text{-Lipschitz in its parameters,}

once the generator's support m reaches the theorem's size (paper form ``p Δ² log²(pΔLL_φ/ε)/ε²`` and the project's
explicit [spec] form, ``docs/papers/arz17.md``). G memorizes m clean images on an equal-measure Gaussian partition of
the code space, E reads the noise coordinates: E(G(z)) = z exactly, and the codes carry nothing about the image.

**The verdict** is taken where the hypotheses hold: the class is one-hidden-layer ReLU networks on (x, code) with
sigmoid output, spectral norms <= ``weight_norm`` and biases <= ``bias_bound`` (an ``MLPFamily``: p and L derived
from it), φ the identity (shifted by 1/2: Δ = 1/2, L_φ = 1), m = k² >= both forms of the theorem's m. The memory is
regenerated from a counter-based hash (``HashedMemoryGenerator``), so m in the millions costs no memory.
:func:`verdict_attack` (random and trained members, fresh scoring, one-sided Bonferroni-Hoeffding limits at 95%,
the lower one with both tails of every member) measures the gap; ``decide`` of ``docs/design.md`` turns it into a
verdict. The verdict is also taken on the 1200-d Gaussian mixture (full setting), whose continuous components no
memory covers; ``consistent`` needs both.

**Why not the logistic class** (``hidden=()``, the verdict class before): it is linear in the code, and a generator
whose clean content is chosen by ``|z_1|`` (``CodeDependentGenerator``: digits 0-4 when ``|z_1|`` is small, 5-9
otherwise — the right image marginal, a grossly wrong joint law) is invisible to it; it was "consistent" 700 times
below the theorem's m. One hidden ReLU layer computes ``|z_1|`` and its interaction with the image.

**Could it have failed?** (1) Near-boundary control: the perfect generator (a fresh clean image for every code:
(G(z), z) has exactly the law of (x, E(x)), gap 0 for every D) mixed at rate ρ with a planted violation, so that
every discriminator's gap on the mixture is exactly ρ times its gap on the planted generator. Its true value, the
class's sup of ``|gap|``, is certified from both sides: from below by ρ times the lower 99.9% limit of the best member
of a much larger computation (many more, longer-trained members; the chosen member scored on 10^5-10^6 fresh pairs),
from above by ρ times the planted generator's total-variation ceiling (exact: 2p(1 - p) for the code-dependent
generator, 1 - p for mode dropping, p the mass of the planted labels). ρ puts the upper end at ``control_factor``
eps (2.9): the whole interval must lie between 1.5 and 3 eps, i.e. the lower end too, and the verdict's own attack
must catch it at the verdict's n. When the certifier's lower limit is too far below the ceiling no rate does, and
that part has no control (its verdict is inconclusive). The planted violation on the digits is the code-dependent
generator (the violation the logistic class missed); on the 1200-d mixture the verdict's two-unit class finds no
gap on it even with the certifier's effort (so it is no violation this class can be shown to see), and the planted
violation there is mode dropping (the labels of the components with negative means kept, the others dropped).
(2) Resolution: the power curve of the same attack over mixture rates whose TV ceilings are ``power_factors`` eps
(the strength of each planted case is its certified upper end, so the resolution is conservative),
``power_repeats`` attacks each: the smallest with a one-sided 95% Clopper-Pearson lower limit of the detection rate
of at least 80% (at least 14 repeats). (3) The smallest m on a grid from 16 up to the theorem's m at which the
attack says "consistent", next to the theorem's m. (4) Collapse: an out-of-class detector (is the clean part
exactly the memory row the code selects?) sees a gap near 1 on the verdict's own test pairs; the base-image
coverage of the memory is reported next to m.

Deviation: the theorem is stated for the ideal generator G (a step function of z); the verdict uses it (with a
hashed memory, equal to ``IdealGenerator`` bit for bit); its equality with the ReLU network off the ramps is claim
``arz-thm3``. The controls plant their violations on the perfect generator, not on the memorizing G: the class's
sup on G is the very quantity under test, so no ceiling of a mixture with G could be certified.

Shape letters: ``n`` samples, ``d`` image dimension, ``d_code`` code dimension, ``K`` discriminators, ``p``
capacity, ``m`` support, ``k`` intervals per code coordinate.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from tqdm import tqdm

from ganlimits.constructions import FreshGenerator, HashedMemoryGenerator, PlantedMixture, class_probabilities

from ..._registry import RunConfig
from ..._results import ClaimResult
from ..._sweep import run_trials
from ...estimators import MLPFamily, memory_row_detector
from ...estimators.intervals import hoeffding_pvalue
from .._common import (
    CONFIDENCE,
    DIGITS_JITTER,
    NEAR_BOUNDARY,
    CheckedSettings,
    NearBoundaryControl,
    decide,
    make_result,
    power_curve,
    power_figure,
    resolve_settings,
    streams_for,
    support_text,
)
from ._shared import (
    PLANTED_KINDS,
    AttackSettings,
    World,
    certify_gap,
    planted_generator,
    planted_trial,
    planted_truth,
    support_trial,
    theorem_support,
    verdict_attack,
)
from ._thm1_figures import gap_vs_m_figure

__all__ = ["AttackSettings", "Settings", "verdict_attack", "theorem_support", "run"]

_CERTIFY_CONFIDENCE = 0.999  # each certified interval; both hold with probability >= 0.998


@dataclass(frozen=True)
class Settings(CheckedSettings):
    """Settings of ``arz-thm1`` (one table for the API and ``ganlimits verify arz-thm1 --set key=value``).

    ``eps`` the target gap; ``attack`` the verdict's class and attack on the digits, ``certify`` the much larger
    computation (same class) that certifies the planted gaps from below, scored on ``n_certify`` pairs per side;
    ``planted``/``planted_classes`` the planted violation on the digits (kind and labels,
    :func:`~ganlimits.verify.claims.arz17._shared.planted_generator`); ``control_factor`` the upper end (TV
    ceiling) of the near-boundary control's certified interval in units of eps (its lower end must reach 1.5 eps too);
    ``power_factors`` the certified upper ends (TV ceilings) of the power curve's planted cases in units of eps,
    ``power_repeats`` attacks per strength;
    ``grid_factor`` the ratio of consecutive k on the m grid (m = k², k from 4 up to the verdict's k);
    ``mixture_1200d`` also takes the verdict on the 1200-d mixture with ``mixture_attack``/``mixture_certify``/
    ``n_certify_mixture``, its planted violation (``mixture_planted``, ``mixture_planted_classes``) and its own power
    curve (``mixture_power_factors``, ``mixture_power_repeats``); ``code_dim`` d', ``sigma`` the code std, ``eta``
    the failure probability of the explicit form, ``jitter`` the digits kernel width, ``max_support`` the largest m
    this run may ask for.
    """

    _limits = {"control_factor": {"low": NEAR_BOUNDARY[0], "high": NEAR_BOUNDARY[1]},
               "grid_factor": {"low": 1, "low_open": True}, "max_support": {"low": 16, "integer": True},
               "planted": {"choices": PLANTED_KINDS}, "mixture_planted": {"choices": PLANTED_KINDS},
               "planted_classes": {"low": 0, "integer": True}, "mixture_planted_classes": {"low": 0, "integer": True}}

    eps: float
    attack: AttackSettings
    certify: AttackSettings
    n_certify: int
    control_factor: float
    power_factors: tuple[float, ...]
    power_repeats: int
    grid_factor: float
    mixture_1200d: bool
    mixture_attack: AttackSettings
    mixture_certify: AttackSettings
    n_certify_mixture: int
    mixture_power_factors: tuple[float, ...] = (2.0,)
    mixture_power_repeats: int = 2
    planted: str = "code-dependent"
    planted_classes: tuple[int, ...] = (0, 2, 6, 8, 9)
    mixture_planted: str = "mode-dropping"
    mixture_planted_classes: tuple[int, ...] = (0, 1, 4, 5, 8, 9)
    code_dim: int = 2
    sigma: float = 1.0
    eta: float = 0.1
    jitter: float = DIGITS_JITTER
    max_support: int = 10**9
    confidence: float = CONFIDENCE

    @classmethod
    def quick(cls) -> Settings:
        """The small setting used by ``make test`` (the 1200-d verdict runs in the full setting only)."""
        verdict = AttackSettings.verdict_class(quick=True)
        mixture = AttackSettings(hidden=(2,), weight_norm=8.0, bias_bound=2.0, K_random=8, K_trained=4,
                                 n_train=3000, n_test=6000, steps=100, lr=0.02, batch_size=500, init_norm=2.0)
        return cls(eps=0.08, attack=verdict, certify=_larger(verdict, K=8, n_train=8000, steps=300),
                   n_certify=100_000, control_factor=2.9, power_factors=(2.5,), power_repeats=2,
                   grid_factor=8.0, mixture_1200d=False, mixture_attack=mixture,
                   mixture_certify=_larger(mixture, K=8, n_train=8000, steps=300), n_certify_mixture=100_000)

    @classmethod
    def full(cls) -> Settings:
        """The setting of ``make reproduce``."""
        verdict = AttackSettings.verdict_class()
        mixture = AttackSettings(hidden=(2,), weight_norm=8.0, bias_bound=2.0, K_random=16, K_trained=8,
                                 n_train=10_000, n_test=20_000, steps=300, lr=0.02, batch_size=1000, init_norm=2.0)
        return cls(eps=0.08, attack=verdict, certify=_larger(verdict, K=32, n_train=40_000, steps=1000),
                   n_certify=1_000_000, control_factor=2.9, power_factors=(2.75, 3.0), power_repeats=14,
                   grid_factor=4.0, mixture_1200d=True, mixture_attack=mixture,
                   mixture_certify=_larger(mixture, K=8, n_train=10_000, steps=300), n_certify_mixture=200_000,
                   mixture_power_factors=(2.0,), mixture_power_repeats=14)

    def validate(self) -> None:
        for name in ("attack", "mixture_attack"):
            if not getattr(self, name).hidden:
                raise ValueError(f"{name}.hidden must hold at least one hidden layer: the logistic class is blind to "
                                 "a generator whose content depends on |z| (see the module docstring)")
        for name, main in (("certify", "attack"), ("mixture_certify", "mixture_attack")):
            if not getattr(self, name).same_class(getattr(self, main)):
                raise ValueError(f"{name}: the certifier must use the class of {main} (hidden, weight_norm, "
                                 "bias_bound)")
        for name in ("power_factors", "mixture_power_factors"):
            factors = getattr(self, name)
            if list(factors) != sorted(factors) or factors[0] < 1:
                raise ValueError(f"{name} must be increasing and >= 1 (violations), got {factors}")
        parts = [("digits", self.planted, self.planted_classes, self.power_factors)]
        if self.mixture_1200d:
            parts.append(("mixture_1200d", self.mixture_planted, self.mixture_planted_classes,
                          self.mixture_power_factors))
        for target, kind, classes, factors in parts:
            tv = _tv_ceiling(target, kind, classes)
            top = max(NEAR_BOUNDARY[1], factors[-1]) * self.eps
            if top > tv:
                raise ValueError(f"eps: the control and the power curve on {target} need planted cases whose TV "
                                 f"ceiling reaches {top:.3g}, but the planted generator's is {tv:.4g}")
        for target, a in (("digits", self.attack), ("mixture_1200d", self.mixture_attack)):
            if target == "mixture_1200d" and not self.mixture_1200d:
                continue
            need = _support_needed(self, a, target)
            if need > self.max_support:
                raise ValueError(f"eps: the theorem's m for the {target} class is {need:.4g}, above max_support = "
                                 f"{self.max_support} (raise eps or max_support, or shrink the class)")


def _larger(a: AttackSettings, *, K: int, n_train: int, steps: int) -> AttackSettings:
    """The certifier: the verdict's class, K trained members (no random ones), more samples and steps."""
    return AttackSettings(hidden=a.hidden, weight_norm=a.weight_norm, bias_bound=a.bias_bound, K_random=0,
                          K_trained=K, n_train=n_train, n_test=2 * n_train, steps=steps, lr=a.lr,
                          batch_size=2 * a.batch_size, init_norm=a.init_norm)


def _tv_ceiling(target: str, kind: str, classes) -> float:
    """The largest gap any discriminator can see between (x, E(x)) and the planted generator's pairs
    (:func:`~ganlimits.verify.claims.arz17._shared.planted_generator`), computed from the class probabilities alone."""
    from ganlimits.constructions import digits, mixture_1200d

    classes = list(classes)
    probs = class_probabilities(digits() if target == "digits" else mixture_1200d(std=1.0))
    if not classes or min(classes) < 0 or max(classes) >= len(probs):
        raise ValueError(f"planted classes must be labels 0..{len(probs) - 1}, got {tuple(classes)}")
    p = float(probs[classes].sum())
    if not 0 < p < 1:
        raise ValueError(f"planted classes must hold some but not all of the {target} mass, got {tuple(classes)}")
    return 2 * p * (1 - p) if kind == "code-dependent" else 1 - p


def _in_dim(target: str, code_dim: int) -> int:
    return (64 if target == "digits" else 1200) + code_dim


def _family(a: AttackSettings, in_dim: int) -> MLPFamily:
    return MLPFamily(K=1, generator=torch.Generator().manual_seed(0), **a.spec(in_dim))


def _support_needed(s: Settings, a: AttackSettings, target: str) -> float:
    need = theorem_support(_family(a, _in_dim(target, s.code_dim)), eps=s.eps, eta=s.eta)
    return max(need["paper"], need["spec"])


def _trial_config(s: Settings, target: str, a: AttackSettings, **extra) -> dict:
    return {"target": target, "code_dim": s.code_dim, "sigma": s.sigma, "jitter": s.jitter, "eps": s.eps,
            "attack": asdict(a), **extra}


def _planted_of(s: Settings, target: str) -> tuple[str, tuple[int, ...]]:
    return (s.planted, s.planted_classes) if target == "digits" else (s.mixture_planted, s.mixture_planted_classes)


def _take_verdict(s: Settings, w: World, target: str, a: AttackSettings, cert_settings: AttackSettings,
                  n_certify: int, streams) -> dict:
    """The verdict on one target: the attack at the theorem's m, the collapse detector, the certified control."""
    need = theorem_support(_family(a, w.clean.dim + s.code_dim), eps=s.eps, eta=s.eta)
    k = math.ceil(math.sqrt(max(need["paper"], need["spec"])))
    G = HashedMemoryGenerator(w.clean, w.noise, k=k, seed=streams.seed(target, "memory"), sigma=s.sigma)
    z = s.sigma * torch.randn(1000, s.code_dim, generator=streams.torch(target, "inverts"), dtype=torch.float64)
    inverts = bool(torch.equal(w.encoder(G(z)), z))
    measured, detail = verdict_attack(G, w.encoder, w.mu, settings=a, rng=streams.torch(target, "verdict"),
                                      also_score={"memory_row": memory_row_detector(G)})
    kind, classes = _planted_of(s, target)

    def planted(*name):
        return planted_generator(kind, w.clean, w.noise, classes=classes, sigma=s.sigma,
                                 generator=streams.torch(target, *name))

    to_certify, ceiling, what = planted("certify", "planted")
    cert = certify_gap(to_certify, w.encoder, w.mu, settings=cert_settings, n_score=n_certify,
                       rng=streams.torch(target, "certify"), confidence=_CERTIFY_CONFIDENCE)
    out = {"target": target, "k": k, "m": k * k, "theorem_support": need, "generator": G, "measured": measured,
           "attack_detail": detail, "encoder_inverts": inverts, "certified": cert, "tv_ceiling": ceiling,
           "planted": what, "control": None, "coverage": G.coverage(), "support": support_text(w.clean)}
    lo, hi = NEAR_BOUNDARY
    rate = s.control_factor * s.eps / ceiling
    if cert["planted"].ci_low > ceiling:  # a 0.1% event of the certificate (or an error): no certified control
        out["control_impossible"] = (f"no certified control: the certifier's lower limit {cert['planted'].ci_low:.4g} "
                                     f"exceeds the exact TV ceiling {ceiling:.4g} of {what}")
        return out
    truth = planted_truth(cert, ceiling, rate) if rate <= 1 else None
    if truth is None or not (lo * s.eps <= truth[0] and truth[1] <= hi * s.eps):
        out["control_impossible"] = (
            f"no certified control: the certified gap of {what} for this class is {cert['planted'].fmt()} against "
            f"its TV ceiling {ceiling:.4g}; at the rate that puts the upper end at {s.control_factor:g} eps the "
            f"lower end is below {lo} eps (the lower limit must reach {lo / s.control_factor:.3g} of the ceiling)")
        return out
    mix = PlantedMixture(FreshGenerator(w.clean, w.noise, streams.torch(target, "control", "base")),
                         planted("control", "planted")[0], rate=rate,
                         generator=streams.torch(target, "control", "mixture"))
    got, _ = verdict_attack(mix, w.encoder, w.mu, settings=a, rng=streams.torch(target, "control", "attack"))
    out["control"] = NearBoundaryControl(
        f"{target}: the perfect generator mixed with {what} at rate {rate:.4f}",
        truth_low=truth[0], truth_high=truth[1], bound=s.eps, measured=got,
        lower_certificate=(f"rate x the lower {_CERTIFY_CONFIDENCE:.1%} Hoeffding limit of the gap of the best of "
                           f"{cert['members']} members trained {cert['steps']} steps on {cert['n_train']} pairs, "
                           f"scored on {cert['n_score']} fresh pairs per side: {cert['planted'].fmt()} (a member "
                           "of the class, so a lower bound on its sup; the mixture's gap is rate x the planted one "
                           "for every D)"),
        upper_certificate=(f"rate x the total-variation ceiling {ceiling:.6g} of {what} (exact, from the class "
                           "probabilities; no discriminator with values in [0, 1] sees more)"))
    out["rate"] = rate
    return out


def _pvalue(verdict: str, measured, K: int, eps: float) -> float | None:
    """p-value of the Bonferroni-Hoeffding test behind the verdict (the level at which the limit it rests on reaches
    eps): H0 'some member's |gap| > eps' for consistent (one tail per member), H0 'every member's |gap| <= eps' for
    refuted (both tails per member)."""
    n = measured.n / 2
    if verdict == "consistent":
        return hoeffding_pvalue(eps - measured.estimate, n=n, value_range=1.0, K=K)
    if verdict == "refuted":  # the lower limit takes both tails of every member: 2K
        return hoeffding_pvalue(measured.estimate - eps, n=n, value_range=1.0, K=2 * K)
    return None


def run(config: RunConfig, settings: Settings | None = None) -> ClaimResult:
    """Attack Theorem 1 where its hypotheses hold, with the controls that make the verdict able to fail (module
    docstring)."""
    s = resolve_settings(Settings, config, settings)
    streams = streams_for(config)
    bar = tqdm(total=3 + s.mixture_1200d, desc="arz-thm1", disable=not config.progress, leave=False)
    w = World.build("digits", code_dim=s.code_dim, sigma=s.sigma, jitter=s.jitter)
    main = _take_verdict(s, w, "digits", s.attack, s.certify, s.n_certify, streams)
    bar.update()

    # Resolution (a): the power curve of the same attack over mixture rates of known certified gap.
    curve = _power(s, main, "digits", s.attack, s.power_factors, s.power_repeats, streams, config)
    bar.update()

    # Resolution (b): the verdict attack against the memorizing generator on an m grid up to the theorem's m.
    ks = sorted({min(main["k"], math.ceil(4 * s.grid_factor**j))
                 for j in range(int(math.log(main["k"] / 4, s.grid_factor)) + 2)})
    grid = run_trials(support_trial, [(_trial_config(s, "digits", s.attack, k=k), streams.seed("grid", k))
                                      for k in ks if k < main["k"]],
                      path=config.out_dir / "arz-thm1_grid.jsonl", resume=config.resume, n_jobs=config.n_jobs,
                      desc="arz-thm1 m grid", progress=config.progress)
    grid.append({"m": main["m"], "k": main["k"], "gap": main["measured"].to_dict(),
                 "consistent": bool(main["measured"].ci_high <= s.eps)})
    bar.update()

    mixture = None
    if s.mixture_1200d:
        wm = World.build("mixture_1200d", code_dim=s.code_dim, sigma=s.sigma)
        mixture = _take_verdict(s, wm, "mixture_1200d", s.mixture_attack, s.mixture_certify, s.n_certify_mixture,
                                streams)
        mixture["power"] = _power(s, mixture, "mixture_1200d", s.mixture_attack, s.mixture_power_factors,
                                  s.mixture_power_repeats, streams, config)
        bar.update()
    bar.close()
    return _result(config, s, main, mixture, curve, grid)


def _power(s: Settings, part: dict, target: str, attack: AttackSettings, factors, repeats: int, streams,
           config: RunConfig):
    """The verdict attack's detection rate over mixtures of the perfect generator and the planted one at the rates
    where the TV ceiling of the mixture is ``factor * eps`` (its certified upper end, the strength; rates above 1 are
    impossible and left out). The certified interval of each strength is recorded in ``part["power_truths"]``."""
    kind, classes = _planted_of(s, target)
    ceiling = part["tv_ceiling"]
    kept = [f for f in factors if f * s.eps <= ceiling]
    rates = [f * s.eps / ceiling for f in kept]
    low = min(max(0.0, part["certified"]["planted"].ci_low), ceiling)  # (a lower limit above it: no control)
    part["power_truths"] = [[r * low, r * ceiling] for r in rates]
    if not rates:
        return None
    configs = [_trial_config(s, target, attack, planted=kind, classes=list(classes), rate=r) for r in rates]
    return power_curve(planted_trial, configs, strengths=[f * s.eps for f in kept], repeats=repeats,
                       n=attack.n_test, bound=s.eps, streams=streams, direction="upper",
                       confidence=attack.confidence, label=f"{target}: perfect generator mixed with {kind}",
                       path=config.out_dir / f"arz-thm1_power_{target}.jsonl", resume=config.resume,
                       n_jobs=config.n_jobs, progress=config.progress)


def _sub_verdict(part: dict, eps: float, curve) -> tuple[str, str]:
    if not part["encoder_inverts"]:
        return "refuted", "E(G(z)) != z: the witness is not the theorem's"
    verdict, reason = decide(part["measured"], eps, control=part["control"], resolution=curve, direction="upper")
    if part["control"] is None and verdict == "inconclusive":
        reason = part["control_impossible"]
    return verdict, reason


def _smallest_consistent(grid: list[dict]) -> int | None:
    """The smallest grid m from which on the attack says 'consistent' at every larger grid m."""
    best = None
    for row in reversed(grid):
        if not row["consistent"]:
            break
        best = row["m"]
    return best


def _part_record(part: dict) -> dict:
    rec = {k: v for k, v in part.items() if k not in ("generator", "measured", "control", "certified", "power")}
    rec["power"] = None if part.get("power") is None else part["power"].to_dict()
    rec["measured"] = part["measured"].to_dict()
    rec["certified"] = {k: (v.to_dict() if hasattr(v, "to_dict") else v) for k, v in part["certified"].items()}
    rec["near_boundary_control"] = None if part["control"] is None else part["control"].to_dict()
    rec["collapse_gap"] = part["attack_detail"]["also_scored"]["memory_row"]
    return rec


def _result(config: RunConfig, s: Settings, main: dict, mixture: dict | None, curve, grid) -> ClaimResult:
    verdict, reason = _sub_verdict(main, s.eps, curve)
    need = main["theorem_support"]
    pvalue = _pvalue(verdict, main["measured"], main["attack_detail"]["K"], s.eps)
    notes = [f"digits: {reason}"]
    if mixture is not None:
        v2, r2 = _sub_verdict(mixture, s.eps, mixture["power"])
        notes.append(f"1200-d mixture: {v2}: {r2}")
        p2 = _pvalue(v2, mixture["measured"], mixture["attack_detail"]["K"], s.eps)
        if "refuted" in (verdict, v2):
            pvalue = min(2 * min(p for p, v in ((pvalue, verdict), (p2, v2)) if v == "refuted"), 1.0)
            verdict = "refuted"
        elif verdict == v2 == "consistent":
            pvalue = max(pvalue, p2)
        else:
            verdict, pvalue = "inconclusive", None
        reason = f"digits: {reason}; 1200-d mixture: {r2}"
    first = _smallest_consistent(grid)
    support = {"smallest_consistent_m": first, "theorem_m_paper": need["paper"], "theorem_m_spec": need["spec"],
               "ratio_paper": need["paper"] / first if first else None,
               "ratio_spec": need["spec"] / first if first else None, "grid": grid}
    figures = []
    if config.figures:
        figures.append(gap_vs_m_figure(grid, s.eps, need, main, config.out_dir))
        for name, c in (("arz-thm1_power", curve), ("arz-thm1_power_mixture_1200d",
                                                    None if mixture is None else mixture["power"])):
            if c is not None:
                figures.append(power_figure(c, config.out_dir, name,
                                            xlabel="certified gap of the planted mixture (identity phi)"))
    collapse = main["attack_detail"]["also_scored"]["memory_row"]
    cov = main["coverage"]
    control = main["control"]
    return make_result(
        "arz-thm1", config, s, verdict=verdict, verdict_reason=reason, verdict_pvalue=pvalue,
        measured=main["measured"], near_control=control, power=curve,
        params={"eps": s.eps, "p": need["p"], "m": main["m"], "k": main["k"], "code_dim": s.code_dim,
                "sigma": s.sigma, "phi": "identity",
                "class": _family(s.attack, 64 + s.code_dim).name.replace("K=1, ", ""),
                "target": main["generator"].target.description, "target_support": main["support"],
                "memory_coverage": cov, "attack": asdict(s.attack), "eta": s.eta},
        bound={"value": s.eps, "label": "ε", "support_paper": need["paper"], "support_spec": need["spec"],
               "L_unit_ball": need["L_unit_ball"]},
        summary=(f"best of {main['attack_detail']['K']} members at m = {main['m']}: gap {main['measured'].fmt()}; "
                 f"'consistent' from m = {first} on ({need['paper'] / first:.3g}x below the theorem's m)"
                 if first else f"best gap at m = {main['m']}: {main['measured'].fmt()}"),
        control_summary=("no near-boundary control (see notes)" if control is None else
                         f"{control.name}: certified gap [{control.truth_low:.3g}, {control.truth_high:.3g}] "
                         f"([{control.ratio_interval[0]:.2g}, {control.ratio_interval[1]:.2g}] eps), measured "
                         f"{control.measured.fmt()}, {'caught' if control.caught else 'NOT caught'}"),
        measurements={"digits": _part_record(main), "mixture_1200d": None if mixture is None else _part_record(mixture),
                      "support_resolution": support,
                      "collapse": {"memory_row_gap": collapse, "base_images_covered": cov["covered"],
                                   "base_images": cov["components"], "m": main["m"],
                                   "mean_copies_per_covered_image": cov["mean_copies"]}},
        figures=figures, notes=notes,
    )
