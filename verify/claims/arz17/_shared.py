r"""The attack behind the ``arz-thm1`` verdict and the machinery of its controls (Arora, Risteski & Zhang 2017,
arXiv 1711.02651, Theorem 1; ``docs/papers/arz17.md``; ``docs/design.md``, "A verdict that could not have failed is
a defect").

- :class:`AttackSettings` — the verdict's discriminator class (an :class:`~ganlimits.verify.MLPFamily` with
  ReLU hidden layers, spectral norms <= ``weight_norm``, biases <= ``bias_bound``) and how hard it is attacked;
- :func:`verdict_attack` — random and trained members of that class against (G, E), scored on a fresh sample:
  the sup of |gap| over the members with one-sided Bonferroni two-sample Hoeffding limits, each at 95% (the lower
  one with both tails of every member, :func:`~ganlimits.verify.estimators.gap_from_values`);
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

from ..._streams import Streams
from ...estimators import (
    AttackSettings,
    MLPFamily,
    hoeffding_interval,
    member_gaps,
    train_attacker,
    verdict_attack,
)
from .._common import DIGITS_JITTER

__all__ = ["AttackSettings", "verdict_attack", "planted_generator", "certify_gap", "planted_truth", "theorem_support",
           "World", "planted_trial", "support_trial"]

PLANTED_KINDS = ("code-dependent", "mode-dropping")

_SCORE_ELEMENTS = 1 << 21  # entries of one (rows, d) scoring chunk of the certification: bounded memory in 1200-d


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
    x_r, c_r, x_f, c_f = settings.pairs(planted, encoder, target, settings.n_train, rng)
    spec = settings.spec(x_r.shape[1] + c_r.shape[1])
    trained = train_attacker(settings.start_members(spec["in_dim"], settings.K_trained, rng), real=(x_r, c_r),
                             fake=(x_f, c_f), phi="identity", steps=settings.steps, lr=settings.lr, generator=rng,
                             objective="bigan", sign="both", batch_size=min(settings.batch_size, settings.n_train))
    x_r, c_r, x_f, c_f = settings.pairs(planted, encoder, target, settings.n_test, rng)
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
