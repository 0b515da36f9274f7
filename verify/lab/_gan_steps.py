r"""The lab's training interface and the single-discriminator methods: GAN, PacGAN and WGAN-GP
(``docs/papers/veegan.md``).

Every method is a small class with the same interface (:class:`LabMethod`): it is built from the data dimension,
a :class:`~ganlimits.verify.lab.LabConfig` and a ``torch.Generator`` for its initial weights, and ``step(x, gen)``
performs one training step — the method's discriminator update(s) and one generator update — on the real
minibatch ``x`` of shape (``reals_per_step``, d), drawing its noise from ``gen``. The body of each ``step`` is the
paper's objective written out; the class docstring states it. ``step`` returns the two losses, detached.

Stacks (:mod:`ganlimits.verify.lab._stack`): built from a sequence of S generators instead of one, a method holds S
runs at once — every network a :class:`~ganlimits.verify.lab.stacked.StackedMLP`, every tensor (S, n, f) instead of
(n, f) — and the same ``step`` trains all S, each exactly as it would train alone (up to float rounding). For this
the step code addresses rows as dimension -2 and features as dimension -1, builds networks with ``self._mlp`` and
other trained tensors with ``self._zeros``, draws with ``self._noise`` / ``self._uniform``, reduces with
``self._mean`` (each run's mean: a scalar, or an (S,) vector) and backpropagates the sum of its losses.

Conventions: :math:`\sigma` the logistic function, :math:`\operatorname{softplus}(t) = \log(1 + e^t)`, so
:math:`-\log \sigma(t) = \operatorname{softplus}(-t)` and :math:`-\log(1 - \sigma(t)) = \operatorname{softplus}(t)`;
discriminators output logits. Shape letters: ``b`` batch size, ``d`` data dimension, ``d_code`` noise dimension,
``m`` pack size.
"""

from __future__ import annotations

import copy
from typing import ClassVar

import torch
from torch.nn import functional as F

from ._models import LabConfig, LabEncoder, LabGenerator, mlp
from ._stack import StackedMLP, draw, run_mean, stack_size, unstack_value

__all__ = ["LabMethod", "VanillaGAN", "PacGAN", "WGANGP"]


class LabMethod:
    """The training interface every method of the lab shares.

    Attributes: ``key`` (the name used by :func:`~ganlimits.verify.lab.train_gan`), ``label`` (for tables),
    ``objective`` (one line of maths), ``G`` the generator network, ``reals_per_step`` the number of real samples
    one step consumes, ``stack`` None for one run or S for a stack of S runs (``generator`` a sequence of S
    generators). Subclasses build their networks in ``_build`` (with ``self._mlp``) and implement ``step``.
    """

    key: ClassVar[str] = ""
    label: ClassVar[str] = ""
    objective: ClassVar[str] = ""

    def __init__(self, *, data_dim: int, config: LabConfig, generator: torch.Generator,
                 device: torch.device | str = "cpu") -> None:
        self.data_dim = int(data_dim)
        self.config = config
        self.device = torch.device(device)
        self.stack = stack_size(generator)
        self.G = self._mlp(config.noise_dim, self.data_dim, config, generator)
        self._build(generator)
        self.reals_per_step = config.batch_size

    def _build(self, generator: torch.Generator) -> None:
        raise NotImplementedError

    def _mlp(self, in_dim: int, out_dim: int, config: LabConfig, generator) -> torch.nn.Module:
        """:func:`~ganlimits.verify.lab.mlp` drawn from ``generator`` on the method's device; for a stack, the
        :class:`~ganlimits.verify.lab.stacked.StackedMLP` of S such MLPs, MLP s drawn from generator s."""
        if self.stack is None:
            return mlp(in_dim, out_dim, config, generator=generator, device=self.device)
        return StackedMLP([mlp(in_dim, out_dim, config, generator=g) for g in generator]).to(self.device)

    def _adam(self, params, lr: float) -> torch.optim.Adam:
        return torch.optim.Adam(params, lr=lr, betas=self.config.betas, fused=True)

    def _noise(self, n: int, gen: torch.Generator) -> torch.Tensor:
        """(n, d_code) standard normal noise from ``gen`` (drawn on the CPU, then moved to the device); for a stack
        (S, n, d_code), run s's rows from generator s."""
        return draw(torch.randn, (n, self.config.noise_dim), gen).to(self.device)

    def _uniform(self, n: int, gen) -> torch.Tensor:
        """(n, 1) draws of U[0, 1) from ``gen`` (on the CPU, then moved to the device); for a stack (S, n, 1)."""
        return draw(torch.rand, (n, 1), gen).to(self.device)

    def _zeros(self, *shape: int) -> torch.Tensor:
        """A trained tensor (a leaf that requires grad) of zeros of ``shape`` on the method's device; for a stack
        the (S, ...) stack of them."""
        return torch.zeros(*(() if self.stack is None else (self.stack,)), *shape, device=self.device,
                           requires_grad=True)

    def _mean(self, t: torch.Tensor) -> torch.Tensor:
        """The mean over each run's entries of ``t``: a scalar for one run, the (S,) vector of means for a stack."""
        return run_mean(t, self.stack)

    def step(self, x: torch.Tensor, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """One training step on the real minibatch ``x`` (reals_per_step, d); returns (loss_d, loss_g)."""
        raise NotImplementedError

    def _logits(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """D on the real and the generated rows in one forward pass (row-wise MLP: the same values as two)."""
        n = real.shape[-2]
        out = self.D(torch.cat([real, fake], dim=-2))
        return out[..., :n, :], out[..., n:, :]

    def generator_callable(self) -> LabGenerator:
        """The current generator as a frozen callable ``z -> x`` (a copy)."""
        return LabGenerator(self.G, noise_dim=self.config.noise_dim, name=f"{self.label} generator")

    def encoder_callable(self) -> LabEncoder | None:
        """The current encoder / reconstructor as a callable ``x -> z`` (a copy), or None when there is none."""
        return None

    def unstack(self, s: int) -> LabMethod:
        """Run ``s`` of a stack as a method of one run, for its trained callables and parameter counts: a shallow
        copy whose networks (and other trained tensors) are run s's, copied; optimisers are not carried over."""
        if self.stack is None:
            raise ValueError("unstack needs a stack: a method built from a sequence of generators")
        one = copy.copy(self)
        for name, value in vars(self).items():
            setattr(one, name, unstack_value(value, s))
        one.stack = None
        return one

    def optimizers(self) -> list[torch.optim.Optimizer]:
        """The method's optimisers (the trainer sets their learning rates by the schedule)."""
        return [self.opt_d, self.opt_g]

    def networks(self) -> dict[str, torch.nn.Module]:
        """The trained networks by role (for parameter counts and checkpoints)."""
        return {"generator": self.G, "discriminator": self.D}


class VanillaGAN(LabMethod):
    r"""The GAN of Goodfellow et al. 2014 with the non-saturating generator loss (the "GAN" row of VEEGAN's
    Table 1).

    .. math::

        \max_D\ \mathbb E_x \log\sigma(D(x)) + \mathbb E_z \log(1 - \sigma(D(G(z)))), \qquad
        \min_G\ -\mathbb E_z \log \sigma(D(G(z))).

    One step: one Adam step of D on ``b`` real and ``b`` generated samples, then one Adam step of G on the same
    generated samples through the updated D.
    """

    key = "gan"
    label = "GAN"
    objective = "D: max E log s(D(x)) + E log(1 - s(D(G(z)))); G: min -E log s(D(G(z)))"

    def _build(self, generator):
        self.D = self._mlp(self.data_dim, 1, self.config, generator)
        self.opt_g = self._adam(self.G.parameters(), self.config.lr_g)
        self.opt_d = self._adam(self.D.parameters(), self.config.lr_d)

    def step(self, x, gen):
        fake = self.G(self._noise(x.shape[-2], gen))
        real_logit, fake_logit = self._logits(x, fake.detach())
        loss_d = self._mean(F.softplus(-real_logit)) + self._mean(F.softplus(fake_logit))
        self.opt_d.zero_grad()
        loss_d.sum().backward()
        self.opt_d.step()
        loss_g = self._mean(F.softplus(-self.D(fake)))
        self.opt_g.zero_grad()
        loss_g.sum().backward()
        self.opt_g.step()
        return loss_d.detach(), loss_g.detach()


class PacGAN(LabMethod):
    r"""PacGAN (Lin, Khetan, Fanti & Oh 2018): the GAN above with a discriminator on packs of ``m`` samples.

    .. math::

        \max_D\ \mathbb E \log\sigma(D(x_1, \dots, x_m)) + \mathbb E \log(1 - \sigma(D(G(z_1), \dots, G(z_m)))),
        \qquad \min_G\ -\mathbb E \log\sigma(D(G(z_1), \dots, G(z_m)))

    with :math:`x_i` i.i.d. real and :math:`z_i` i.i.d. noise; D reads the m samples concatenated
    (input width m d). A step uses ``b`` packs, i.e. ``m b`` real and ``m b`` generated samples.

    Deviation: PacGAN's own networks are a 4x400 BatchNorm generator and a maxout discriminator; here the lab's
    one MLP family, so that only the packing differs from the GAN row.
    """

    key = "pacgan"
    label = "PacGAN"
    objective = "GAN objective with D on packs of m concatenated samples"

    def __init__(self, *, pack: int, **kwargs) -> None:
        if isinstance(pack, bool) or not isinstance(pack, int) or pack < 1:
            raise ValueError(f"pack must be an integer >= 1, got {pack!r}")
        self.pack = pack
        super().__init__(**kwargs)
        self.reals_per_step = self.config.batch_size * pack
        self.label = f"PacGAN{pack}"

    def _build(self, generator):
        self.D = self._mlp(self.data_dim * self.pack, 1, self.config, generator)
        self.opt_g = self._adam(self.G.parameters(), self.config.lr_g)
        self.opt_d = self._adam(self.D.parameters(), self.config.lr_d)

    def step(self, x, gen):
        b, md = x.shape[-2] // self.pack, self.pack * self.data_dim
        real_packs = x.reshape(*x.shape[:-2], b, md)
        fake_packs = self.G(self._noise(x.shape[-2], gen)).reshape(*x.shape[:-2], b, md)
        real_logit, fake_logit = self._logits(real_packs, fake_packs.detach())
        loss_d = self._mean(F.softplus(-real_logit)) + self._mean(F.softplus(fake_logit))
        self.opt_d.zero_grad()
        loss_d.sum().backward()
        self.opt_d.step()
        loss_g = self._mean(F.softplus(-self.D(fake_packs)))
        self.opt_g.zero_grad()
        loss_g.sum().backward()
        self.opt_g.step()
        return loss_d.detach(), loss_g.detach()


class WGANGP(LabMethod):
    r"""WGAN-GP (Gulrajani et al. 2017), the modern baseline: a critic f with a gradient penalty.

    .. math::

        \min_f\ \mathbb E_z f(G(z)) - \mathbb E_x f(x) + \lambda\, \mathbb E_{\hat x}
        \big(\lVert \nabla_{\hat x} f(\hat x) \rVert_2 - 1\big)^2, \quad
        \hat x = \epsilon x + (1 - \epsilon) G(z),\ \epsilon \sim U[0, 1]; \qquad
        \min_G\ -\mathbb E_z f(G(z)).

    One step: ``n_critic`` critic updates, each on its own ``b`` real samples, then one generator update;
    ``lambda = gp_weight``.

    Deviation: the paper's optimiser is Adam(1e-4, betas (0.5, 0.9)); the lab trains every method with the same
    optimiser (:class:`~ganlimits.verify.lab.LabConfig`).
    """

    key = "wgan-gp"
    label = "WGAN-GP"
    objective = "f: min E f(G(z)) - E f(x) + lambda E(|grad f(x_hat)| - 1)^2; G: min -E f(G(z))"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.reals_per_step = self.config.batch_size * self.config.n_critic

    def _build(self, generator):
        self.D = self._mlp(self.data_dim, 1, self.config, generator)
        self.opt_g = self._adam(self.G.parameters(), self.config.lr_g)
        self.opt_d = self._adam(self.D.parameters(), self.config.lr_d)

    def step(self, x, gen):
        b = self.config.batch_size
        for k in range(self.config.n_critic):
            real = x[..., k * b:(k + 1) * b, :]
            with torch.no_grad():
                fake = self.G(self._noise(b, gen))
            eps = self._uniform(b, gen)
            x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
            f = self.D(torch.cat([real, fake, x_hat], dim=-2))  # one pass; rows do not interact
            grad = torch.autograd.grad(f[..., 2 * b:, :].sum(), x_hat, create_graph=True)[0]
            penalty = self._mean((grad.norm(dim=-1) - 1).pow(2))
            loss_d = self._mean(f[..., b:2 * b, :]) - self._mean(f[..., :b, :]) + self.config.gp_weight * penalty
            self.opt_d.zero_grad()
            loss_d.sum().backward()
            self.opt_d.step()
        loss_g = -self._mean(self.D(self.G(self._noise(b, gen))))
        self.opt_g.zero_grad()
        loss_g.sum().backward()
        self.opt_g.step()
        return loss_d.detach(), loss_g.detach()
