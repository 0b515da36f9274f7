"""The attack of the ``arz-thm1`` verdict as an instrument: the largest BiGAN gap that random and trained members of
a one-hidden-layer discriminator class find on a pair (G, E) (Arora, Risteski & Zhang 2017, Theorem 1;
``docs/papers/arz17.md``).

:class:`AttackSettings` names the class and the attack; :meth:`AttackSettings.verdict_class` gives the one the
claim decides with (its quick or full setting), so a user's pair is attacked exactly as the claim attacks the
theorem's witnesses. :func:`verdict_attack` measures the gap with one-sided Bonferroni-Hoeffding limits.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from .._results import Estimate
from .._settings import CheckedSettings
from ._attackers import train_attacker
from ._families import MLPFamily
from ._gap import bigan_samples, gap_from_values, member_gaps
from ._inputs import as_rng
from ._intervals import hoeffding_interval

__all__ = ["AttackSettings", "verdict_attack"]

CONFIDENCE = 0.95


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

    @classmethod
    def verdict_class(cls, *, quick: bool = False) -> AttackSettings:
        """The attack of the ``arz-thm1`` verdict on the digits target: the one-hidden-layer class of width 8
        (weight norm 8, bias bound 2), 16 random members and 24 trained ones (4 with ``quick``), scored on 60,000
        fresh pairs per side (6,000 with ``quick``).

        >>> AttackSettings.verdict_class(quick=True).n_test
        6000
        """
        if quick:
            return cls(hidden=(8,), weight_norm=8.0, bias_bound=2.0, K_random=16, K_trained=4, n_train=3000,
                       n_test=6000, steps=120, lr=0.02, batch_size=500, init_norm=2.0)
        return cls(hidden=(8,), weight_norm=8.0, bias_bound=2.0, K_random=16, K_trained=24, n_train=20_000,
                   n_test=60_000, steps=600, lr=0.02, batch_size=2000, init_norm=2.0)

    def validate(self) -> None:
        if self.K_random + self.K_trained < 1:
            raise ValueError("K_random + K_trained must be >= 1: an attack needs at least one member")
        if self.init_norm > self.weight_norm:
            raise ValueError(f"init_norm ({self.init_norm}) must be <= weight_norm ({self.weight_norm}): trained "
                             "members start inside the class")

    def spec(self, in_dim: int) -> dict:
        """The :class:`MLPFamily` keyword arguments of the class for inputs of width ``in_dim``."""
        return dict(in_dim=in_dim, hidden=self.hidden, weight_norm=self.weight_norm, bias_bound=self.bias_bound)

    def start_members(self, in_dim: int, K: int, rng: torch.Generator) -> MLPFamily:
        """K random members of the class for inputs of width ``in_dim``, every matrix rescaled from spectral norm
        ``weight_norm`` to ``init_norm``: where trained members start."""
        spec = self.spec(in_dim)
        fam = MLPFamily(K=K, generator=rng, **spec)
        scale = self.init_norm / self.weight_norm
        return MLPFamily(K=K, weights=[w * scale for w in fam.weights], biases=fam.biases, **spec)

    @staticmethod
    def pairs(generator, encoder, target, n: int, rng: torch.Generator):
        """``(x_real, code_real, x_fake, code_fake)``: ``n`` pairs (x, E(x)) and (G(z), z) as the attack draws
        them (:func:`~ganlimits.verify.estimators.bigan_samples`), codes of std ``target.sigma`` (1 for a target
        without one)."""
        return bigan_samples(generator, encoder, target, n=n, rng=rng, sigma=getattr(target, "sigma", 1.0))

    def same_class(self, other: AttackSettings) -> bool:
        return (self.hidden, self.weight_norm, self.bias_bound) == (other.hidden, other.weight_norm,
                                                                    other.bias_bound)


def verdict_attack(generator, encoder, target, *, settings, rng: int | torch.Generator,
                   also_score: dict | None = None) -> tuple[Estimate, dict]:
    r"""The attack of the ``arz-thm1`` verdict on a pair (G, E): the largest BiGAN gap (identity φ) that random and
    trained members of the verdict's class find, scored on fresh samples (Arora, Risteski & Zhang 2017,
    Theorem 1).

    .. math::

        \widehat{\mathrm{gap}} = \max_{k \le K} \Big|\frac1n\sum_i D_k(x_i, E(x_i)) - \frac1n\sum_j D_k(G(z_j), z_j)
        \Big|,\qquad t = \sqrt{\log(K/\alpha) / n},

    with the one-sided Bonferroni two-sample Hoeffding limits ``[max(0, gap - t_2), gap + t_1]``, each alone at level
    ``1 - alpha`` (``Estimate.sides = 1``; :func:`~ganlimits.verify.estimators.gap_from_values` with ``sides=1``): the
    upper limit bounds every member's ``|gap|`` at once (one tail per member, ``t_1``: level alpha/K each), the lower
    limit the best member's (both tails of every member, ``t_2 = sqrt(log(2K/alpha) / n)``: alpha/(2K) per member and
    side, since the sign of the best member's measured gap is data-dependent). The members are a lower bound on the
    class's sup.

    ``generator(z)``: (n, d_code) -> (n, d); ``encoder(x)``: (n, d) -> (n, d_code); ``target`` a
    :class:`~ganlimits.constructions.NoisedTarget` (its ``sigma`` is the code std). ``settings`` an
    :class:`AttackSettings` or a settings object with an ``attack`` field (the claim's). Draws from ``rng`` in this
    order: training pairs (real, then fake), random members, trained members' start and minibatches, test pairs.
    ``also_score``: extra discriminators ``{name: D(x, code) -> (n,) in [0, 1]}`` whose ``|gap|`` is scored on the same
    test pairs (two-sided Hoeffding each). Returns the Estimate and details (member counts, best random and trained
    gaps, whether the best member was trained, per-member signed gaps, extra scores).
    """
    a, rng = settings if isinstance(settings, AttackSettings) else settings.attack, as_rng(rng)
    x_r, c_r, x_f, c_f = a.pairs(generator, encoder, target, a.n_train, rng)
    spec = a.spec(x_r.shape[1] + c_r.shape[1])
    members = []
    if a.K_random:
        members.append(MLPFamily(K=a.K_random, generator=rng, **spec))
    if a.K_trained:
        members.append(train_attacker(a.start_members(spec["in_dim"], a.K_trained, rng), real=(x_r, c_r),
                                      fake=(x_f, c_f), phi="identity", steps=a.steps, lr=a.lr, generator=rng,
                                      objective="bigan", sign="both", batch_size=min(a.batch_size, a.n_train)))
    x_r, c_r, x_f, c_f = a.pairs(generator, encoder, target, a.n_test, rng)
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
