r"""The lab's methods with a second map between data and noise, and a discriminator on joint (x, z) pairs:
ALI (a stochastic encoder x -> z), BiGAN (a deterministic one) and VEEGAN (a stochastic reconstructor x -> z)
(``docs/papers/veegan.md``).

Same interface and conventions as :mod:`ganlimits.verify.lab._gan_steps` (logits, softplus form of the log-losses).
Shape letters: ``b`` batch size, ``d`` data dimension, ``d_code`` noise dimension.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn import functional as F

from ._gan_steps import LabMethod
from ._models import LabEncoder

__all__ = ["BiGAN", "ALI", "VEEGAN"]


def _mean_head(net: nn.Sequential, d_code: int) -> nn.Sequential:
    """A copy of ``net`` that outputs only its first ``d_code`` coordinates (the mean of a Gaussian encoder whose
    last layer outputs the mean and the scale parameters)."""
    head = copy.deepcopy(net)
    last = head[-1]
    mean = nn.Linear(last.in_features, d_code).to(last.weight.device)
    with torch.no_grad():
        mean.weight.copy_(last.weight[:d_code])
        mean.bias.copy_(last.bias[:d_code])
    head[-1] = mean
    return head


class BiGAN(LabMethod):
    r"""BiGAN (Donahue, Krähenbühl & Darrell 2017): a deterministic encoder E: x -> z and a discriminator on the
    joint pair, real pairs (x, E(x)) against generated pairs (G(z), z).

    .. math::

        \max_D\ \mathbb E_x \log\sigma(D(x, E(x))) + \mathbb E_z \log(1 - \sigma(D(G(z), z))), \qquad
        \min_{G, E}\ -\mathbb E_x \log(1 - \sigma(D(x, E(x)))) - \mathbb E_z \log\sigma(D(G(z), z))

    (the non-saturating form with the labels swapped, as in ALI's code). One step: one Adam step of D, then one
    joint Adam step of G and E (learning rate ``lr_g``), on ``b`` real samples and ``b`` noise draws.

    Deviation: BiGAN's and ALI's published networks (BatchNorm, maxout) are replaced by the lab's one MLP family.
    """

    key = "bigan"
    label = "BiGAN"
    objective = ("D: max E log s(D(x, E(x))) + E log(1 - s(D(G(z), z))); "
                 "G, E: min -E log(1 - s(D(x, E(x)))) - E log s(D(G(z), z))")
    stochastic_encoder = False

    def _build(self, generator):
        cfg = self.config
        out = 2 * cfg.noise_dim if self.stochastic_encoder else cfg.noise_dim
        self.E = self._mlp(self.data_dim, out, cfg, generator)
        self.D = self._mlp(self.data_dim + cfg.noise_dim, 1, cfg, generator)
        self.opt_g = self._adam([*self.G.parameters(), *self.E.parameters()], cfg.lr_g)
        self.opt_d = self._adam(self.D.parameters(), cfg.lr_d)

    def _encode(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """The code of the real rows ``x``: E(x) (deterministic encoder)."""
        return self.E(x)

    def step(self, x, gen):
        z = self._noise(x.shape[-2], gen)
        real_pair = torch.cat([x, self._encode(x, gen)], dim=-1)
        fake_pair = torch.cat([self.G(z), z], dim=-1)
        real_logit, fake_logit = self._logits(real_pair.detach(), fake_pair.detach())
        loss_d = self._mean(F.softplus(-real_logit)) + self._mean(F.softplus(fake_logit))
        self.opt_d.zero_grad()
        loss_d.sum().backward()
        self.opt_d.step()
        real_logit, fake_logit = self._logits(real_pair, fake_pair)
        loss_g = self._mean(F.softplus(real_logit)) + self._mean(F.softplus(-fake_logit))
        self.opt_g.zero_grad()
        loss_g.sum().backward()
        self.opt_g.step()
        return loss_d.detach(), loss_g.detach()

    def encoder_callable(self) -> LabEncoder:
        net = _mean_head(self.E, self.config.noise_dim) if self.stochastic_encoder else self.E
        return LabEncoder(net, data_dim=self.data_dim, name=f"{self.label} encoder")

    def networks(self):
        return {"generator": self.G, "encoder": self.E, "discriminator": self.D}


class ALI(BiGAN):
    r"""ALI (Dumoulin et al. 2017): BiGAN's game with ALI's stochastic encoder, the reparametrised Gaussian
    :math:`q(z \mid x) = N(\mu(x), \operatorname{diag} s(x)^2)`,

    .. math::

        \hat z = \mu(x) + s(x) \odot \epsilon, \quad \epsilon \sim N(0, I_{d_{code}}), \qquad
        \max_D\ \mathbb E_x \log\sigma(D(x, \hat z)) + \mathbb E_z \log(1 - \sigma(D(G(z), z))),

    with G and the encoder trained through :math:`\hat z` (the generator's loss as in :class:`BiGAN`). The
    encoder network outputs ``2 d_code`` numbers: the mean :math:`\mu(x)` and
    :math:`s(x) = \operatorname{softplus}(\cdot)` of the other half; :math:`\epsilon` is drawn from the step's
    noise stream. The encoder handed back (:meth:`encoder_callable`) is the mean map :math:`\mu`.

    Deviation: ALI's published networks (BatchNorm, maxout; an encoder that reads (x, noise)) are replaced by the
    lab's one MLP family; the scale goes through a softplus (the paper states the reparametrisation, not the
    link).
    """

    key = "ali"
    label = "ALI"
    objective = ("z_hat = mu(x) + s(x) * eps; D: max E log s(D(x, z_hat)) + E log(1 - s(D(G(z), z))); "
                 "G, E: min -E log(1 - s(D(x, z_hat))) - E log s(D(G(z), z))")
    stochastic_encoder = True

    def _encode(self, x, gen):
        d_code = self.config.noise_dim
        out = self.E(x)
        eps = self._noise(x.shape[-2], gen)
        return out[..., :d_code] + F.softplus(out[..., d_code:]) * eps


class VEEGAN(LabMethod):
    r"""VEEGAN (Srivastava, Valkov, Russell, Gutmann & Sutton 2017, Algorithm 1): a stochastic reconstructor
    :math:`p_\theta(z \mid x) = N(F_\theta(x), \sigma^2 I)` trained to invert G, and a discriminator
    D(z, x) estimating the log density ratio :math:`\log \frac{q_\gamma(x \mid z) p_0(z)}{p_\theta(z \mid x)
    p(x)}`.

    One step is Algorithm 1 with N = ``b``: :math:`z^i \sim p_0 = N(0, I)`, :math:`x_g^i = G_\gamma(z^i)`,
    :math:`x^i \sim p(x)` and :math:`z_g^i \sim p_\theta(z_g \mid x^i)`, i.e.
    :math:`z_g^i = F_\theta(x^i) + \sigma \epsilon^i`; then

    .. math::

        O_{LR}(\omega) = -\frac1N \sum_i \log\sigma(D_\omega(z^i, x_g^i))
            + \log(1 - \sigma(D_\omega(z_g^i, x^i))),

        \hat O(\gamma, \theta) = \frac1N \sum_i D_\omega(z^i, x_g^i) + \frac{\lambda}{N} \sum_i d(z^i, x_g^i),
        \qquad d(z, x_g) = -\log p_\theta(z \mid x_g) + c = \frac{\lVert z - F_\theta(x_g)
        \rVert_2^2}{2 \sigma^2},

    one Adam step of D on :math:`O_{LR}` (line 7), then one joint Adam step of G and F on :math:`\hat O`
    (lines 9 and 11, learning rate ``lr_g``). The D term of :math:`\hat O` (the estimate of the KL term) does not
    depend on :math:`\theta`, so F is trained by the autoencoder term alone, as in
    :math:`g_\theta = \nabla_\theta \frac1N \sum_i d(z^i, x_g^i)`. :math:`\lambda` = ``recon_weight`` (1 in
    the paper), :math:`\sigma` = ``recon_std`` (1, VEEGAN's notebook; its autoencoder term is the negative
    log-likelihood of this Gaussian). The reconstructor handed back (:meth:`encoder_callable`) is the mean map F.

    Why the reconstructor must be stochastic here: with a deterministic F and ``d_code`` > d, real pairs
    (F(x), x) lie on a d-dimensional set and generated pairs (z, G(z)) fill a ``d_code``-dimensional one, so D
    separates them perfectly and G follows D's unbounded logit out of the data (measured: most grid samples
    outside the data's box after 1,500 steps).

    Deviation: the generator is deterministic (VEEGAN's notebook feeds G one extra noise coordinate, so that
    :math:`q_\gamma(x \mid z)` is a distribution); the published 254-dimensional noise and networks are replaced
    by the lab's one MLP family (``noise_dim`` = 16).
    """

    key = "veegan"
    label = "VEEGAN"
    objective = ("z_g = F(x) + sigma * eps; D: min -E log s(D(z, G(z))) - E log(1 - s(D(z_g, x))); "
                 "G, F: min E D(z, G(z)) + lambda E |z - F(G(z))|^2 / (2 sigma^2)")

    def _build(self, generator):
        cfg = self.config
        self.F = self._mlp(self.data_dim, cfg.noise_dim, cfg, generator)
        self.D = self._mlp(cfg.noise_dim + self.data_dim, 1, cfg, generator)
        self.opt_g = self._adam([*self.G.parameters(), *self.F.parameters()], cfg.lr_g)
        self.opt_d = self._adam(self.D.parameters(), cfg.lr_d)

    def step(self, x, gen):
        sigma = self.config.recon_std
        z = self._noise(x.shape[-2], gen)
        x_g = self.G(z)
        gen_pair = torch.cat([z, x_g], dim=-1)
        with torch.no_grad():
            z_g = self.F(x) + sigma * self._noise(x.shape[-2], gen)  # z_g ~ p_theta(z | x)
            rec_pair = torch.cat([z_g, x], dim=-1)
        gen_logit, rec_logit = self._logits(gen_pair.detach(), rec_pair)
        loss_d = self._mean(F.softplus(-gen_logit)) + self._mean(F.softplus(rec_logit))
        self.opt_d.zero_grad()
        loss_d.sum().backward()
        self.opt_d.step()
        recon = self._mean((z - self.F(x_g)).pow(2).sum(dim=-1)) / (2 * sigma * sigma)
        loss_g = self._mean(self.D(gen_pair)) + self.config.recon_weight * recon
        self.opt_g.zero_grad()
        loss_g.sum().backward()
        self.opt_g.step()
        return loss_d.detach(), loss_g.detach()

    def encoder_callable(self) -> LabEncoder:
        return LabEncoder(self.F, data_dim=self.data_dim, name=f"{self.label} reconstructor")

    def networks(self):
        return {"generator": self.G, "reconstructor": self.F, "discriminator": self.D}
