r"""The attack behind the ``arz-thm1`` verdict and the machinery of its controls (Arora, Risteski & Zhang 2017,
arXiv 1711.02651, Theorem 1; ``docs/papers/arz17.md``; ``docs/design.md``, "A verdict that could not have failed is
a defect").

- :class:`AttackSettings` — the verdict's discriminator class (an :class:`~ganlimits.verify.MLPFamily` with
  ReLU hidden layers, spectral norms <= ``weight_norm``, biases <= ``bias_bound``) and how hard it is attacked;
- :func:`verdict_attack` — random and trained members of that class against (G, E), scored on a fresh sample:
  the sup of |gap| over the members with one-sided Bonferroni two-sample Hoeffding limits, each at 95% (the lower
  one with both tails of every member, :func:`~ganlimits.verify.gap_from_values`);
- :func:`planted_generator` — the planted violations of the controls, each with an exact total-variation ceiling
  on its gap: the code-dependent generator (right image marginal, wrong joint law) and a mode-dropping one;
- :func:`certify_gap` — the much larger computation that certifies a planted violation's gap from below;
- :func:`planted_truth` — the certified interval of a planted mixture's gap (lower: certifier, upper: TV ceiling);
- :func:`theorem_support` — both forms of Theorem 1's m for a class;
- :func:`planted_trial`, :func:`support_trial` — pure, picklable trials of the power curve and of the m grid.

Shape letters: ``n`` samples, ``d`` image dimension, ``d_code`` code dimension, ``K`` discriminators, ``p``
capacity, ``m`` support, ``k`` intervals per code coordinate.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import torch

from ganlimits.constructions import (
    CodeDependentGenerator,
    FreshGenerator,
    GaussianMixtureTarget,
    HashedMemoryGenerator,
    NoisedTarget,
    NoiseExtractingEncoder,
    NoiseModel,
    PlantedMixture,
    class_probabilities,
    digits,
    mixture_1200d,
)
from ganlimits.theory import arz_thm1_support

from ..._results import Estimate
from ..._streams import Streams
from ...estimators import (
    MLPFamily,
    bigan_samples,
    gap_from_values,
    hoeffding_interval,
    member_gaps,
    train_attacker,
)
from ...estimators._inputs import as_rng
from .._common import CONFIDENCE, DIGITS_JITTER, CheckedSettings

__all__ = ["AttackSettings", "verdict_attack", "planted_generator", "certify_gap", "planted_truth", "theorem_support",
           "World", "planted_trial", "support_trial"]

PLANTED_KINDS = ("code-dependent", "mode-dropping")

_SCORE_ELEMENTS = 1 << 21  # entries of one (rows, d) scoring chunk of the certification: bounded memory in 1200-d


@dataclass(frozen=True)
class AttackSettings(CheckedSettings):
    """A discriminator class and one attack on it (the verdict's own, or the certifier's much larger one).

    ``hidden``/``weight_norm``/``bias_bound``: the :class:`~ganlimits.verify.MLPFamily` class (``hidden=()`` is
    the logistic class, linear in (x, code)); ``K_random`` random members and ``K_trained`` members trained by
    projected Adam ascent for ``steps`` steps of minibatches of ``batch_size`` rows (rate ``lr``) on ``n_train``
    pairs per side; all scored on ``n_test`` fresh pairs per side at level ``confidence``. Trained members start
    from random members rescaled to spectral norm ``init_norm`` per matrix (members drawn on the boundary of a class
    with large ``weight_norm`` start saturated, with vanishing gradients).
    """

    _limits = {"K_random": {"low": 0, "integer": True}, "K_trained": {"low": 0, "integer": True},
               "steps": {"low": 0, "integer": True}}

    hidden: tuple[int, ...]
    weight_norm: float
    bias_bound: float
    K_random: int
    K_trained: int
    n_train: int
    n_test: int
    steps: int
    lr: float
    batch_size: int
    init_norm: float = 1.0
    confidence: float = CONFIDENCE

    def validate(self) -> None:
        if self.K_random + self.K_trained < 1:
            raise ValueError("K_random + K_trained must be >= 1: an attack needs at least one member")
        if self.init_norm > self.weight_norm:
            raise ValueError(f"init_norm ({self.init_norm}) must be <= weight_norm ({self.weight_norm}): trained "
                             "members start inside the class")

    def spec(self, in_dim: int) -> dict:
        """The :class:`MLPFamily` keyword arguments of the class for inputs of width ``in_dim``."""
        return dict(in_dim=in_dim, hidden=self.hidden, weight_norm=self.weight_norm, bias_bound=self.bias_bound)

    def same_class(self, other: AttackSettings) -> bool:
        return (self.hidden, self.weight_norm, self.bias_bound) == (other.hidden, other.weight_norm,
                                                                    other.bias_bound)


def _sides(generator, encoder, target, n: int, rng: torch.Generator):
    """(x_real, code_real, x_fake, code_fake) by :func:`~ganlimits.verify.bigan_samples`, codes of std
    ``target.sigma`` (1 for a target without one)."""
    return bigan_samples(generator, encoder, target, n=n, rng=rng, sigma=getattr(target, "sigma", 1.0))


def _start(a: AttackSettings, spec: dict, K: int, rng: torch.Generator) -> MLPFamily:
    """K random members of the class, every matrix rescaled from spectral norm ``weight_norm`` to ``init_norm``."""
    fam = MLPFamily(K=K, generator=rng, **spec)
    scale = a.init_norm / a.weight_norm
    return MLPFamily(K=K, weights=[w * scale for w in fam.weights], biases=fam.biases, **spec)


def verdict_attack(generator, encoder, target, *, settings, rng: torch.Generator,
                   also_score: dict | None = None) -> tuple[Estimate, dict]:
    r"""The attack of the ``arz-thm1`` verdict on a pair (G, E): the largest BiGAN gap (identity φ) that random and
    trained members of the verdict's class find, scored on fresh samples (Arora, Risteski & Zhang 2017,
    Theorem 1).

    .. math::

        \widehat{\mathrm{gap}} = \max_{k \le K} \Big|\frac1n\sum_i D_k(x_i, E(x_i)) - \frac1n\sum_j D_k(G(z_j), z_j)
        \Big|,\qquad t = \sqrt{\log(K/\alpha) / n},

with the one-sided Bonferroni two-sample Hoeffding limits ``[max(0, gap - t_2), gap + t_1]``, each alone at level
    ``1 - alpha`` (``Estimate.sides = 1``; :func:`~ganlimits.verify.gap_from_values` with ``sides=1``): the upper
    limit bounds every member's |gap| at once (one tail per member, ``t_1``: level alpha/K each), the lower limit the
    best member's (both tails of every member, ``t_2 = sqrt(log(2K/alpha) / n)``: alpha/(2K) per member and side,
    since the sign of the best member's measured gap is data-dependent). The members are a lower bound on the class's
    sup.

    ``generator(z)``: (n, d_code) -> (n, d); ``encoder(x)``: (n, d) -> (n, d_code); ``target`` a
    :class:`~ganlimits.constructions.NoisedTarget` (its ``sigma`` is the code std). ``settings`` an
    :class:`AttackSettings` or a settings object with an ``attack`` field (the claim's). Draws from ``rng`` in this
    order: training pairs (real, then fake), random members, trained members' start and minibatches, test pairs.
    ``also_score``: extra discriminators ``{name: D(x, code) -> (n,) in [0, 1]}`` whose |gap| is scored on the same
    test pairs (two-sided Hoeffding each). Returns the Estimate and details (member counts, best random and trained
    gaps, whether the best member was trained, per-member signed gaps, extra scores).
    """
    a, rng = settings if isinstance(settings, AttackSettings) else settings.attack, as_rng(rng)
    x_r, c_r, x_f, c_f = _sides(generator, encoder, target, a.n_train, rng)
    spec = a.spec(x_r.shape[1] + c_r.shape[1])
    members = []
    if a.K_random:
        members.append(MLPFamily(K=a.K_random, generator=rng, **spec))
    if a.K_trained:
        members.append(train_attacker(_start(a, spec, a.K_trained, rng), real=(x_r, c_r), fake=(x_f, c_f),
                                      phi="identity", steps=a.steps, lr=a.lr, generator=rng, objective="bigan",
                                      sign="both", batch_size=min(a.batch_size, a.n_train)))
    x_r, c_r, x_f, c_f = _sides(generator, encoder, target, a.n_test, rng)
    real = torch.cat([fam(x_r, c_r) for fam in members])
    fake = torch.cat([fam(x_f, c_f) for fam in members])
    gaps = member_gaps(real, fake, phi="identity")
    per = gaps.abs()
    est = gap_from_values(real, fake, phi="identity", confidence=a.confidence, sides=1)
    est = dataclasses.replace(est, ci_high=min(1.0, est.ci_high), n=a.n_test)
    details = {"K": int(per.numel()), "K_random": a.K_random, "K_trained": a.K_trained,
               "best_random": float(per[: a.K_random].max()) if a.K_random else None,
               "best_trained": float(per[a.K_random:].max()) if a.K_trained else None,
               "best_member_trained": bool(a.K_trained and int(per.argmax()) >= a.K_random),
               "member_gaps": gaps.tolist(), "p": MLPFamily(K=1, generator=torch.Generator(), **spec).capacity}
    scored = {}
    for name, D in (also_score or {}).items():
        with torch.no_grad():
            g = abs(float(member_gaps(D(x_r, c_r), D(x_f, c_f), phi="identity")[0]))
        one = hoeffding_interval(g, n=a.n_test / 2, value_range=1.0, confidence=a.confidence)
        scored[name] = dataclasses.replace(one, ci_low=max(0.0, one.ci_low), ci_high=min(1.0, one.ci_high),
                                           n=a.n_test, method="hoeffding-two-sample, |gap|").to_dict()
    details["also_scored"] = scored
    return est, details


def _kept(target: GaussianMixtureTarget, classes) -> GaussianMixtureTarget:
    """``target`` restricted to the components whose label is in ``classes`` (weights renormalised)."""
    labels = target.component_labels.numpy()
    sel = torch.from_numpy(np.flatnonzero(np.isin(labels, list(classes))))
    return GaussianMixtureTarget(means=target.means[sel], std=target.std, weights=target.weights[sel],
                                 component_labels=target.component_labels[sel], n_classes=target.n_classes,
                                 description=f"{target.description}, labels {tuple(classes)} only")


def planted_generator(kind: str, clean, noise: NoiseModel, *, classes, sigma: float, generator: torch.Generator):
    r"""A planted violation of Theorem 1's conclusion and the exact ceiling of its gap: ``(G, tv, description)``.

    ``kind="code-dependent"``: :class:`~ganlimits.constructions.CodeDependentGenerator` (content from the labels in
    ``classes`` when :math:`|z_1|` is small, from the others otherwise): the right image marginal, a wrong joint law.
    ``kind="mode-dropping"``: the perfect generator restricted to the labels in ``classes`` (x̃ drawn fresh from
    those components only). With p the mass of ``classes`` under the clean law, the total variation between
    (x, E(x)) and (G(z), z) is at most

    .. math::

        \text{code-dependent: } 2p(1 - p), \qquad \text{mode-dropping: } 1 - p,

    (for the first, given z the content law is μ̃ restricted to one side, at distance 1 - p or p from μ̃; for the
    second, μ̃ - μ̃_kept = (1 - p)(μ̃_dropped - μ̃_kept)); every discriminator with values in [0, 1] sees a gap
    (identity φ) of at most that much. That is the upper certificate of every planted case of ``arz-thm1``.
    """
    if kind not in PLANTED_KINDS:
        raise ValueError(f"kind must be one of {PLANTED_KINDS}, got {kind!r}")
    classes = tuple(int(c) for c in classes)
    p = float(class_probabilities(clean)[list(classes)].sum())
    if not 0 < p < 1:
        raise ValueError(f"classes must hold some but not all of the target's mass, got mass {p}")
    if kind == "code-dependent":
        G = CodeDependentGenerator(clean, noise, generator=generator, classes=classes, sigma=sigma)
        return G, G.tv_upper_bound, f"the code-dependent generator (labels {classes} when |z_1| is small)"
    G = FreshGenerator(_kept(clean, classes), noise, generator)
    return G, 1.0 - p, f"the mode-dropping generator (labels {classes} only)"


def certify_gap(planted, encoder, target, *, settings: AttackSettings, n_score: int, rng: torch.Generator,
                confidence: float) -> dict:
    r"""The much larger computation that certifies, from below, the gap of a planted violation for the verdict's
    class.

    ``settings`` (the certifier: many more members, steps and samples than the verdict's attack) trains members
    against ``planted`` alone; the member D* with the largest |gap| on ``settings.n_test`` fresh pairs is signed so
    that its gap is positive and scored on ``n_score`` fresh pairs per side, in chunks. D* is a member of the class
    fixed before the scoring sample is drawn, so the lower limit of its two-sample Hoeffding interval (level
    ``confidence``) is a lower confidence limit of the class's sup of |gap| on ``planted``. For a
    :class:`PlantedMixture` of the perfect generator and ``planted`` at rate ρ, every discriminator's gap is exactly
    ρ times its gap on ``planted`` (the perfect generator's pairs have the law of (x, E(x))), so the class's sup on the
    mixture is ρ times its sup on ``planted`` (:func:`planted_truth`).
    """
    x_r, c_r, x_f, c_f = _sides(planted, encoder, target, settings.n_train, rng)
    spec = settings.spec(x_r.shape[1] + c_r.shape[1])
    trained = train_attacker(_start(settings, spec, settings.K_trained, rng), real=(x_r, c_r),
                             fake=(x_f, c_f), phi="identity", steps=settings.steps, lr=settings.lr, generator=rng,
                             objective="bigan", sign="both", batch_size=min(settings.batch_size, settings.n_train))
    x_r, c_r, x_f, c_f = _sides(planted, encoder, target, settings.n_test, rng)
    sel = member_gaps(trained(x_r, c_r), trained(x_f, c_f), phi="identity")
    best = int(sel.abs().argmax())
    sign = 1.0 if float(sel[best]) >= 0 else -1.0
    D = trained.select([best])
    sums = torch.zeros(2, dtype=torch.float64)
    done, chunk = 0, max(256, _SCORE_ELEMENTS // target.dim)
    while done < n_score:
        n = min(chunk, n_score - done)
        x, _ = target.sample(n, generator=rng)
        z = target.sigma * torch.randn(n, target.code_dim, generator=rng, dtype=torch.float64)
        with torch.no_grad():
            sums += torch.stack([D(x, encoder(x))[0].double().sum(), D(planted(z), z)[0].double().sum()])
        done += n
    gap = sign * float(sums[0] - sums[1]) / n_score
    est = hoeffding_interval(gap, n=n_score / 2, value_range=1.0, confidence=confidence)  # n_eff = n_score / 2
    return {"planted": dataclasses.replace(est, n=n_score, method="hoeffding-two-sample (one fixed member D*)"),
            "selection_gap": abs(float(sel[best])), "members": settings.K_trained, "steps": settings.steps,
            "n_train": settings.n_train, "n_score": n_score, "confidence": confidence}


def planted_truth(cert: dict, ceiling: float, rate: float) -> tuple[float, float]:
    """The certified interval of the class's sup of |gap| on the perfect generator mixed with the planted one at
    ``rate``: ``(rate * certified lower limit, rate * TV ceiling)`` (:func:`certify_gap`, :func:`planted_generator`).
    """
    low = max(0.0, cert["planted"].ci_low)
    if low > ceiling:
        raise ValueError(f"the certified lower limit {low:.6g} exceeds the TV ceiling {ceiling:.6g}: the certificate "
                         "or the ceiling is wrong")
    return rate * low, rate * ceiling


def theorem_support(family: MLPFamily, *, eps: float, eta: float = 0.1) -> dict:
    """Both forms of Theorem 1's m for a family: φ the identity shifted by 1/2 (Δ = 1/2, L_φ = 1), the Lipschitz
    constant rescaled to a unit parameter ball (``L_θ · r``, r the radius of the ball holding the class)."""
    lip = family.lipschitz_in_parameters() * family.parameter_radius()
    sizes = arz_thm1_support(p=family.capacity, eps=eps, lipschitz=lip, phi_range=0.5, lphi=1.0, eta=eta)
    return {"p": family.capacity, "L_theta": family.lipschitz_in_parameters(),
            "parameter_radius": family.parameter_radius(), "L_unit_ball": lip, **sizes}


@dataclass
class World:
    """The target of one verdict: the clean law, the noise model, μ and the theorem's encoder."""

    clean: object
    noise: NoiseModel
    mu: NoisedTarget
    encoder: NoiseExtractingEncoder

    @classmethod
    def build(cls, target: str, *, code_dim: int, sigma: float, jitter: float = DIGITS_JITTER) -> World:
        clean = digits(jitter=jitter) if target == "digits" else mixture_1200d(std=1.0)
        noise = NoiseModel(dim=clean.dim, code_dim=code_dim)
        return cls(clean, noise, NoisedTarget(clean=clean, noise=noise, sigma=sigma),
                   NoiseExtractingEncoder(noise=noise))


def _world(config: dict) -> World:
    return World.build(config["target"], code_dim=config["code_dim"], sigma=config["sigma"], jitter=config["jitter"])


def planted_trial(config: dict, seed: int) -> dict:
    """One repeat of the power curve: the verdict attack against the perfect generator mixed, at
    ``config["rate"]``, with the planted generator ``config["planted"]`` (kind, classes); detected when the lower
    limit exceeds eps."""
    torch.set_num_threads(1)
    w, streams = _world(config), Streams(seed)
    base = FreshGenerator(w.clean, w.noise, streams.torch("base"))
    planted, _, _ = planted_generator(config["planted"], w.clean, w.noise, classes=config["classes"],
                                      sigma=config["sigma"], generator=streams.torch("planted"))
    mix = PlantedMixture(base, planted, rate=config["rate"], generator=streams.torch("mixture"))
    est, _ = verdict_attack(mix, w.encoder, w.mu, settings=AttackSettings(**config["attack"]),
                            rng=streams.torch("attack"))
    return {"detected": bool(est.ci_low > config["eps"]), "gap": est.to_dict()}


def support_trial(config: dict, seed: int) -> dict:
    """One point of the m grid: the verdict attack against the memorizing generator with k^2 memorized images."""
    torch.set_num_threads(1)
    w, streams = _world(config), Streams(seed)
    G = HashedMemoryGenerator(w.clean, w.noise, k=config["k"], seed=streams.seed("memory"), sigma=config["sigma"])
    est, _ = verdict_attack(G, w.encoder, w.mu, settings=AttackSettings(**config["attack"]),
                            rng=streams.torch("attack"))
    return {"m": G.m, "k": config["k"], "gap": est.to_dict(), "consistent": bool(est.ci_high <= config["eps"])}
