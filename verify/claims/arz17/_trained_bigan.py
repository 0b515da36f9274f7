r"""The pieces of claim ``arz-trained-bigan``: one trained BiGAN pair per (target, seed), the toolkit's instruments
run on it, the regime rows of each target, and the planted cases of the claim's two questions (Arora, Risteski &
Zhang 2017, arXiv 1711.02651, Theorem 1; ``docs/papers/arz17.md``, "What a trained BiGAN's codes mean").

- :func:`train_pair` — the lab's BiGAN (:class:`~ganlimits.verify.lab.BiGAN`: deterministic encoder, the theorem's
  setting) trained on any sampler with ``sample(n, generator=)`` to a settled horizon
  (:func:`~ganlimits.verify.lab.train_until_settled`), its snapshots scored by :class:`DigitsScorer` on the theorem's
  target μ (jittered digits with d' coordinates replaced by N(0, 1) noise) and by VEEGAN's metric on a lab mixture;
- :func:`pair_trial` — one pure, picklable trial: train, then measure the BiGAN gap (the ``arz-thm1`` verdict attack
  and a stronger trained attacker), the label probe of E(x) with its chance level and the PCA baselines (top-d'
  principal components of x, and of its clean positions only), how much of the noise coordinates E reads, how well
  a logistic probe tells real from generated images by the image alone, the reconstruction ratio and the birthday
  support of G;
- :func:`regime_reference` — the target's own draws and uniform noise over its box, scored like a pair;
- :func:`leak_trial` — one repeat of the probe question's power curve against
  :class:`~ganlimits.constructions.LabelLeakingEncoder` at a known rate, through the same probe at the same n;
- :func:`gap_trial`, :func:`certify_collapse` — the gap question's planted family (the perfect generator mixed at a
  known rate with :class:`CollapsedImageGenerator`) through the verdict attack, and its lower certificate.

Shape letters: ``n`` samples, ``d`` data dimension, ``d_code`` code dimension, ``b`` batch size, ``s`` birthday
sample size.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import torch
from sklearn.decomposition import PCA

from ganlimits.constructions import FreshGenerator, LabelLeakingEncoder, PlantedMixture, class_probabilities, digits

from ..._streams import Streams
from ...estimators import (
    birthday_test,
    clopper_pearson,
    leak_test,
    pilot_sizes,
    probe_accuracy,
    reconstruction_ratio,
    threshold_from_reference,
)
from ...lab import LabConfig, ModeMetrics, Snapshot, build_method, lab_target, mode_metrics, train_until_settled
from ...lab.metrics import DISTANCE_RULE
from ...lab.regime import REGIME_CONFIDENCE, REGIME_MARGIN, SettleRule, TargetRegime, target_regime
from ._shared import AttackSettings, World, certify_gap, verdict_attack

__all__: list[str] = []



class CodedTarget:
    """A target with the attributes :func:`~ganlimits.verify.claims.arz17._shared.verdict_attack` reads:
    ``sample``, the code std ``sigma`` and ``code_dim``. Wraps a lab mixture, on which the trained G draws
    ``z ~ N(0, I_{d_code})``."""

    def __init__(self, target, *, code_dim: int, sigma: float = 1.0) -> None:
        self.target, self.code_dim, self.sigma = target, int(code_dim), float(sigma)
        self.dim, self.n_classes, self.description = target.dim, target.n_classes, target.description

    def sample(self, n: int, *, generator: torch.Generator):
        return self.target.sample(n, generator=generator)


def build_world(cfg: dict[str, Any]):
    """(the target the pair trains on and is attacked on, its population chance level, the noise model or None).

    ``cfg["target"]`` is ``"digits"`` (the theorem's μ: ``World.build("digits", ...)``, code std 1) or a lab
    mixture name (``"grid"``, ``"ring"``), wrapped with code std 1."""
    if cfg["target"] == "digits":
        w = World.build("digits", code_dim=cfg["code_dim"], sigma=1.0, jitter=cfg["jitter"])
        return w.mu, float(np.max(class_probabilities(digits()))), w
    t = lab_target(cfg["target"])
    return CodedTarget(t, code_dim=cfg["code_dim"]), float(np.max(class_probabilities(t))), None


class CollapsedImageGenerator:
    r"""The planted gap violation of the claim's gap question: every code gets one fixed clean image,

    .. math::

        G_0(z) = \tilde x_0 \odot z, \qquad \tilde x_0 \text{ one draw of the clean target (fixed)},

    a generator collapsed onto a single (jittered) digit whose codes are still N(0, σ² I). Its joint law (G_0(z), z)
    puts all its mass on the image x̃_0 while μ's clean part has a density, so the two joint laws are mutually
    singular: total variation exactly 1. Mixed at rate ρ with :class:`~ganlimits.constructions.FreshGenerator` (whose
    joint law *is* that of (x, E(x))), the total variation to the real pairs is exactly ρ, the largest gap any
    discriminator with values in [0, 1] can see (the upper certificate of the control)."""

    def __init__(self, clean, noise, *, generator: torch.Generator) -> None:
        self.noise = noise
        self.image = clean.sample(1, generator=generator)[0][0].clone()
        self.name = "generator collapsed onto one jittered digit (codes untouched)"

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        z = torch.as_tensor(z, dtype=torch.float64)
        return self.noise.noised(self.image.expand(z.shape[0], -1).clone(), z)


class DigitsScorer:
    r"""Mode metrics of generated images of μ, the counterpart of :func:`~ganlimits.verify.lab.mode_metrics` for
    the digits (``docs/papers/arz17.md``, "What a trained BiGAN's codes mean", regime).

    On the clean positions P (the noise coordinates carry the code and are left out), a generated image x is *high
    quality* when its nearest training digit lies within :math:`t`, the ``quantile`` (0.9) of the distances from each
    training digit to its nearest *other* training digit:

    .. math::

        r(x) = \min_i \lVert x_P - \tilde x_{i,P} \rVert_2, \qquad \text{high quality: } r(x) \le t, \qquad
        t = Q_{0.9}\big(\{\min_{j \ne i} \lVert \tilde x_{i,P} - \tilde x_{j,P} \rVert_2\}_i\big),

    i.e. as close to the training set as nine in ten real digits are to their nearest other digit; the *modes* are
    the 10 digit classes, a class counted when it is the label of the nearest training digit of at least one
    high-quality image. A draw of μ lies about h √|P| = 0.39 from its own digit (t = 1.335 at h = 0.05): the
    target scores every class and all of its mass as high quality; uniform noise over the pixel box [0, 1]^P scores
    none. Deviation: VEEGAN's rule (a radius in component standard deviations) would need a generated digit within
    3 jitter widths of a training image, which no generator that does not memorise reaches.

    ``scorer(x)`` returns a :class:`~ganlimits.verify.lab.ModeMetrics` (reverse KL of the class histogram against
    uniform, ``threshold`` = t in pixel units).
    """

    n_modes = 10

    def __init__(self, world, *, quantile: float = 0.9) -> None:
        self.P = world.noise.clean_positions
        self.images = world.clean.images[:, self.P].to(torch.float64)
        self.labels = world.clean.labels
        d = torch.cdist(self.images, self.images)
        d.fill_diagonal_(math.inf)
        self.quantile = float(quantile)
        self.threshold = float(torch.quantile(d.min(dim=1).values, self.quantile))

    def __call__(self, x: torch.Tensor) -> ModeMetrics:
        x = torch.as_tensor(x).detach().to("cpu", torch.float64)
        finite = torch.isfinite(x).all(dim=1)
        xc = torch.where(finite[:, None], x, torch.zeros((), dtype=torch.float64))[:, self.P]
        r = torch.empty(x.shape[0], dtype=torch.float64)
        idx = torch.empty(x.shape[0], dtype=torch.int64)
        for start in range(0, x.shape[0], 2048):
            dmin, i = torch.cdist(xc[start:start + 2048], self.images).min(dim=1)
            r[start:start + 2048], idx[start:start + 2048] = dmin, i
        r[~finite] = math.inf
        hq = r <= self.threshold
        counts = torch.bincount(self.labels[idx[hq]], minlength=self.n_modes)
        n_hq = int(hq.sum())
        if n_hq:
            q = counts[counts > 0].double() / n_hq
            reverse_kl = float((q * torch.log(self.n_modes * q)).sum())
        else:
            reverse_kl = math.nan
        return ModeMetrics(modes=int((counts > 0).sum()), high_quality=n_hq / x.shape[0], reverse_kl=reverse_kl,
                           counts=tuple(int(c) for c in counts), n=int(x.shape[0]), n_modes=self.n_modes,
                           threshold=self.threshold, median_distance=float(r.median()))


def scorer_for(cfg: dict[str, Any], target, world):
    """``(score(x) -> ModeMetrics, n_modes, description of the rule)`` of a pair's target: the digits rule of
    :class:`DigitsScorer` on μ, VEEGAN's :func:`~ganlimits.verify.lab.mode_metrics` on a lab mixture."""
    if cfg["target"] == "digits":
        s = DigitsScorer(world)
        return s, s.n_modes, (f"digit classes; high quality when the nearest training digit (clean pixels) is within "
                              f"{s.threshold:.3f}, the 0.9 quantile of the digits' nearest-other-digit distances")
    return (lambda x: mode_metrics(x, target.target)), target.target.n_components, DISTANCE_RULE


def diffuse_sample(cfg: dict[str, Any], target, n: int, g: torch.Generator) -> torch.Tensor:
    """Uniform noise over the data's box: the pixel box [0, 1]^d on the digits (codes N(0, 1) at the noise
    positions), the box of the mixture's means widened by 3 standard deviations on a lab mixture."""
    if cfg["target"] == "digits":
        u = torch.rand(n, target.dim, generator=g, dtype=torch.float64)
        z = torch.randn(n, target.code_dim, generator=g, dtype=torch.float64)
        return target.noise.noised(u, z)
    t = target.target
    lo = t.means.min(dim=0).values - 3 * t.std
    hi = t.means.max(dim=0).values + 3 * t.std
    return lo + (hi - lo) * torch.rand(n, t.dim, generator=g, dtype=torch.float64)


def regime_reference(cfg: dict[str, Any], seed: int, *, repeats: int = 5):
    """The regime reference of one target (:class:`~ganlimits.verify.lab.regime.TargetRegime`): ``repeats`` sets of
    ``n_eval`` draws of the target itself and of uniform noise over its box, scored by the pair's rule
    (:func:`scorer_for`), and the gate's high-quality floor (the lab's
    :func:`~ganlimits.verify.lab.regime.target_regime` on a mixture; the same construction with :class:`DigitsScorer` on
    the digits)."""
    torch.set_num_threads(1)
    gen = Streams(seed).torch("regime")
    target, _, world = build_world(cfg)
    if cfg["target"] != "digits":
        return target_regime(target.target, rng=gen, n_eval=cfg["n_eval"], repeats=repeats, name=cfg["target"])
    score, n_modes, rule = scorer_for(cfg, target, world)
    own = [score(target.sample(cfg["n_eval"], generator=gen)[0]) for _ in range(repeats)]
    cloud = [score(diffuse_sample(cfg, target, cfg["n_eval"], gen)) for _ in range(repeats)]
    hits = sum(round(m.high_quality * m.n) for m in cloud)
    upper = clopper_pearson(hits, cfg["n_eval"] * repeats, confidence=REGIME_CONFIDENCE, sides=1).ci_high
    return TargetRegime(target="digits", n_components=n_modes, n_eval=cfg["n_eval"], threshold_rule=rule,
                        threshold=score.threshold, box=(0.0, 1.0), target_modes=tuple(m.modes for m in own),
                        target_high_quality=tuple(m.high_quality for m in own),
                        diffuse_modes=tuple(m.modes for m in cloud),
                        diffuse_high_quality=tuple(m.high_quality for m in cloud), diffuse_hq_upper=float(upper),
                        margin=REGIME_MARGIN, confidence=REGIME_CONFIDENCE)


def train_pair(target, *, cap: int, seed: int, config: LabConfig, score, n_modes: int, eval_every: int,
               n_eval: int, rule: SettleRule):
    r"""Train the lab's BiGAN (deterministic encoder, the theorem's setting) on ``target`` until its snapshots settle
    (``rule``, :class:`~ganlimits.verify.lab.regime.SettleRule`) or ``cap`` generator updates; returns
    ``(G, E, SettledTraining)``.

    .. math::

        \max_D\ \mathbb E_x \log\sigma(D(x, E(x))) + \mathbb E_z \log(1 - \sigma(D(G(z), z))),\qquad
        \min_{G, E}\ (\text{the non-saturating form, } ganlimits.verify.lab.BiGAN)

    Streams of ``Streams(seed)`` as in :func:`~ganlimits.verify.lab.train_gan`: ``"init"`` (weights), ``"data"``
    (real minibatches), ``"noise"`` (the method's z), ``("eval", step)`` (the ``n_eval`` samples scored by
    ``score`` at a snapshot, every ``eval_every`` steps): the lab's :func:`~ganlimits.verify.lab.train_until_settled`
    at the constant learning rate. Bit-identical for a fixed seed and thread count.
    """
    streams = Streams(seed)
    method = build_method("bigan", data_dim=target.dim, config=config, generator=streams.torch("init"))

    def snap(step: int, losses):
        with torch.no_grad():
            z = torch.randn(n_eval, config.noise_dim, generator=streams.torch("eval", step))
            x = method.G(z).double()
        m = score(x)
        loss_d, loss_g = (math.nan, math.nan) if losses is None else (float(losses[0]), float(losses[1]))
        return Snapshot(step, m.modes, m.high_quality, m.reverse_kl, loss_d, loss_g, m.median_distance), m

    run = train_until_settled(method, target, cap=cap, eval_every=eval_every, streams=streams, config=config,
                              device=torch.device("cpu"), score=snap, rule=rule, n_modes=n_modes)
    return method.generator_callable(), method.encoder_callable(), run


def labelled(target, n: int, g: torch.Generator):
    """``(x, labels)``: n draws of the target with their class labels (digit class or mixture component)."""
    x, y = target.sample(n, generator=g)
    return x, y


def probe(codes_of, target, cfg: dict[str, Any], g: torch.Generator, chance: float, *, seed: int | None = None,
          pca: bool = False) -> dict:
    """The verdict's probe: label from ``codes_of(x, y)`` trained on ``n_train`` draws, tested one-sided against the
    population ``chance`` on ``n_test`` fresh draws (:func:`~ganlimits.verify.estimators.leak_test`). With ``pca`` also
    the baseline: the same probe on the top-``code_dim`` principal components of x (fitted on the training draws)."""
    x_tr, y_tr = labelled(target, cfg["n_train"], g)
    x_te, y_te = labelled(target, cfg["n_test"], g)
    with torch.no_grad():
        c_tr, c_te = codes_of(x_tr, y_tr), codes_of(x_te, y_te)
    out = {"codes": leak_test(c_tr.numpy(), y_tr.numpy(), c_te.numpy(), y_te.numpy(), chance=chance,
                              confidence=cfg["confidence"], seed=seed)}
    if pca:
        parts = {"pca": slice(None)}
        if hasattr(target, "noise"):  # the noise coordinates (variance 1) dominate the pixels' variance
            parts["pca_clean"] = target.noise.clean_positions
        for name, P in parts.items():
            a_tr, a_te = x_tr[:, P].numpy(), x_te[:, P].numpy()
            p = PCA(n_components=cfg["code_dim"], svd_solver="full").fit(a_tr)
            out[name] = leak_test(p.transform(a_tr), y_tr.numpy(), p.transform(a_te), y_te.numpy(), chance=chance,
                                  confidence=cfg["confidence"], seed=seed)
    return out


def leak_trial(cfg: dict[str, Any], seed: int) -> dict:
    """One repeat of the probe's power curve: the verdict's probe (same n) against an encoder that writes the label
    into the code at rate ``cfg["rate"]`` and otherwise returns the noise coordinates (true best accuracy
    ρ + (1 - ρ) max_c π_c); detected when the probe's one-sided lower limit exceeds ``cfg["bound"]``."""
    torch.set_num_threads(1)
    streams = Streams(seed)
    target, chance, w = build_world(cfg)
    leaky = LabelLeakingEncoder(w.noise, rate=cfg["rate"], n_classes=target.n_classes, sigma=1.0,
                                generator=streams.torch("leak"))
    got = probe(leaky, target, cfg, streams.torch("sample"), chance, seed=seed)["codes"]
    return {"detected": bool(got["accuracy"].ci_low > cfg["bound"]), "accuracy": got["accuracy"].to_dict()}


def collapse_world(cfg: dict[str, Any], seed: int):
    """``(world, base, planted mixture)`` of the gap question's planted family: the perfect generator
    (:class:`~ganlimits.constructions.FreshGenerator`) mixed at rate ``cfg["rate"]`` with
    :class:`CollapsedImageGenerator` (its image drawn from ``cfg["image_seed"]``, one image for the whole family)."""
    streams = Streams(seed)
    w = World.build("digits", code_dim=cfg["code_dim"], sigma=1.0, jitter=cfg["jitter"])
    base = FreshGenerator(w.clean, w.noise, streams.torch("fresh"))
    planted = CollapsedImageGenerator(w.clean, w.noise, generator=torch.Generator().manual_seed(cfg["image_seed"]))
    mix = PlantedMixture(base, planted, rate=cfg["rate"], generator=streams.torch("mixture"))
    return w, base, planted, mix


def gap_trial(cfg: dict[str, Any], seed: int) -> dict:
    """One repeat of the gap question's power curve (and its control): the verdict attack (``cfg["attack"]``, the
    verdict's class, n and confidence) against the collapse mixture at rate ρ = ``cfg["rate"]`` (true gap at most ρ,
    :class:`CollapsedImageGenerator`); detected when the lower limit exceeds ``cfg["eps"]``."""
    torch.set_num_threads(1)
    w, _, _, mix = collapse_world(cfg, seed)
    est, _ = verdict_attack(mix, w.encoder, w.mu, settings=AttackSettings(**cfg["attack"]),
                            rng=Streams(seed).torch("attack"))
    return {"detected": bool(est.ci_low > cfg["eps"]), "gap": est.to_dict(), "rate": cfg["rate"]}


def certify_collapse(cfg: dict[str, Any], seed: int) -> dict:
    """The lower certificate of the collapse family: the certifier (``cfg["certifier"]``, the verdict's class attacked
    far harder) trains members against the collapsed generator alone, and the best member D* is scored on
    ``cfg["n_score"]`` fresh pairs against it (:func:`~ganlimits.verify.claims.arz17._shared.certify_gap`, Hoeffding at
    ``cfg["certify_confidence"]``). The perfect generator's pairs have the law of (x, E(x)), so every discriminator's
    gap on the mixture at rate ρ is exactly ρ times its gap on the collapsed generator: ρ times D*'s lower limit is a
    lower bound on the class's sup."""
    torch.set_num_threads(1)
    w, _, planted, _ = collapse_world({**cfg, "rate": 0.0}, seed)
    cert = certify_gap(planted, w.encoder, w.mu, settings=AttackSettings(**cfg["certifier"]), n_score=cfg["n_score"],
                       rng=Streams(seed).torch("certify"), confidence=cfg["certify_confidence"])
    return {"planted": cert["planted"].to_dict(), "selection_gap": cert["selection_gap"], "n_score": cfg["n_score"],
            "confidence": cfg["certify_confidence"]}


def noise_read(E, target, n: int, g: torch.Generator) -> float | None:
    """How much of the noise coordinates z the encoder reads: R² of the least-squares fit of z from [E(x), 1] on
    n draws of μ (1 for the theorem's encoder E(x) = z; near 0 for a code that ignores z). None off the digits."""
    if not hasattr(target, "sample_with_codes"):
        return None
    x, z, _ = target.sample_with_codes(n, generator=g)
    with torch.no_grad():
        c = E(x)
    c, z = c - c.mean(0), z - z.mean(0)
    explained = (z.T @ c) @ torch.linalg.solve(c.T @ c, c.T @ z)  # normal equations: (d_code, d_code) only
    return float(torch.trace(explained) / (z * z).sum())


def image_separability(G, target, n: int, g: torch.Generator, confidence: float) -> dict:
    """Where the gap comes from: held-out accuracy of the logistic probe telling n real images x from n generated
    G(z) by the image alone (no code), trained on as many fresh ones (0.5 when the image marginals agree). A gap near
    1 with this accuracy near 1 is the image marginal's, not the codes'. Clopper-Pearson, two-sided. The probe is
    linear: on a 2-D mixture it is blind to mass between the modes (accuracy near 0.5 says little there)."""
    def both(m: int):
        x, _ = target.sample(m, generator=g)
        xg, _ = G.sample(m, generator=g)
        return torch.cat([x, xg]).numpy(), np.r_[np.ones(m, dtype=np.int64), np.zeros(m, dtype=np.int64)]

    (a, ya), (b, yb) = both(n), both(n)
    return probe_accuracy(a, ya, b, yb, confidence=confidence)["accuracy"].to_dict()


def reconstruction(G, E, target, cfg: dict[str, Any], g: torch.Generator, rng: np.random.Generator) -> dict:
    r"""``‖x - G(E(x))‖`` against the random-pair baseline ``‖x - x'‖`` (ratio of means, paired bootstrap), full
    vectors; on the digits also on the clean positions only (the noise coordinates excluded)."""
    n = cfg["n_recon"]
    x, _ = target.sample(n, generator=g)
    x_other, _ = target.sample(n, generator=g)
    with torch.no_grad():
        xr = G(E(x))
    out = {}
    parts = {"full": slice(None)}
    if hasattr(target, "noise"):
        parts["clean"] = target.noise.clean_positions
    for name, P in parts.items():
        a = torch.linalg.vector_norm((x - xr)[:, P], dim=1).numpy()
        b = torch.linalg.vector_norm((x - x_other)[:, P], dim=1).numpy()
        out[name] = reconstruction_ratio(a, b, confidence=cfg["confidence"], B=cfg["bootstrap"], rng=rng).to_dict()
    return out


def birthday_support(G, target, cfg: dict[str, Any], g: torch.Generator) -> dict:
    """The birthday-test support of G on full output vectors: duplicate threshold from ``reference_n`` held-out draws
    of the target (:func:`~ganlimits.verify.threshold_from_reference`), sizes from a pilot run, the calibrated
    likelihood-ratio interval. When no pilot size up to ``max_size`` collides half the time, the support is reported
    as beyond the budget (about (max_size / 1.18)² or more)."""
    ref, _ = target.sample(cfg["reference_n"], generator=g)
    t = threshold_from_reference(ref)

    def sample(s: int, gen: torch.Generator) -> torch.Tensor:
        return G.sample(s, generator=gen)[0]

    try:
        sizes = pilot_sizes(sample, threshold=t, generator=g, n_sizes=cfg["n_sizes"], repeats=cfg["pilot_repeats"],
                            max_size=cfg["max_size"])
    except ValueError:
        return {"threshold": t, "beyond_budget": True, "max_size": cfg["max_size"],
                "support_at_least": (cfg["max_size"] / 1.18) ** 2}
    res = birthday_test(sample, sizes=sizes, repeats=cfg["repeats"], threshold=t, generator=g,
                        calibration_draws=cfg["calibration_draws"])
    return {"threshold": t, "beyond_budget": False, "support": res.support_estimate.to_dict(),
            "sizes": list(sizes), "nonuniform": res.nonuniform}


def pair_trial(cfg: dict[str, Any], seed: int) -> dict:
    """One (target, seed): train the pair to a settled horizon (or its cap), then every instrument of the claim on it
    (module docstring). ``cfg["settle"]`` holds the :class:`~ganlimits.verify.lab.regime.SettleRule` fields."""
    torch.set_num_threads(1)
    streams = Streams(seed)
    target, chance, world = build_world(cfg)
    lab = LabConfig(**cfg["lab"])
    score, n_modes, rule_text = scorer_for(cfg, target, world)
    start = time.perf_counter()
    G, E, run = train_pair(target, cap=cfg["cap"], seed=streams.seed("train"), config=lab, score=score,
                           n_modes=n_modes, eval_every=cfg["eval_every"], n_eval=cfg["n_eval"],
                           rule=SettleRule(**cfg["settle"]))
    elapsed = time.perf_counter() - start
    gap, detail = verdict_attack(G, E, target, settings=AttackSettings(**cfg["attack"]),
                                 rng=streams.torch("attack"))
    strong, sdetail = verdict_attack(G, E, target, settings=AttackSettings(**cfg["strong"]),
                                     rng=streams.torch("strong"))
    pr = probe(lambda x, y: E(x), target, cfg, streams.torch("probe"), chance, seed=seed, pca=True)
    out = {"target": cfg["target"], "description": target.description, "seed": seed,
           "steps": run.horizon.steps, "cap": cfg["cap"], "settled": run.horizon.settled,
           "horizon": run.horizon.to_dict(), "snapshots": [sn.to_dict() for sn in run.snapshots],
           "final": run.final.to_dict(), "score_rule": rule_text, "train_s": run.train_s, "elapsed_s": elapsed,
           "chance": chance, "gap": gap.to_dict(), "gap_K": detail["K"], "gap_p": detail["p"],
           "strong_gap": strong.to_dict(), "strong_K": sdetail["K"], "strong_p": sdetail["p"],
           "probe": {k: {"accuracy": v["accuracy"].to_dict(), "pvalue": v["pvalue"], "detected": v["detected"]}
                     for k, v in pr.items()},
           "noise_read_r2": noise_read(E, target, cfg["n_test"], streams.torch("noise-read")),
           "image_separability": image_separability(G, target, cfg["n_test"], streams.torch("separability"),
                                                    cfg["confidence"]),
           "reconstruction": reconstruction(G, E, target, cfg, streams.torch("recon"), streams.numpy("bootstrap")),
           "birthday": birthday_support(G, target, cfg, streams.torch("birthday"))}
    if cfg["target"] != "digits":
        x, _ = G.sample(min(500, cfg["n_eval"]), generator=streams.torch("modes"))
        out["figure_samples"] = x.tolist()
    return out
