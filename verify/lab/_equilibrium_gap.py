r"""The empirical equilibrium gap of a trained generator: the payoff a freshly trained best-response discriminator
earns against it, scored on fresh samples (Arora, Ge, Liang, Ma & Zhang 2017, §4; ``docs/papers/agl17.md``,
"Equilibrium" and "MIX+GAN").

With the payoff :math:`F(G, D) = \mathbb E_{x\sim\mu} \phi(D(x)) + \mathbb E_{x\sim G} \phi(1 - D(x))` and the
value :math:`V = 2\phi(1/2)` of the game at the target, the gap of a generator (or generator mixture) G is

.. math::

    \operatorname{gap}(G) = \sup_{D} F(G, D) - V \;\ge\; F(G, \hat D) - V,

the neural-net distance :math:`d_{\mathcal F,\phi}(\mu, G)` of the paper's §2.1: how much a deviating
discriminator gains against G; it is 0 at an equilibrium whose generator matches the target for the class. The
best response :math:`\hat D` is one network of the lab's family (``config``: the width and depth of one
discriminator at k = 1), trained from its own seed with Adam on the GAN discriminator loss (maximising F with
:math:`\phi = \log`) on ``n_train`` target draws and ``n_train`` generator draws, then scored on ``n_fresh`` fresh
draws of each: :func:`~ganlimits.verify.estimators.gap_from_values` with ``objective="nnd"`` and the two-sample
Hoeffding interval. The estimate is a lower bound on the sup (the attacker may not be the best member).

Deviation: the log payoff is unbounded; it is scored with :math:`\phi = \log \max(\cdot, c)`, c = 0.1
(:func:`~ganlimits.verify.estimators.phi_log`), so that the Hoeffding range is log 10. The distinguishing-probability
form (:math:`\phi` = identity, the blog's eq. (1)) of the same trained :math:`\hat D` is reported beside it.

Shape letters: ``n`` samples, ``d`` data dimension.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from ganlimits.theory import check_number

from .._results import Estimate
from .._streams import Streams
from ..estimators import gap_from_values, phi_log
from ._models import LabConfig, mlp

__all__ = ["EquilibriumGap", "equilibrium_gap"]


@dataclass(frozen=True)
class EquilibriumGap:
    """The gap of one generator: ``log_payoff`` (phi = log clipped at 0.1; the GAN payoff minus V = -2 log 2) and
    ``identity`` (phi = identity; the distinguishing probability E_mu D - E_G D), both with two-sample Hoeffding
    intervals on ``n_fresh`` fresh draws per side; ``steps`` and ``n_train`` of the best response."""

    log_payoff: Estimate
    identity: Estimate
    steps: int
    n_train: int
    n_fresh: int

    def to_dict(self) -> dict:
        return {"log_payoff": self.log_payoff.to_dict(), "identity": self.identity.to_dict(), "steps": self.steps,
                "n_train": self.n_train, "n_fresh": self.n_fresh}


def equilibrium_gap(generator, target, *, seed: int, steps: int = 500, n_train: int = 4096, n_fresh: int = 4096,
                    batch_size: int = 256, config: LabConfig | None = None, confidence: float = 0.95
                    ) -> EquilibriumGap:
    """Train a best-response discriminator against ``generator`` and score its gain on fresh samples (module
    docstring). ``generator`` and ``target`` have ``sample(n, generator=) -> (x, _)``; ``seed`` feeds the named
    streams ``"br-init"``, ``"br-train"`` (training draws and minibatches) and ``"br-fresh"`` (scoring draws).

    >>> from ganlimits.verify.lab import lab_target
    >>> t = lab_target("ring")
    >>> g = equilibrium_gap(t, t, seed=0, steps=20, n_train=256, n_fresh=2000, config=LabConfig(width=16))
    >>> g.log_payoff.ci_low < 0 < g.log_payoff.ci_high
    True
    """
    steps = check_number("steps", steps, low=1, integer=True)
    n_train = check_number("n_train", n_train, low=2, integer=True)
    n_fresh = check_number("n_fresh", n_fresh, low=2, integer=True)
    batch_size = check_number("batch_size", batch_size, low=1, integer=True)
    config = LabConfig() if config is None else config
    if not isinstance(config, LabConfig):
        raise ValueError(f"config must be a LabConfig, got {type(config).__name__}")
    streams = Streams(seed)
    train_gen, fresh_gen = streams.torch("br-train"), streams.torch("br-fresh")
    real = target.sample(n_train, generator=train_gen)[0].float()
    fake = generator.sample(n_train, generator=train_gen)[0].float()
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"generator produces dimension {fake.shape[1]}, the target {real.shape[1]}")
    D = mlp(real.shape[1], 1, config, generator=streams.torch("br-init"))
    opt = torch.optim.Adam(D.parameters(), lr=config.lr_d, betas=config.betas)
    b = min(batch_size, n_train)
    for _ in range(steps):
        r = real[torch.randint(n_train, (b,), generator=train_gen)]
        f = fake[torch.randint(n_train, (b,), generator=train_gen)]
        out = D(torch.cat([r, f]))
        loss = F.softplus(-out[:b]).mean() + F.softplus(out[b:]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        real_v = torch.sigmoid(D(target.sample(n_fresh, generator=fresh_gen)[0].float()).double()).flatten()
        fake_v = torch.sigmoid(D(generator.sample(n_fresh, generator=fresh_gen)[0].float()).double()).flatten()
    log_gap = gap_from_values(real_v, fake_v, phi=phi_log(clip=0.1), objective="nnd", absolute=False,
                              confidence=confidence, name="best response", seed=seed)
    ident = gap_from_values(real_v, fake_v, phi="identity", objective="nnd", absolute=False, confidence=confidence,
                            name="best response", seed=seed)
    return EquilibriumGap(log_gap, ident, steps, n_train, n_fresh)
