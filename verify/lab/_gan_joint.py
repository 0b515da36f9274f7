r"""The lab's methods with a second map between data and noise, and a discriminator on joint (x, z) pairs:
ALI/BiGAN (an encoder x -> z) and VEEGAN (a reconstructor x -> z) (``docs/papers/veegan.md``).

Same interface and conventions as :mod:`ganlimits.verify.lab._gan_steps` (logits, softplus form of the log-losses).
Shape letters: ``b`` batch size, ``d`` data dimension, ``d_code`` noise dimension.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from ._gan_steps import LabMethod
from ._models import LabEncoder

__all__ = ["BiGAN", "VEEGAN"]


class BiGAN(LabMethod):
    r"""ALI / BiGAN (Dumoulin et al. 2017; Donahue et al. 2017): an encoder E: x -> z and a discriminator on the
    joint pair, real pairs (x, E(x)) against generated pairs (G(z), z).

    .. math::

        \max_D\ \mathbb E_x \log\sigma(D(x, E(x))) + \mathbb E_z \log(1 - \sigma(D(G(z), z))), \qquad
        \min_{G, E}\ -\mathbb E_x \log(1 - \sigma(D(x, E(x)))) - \mathbb E_z \log\sigma(D(G(z), z))

    (the non-saturating form with the labels swapped, as in ALI's code). One step: one Adam step of D, then one
    joint Adam step of G and E (learning rate ``lr_g``), on ``b`` real samples and ``b`` noise draws.

    Deviation: the encoder is deterministic (BiGAN); ALI's encoder adds Gaussian noise to its output. ALI's
    published networks (BatchNorm, maxout) are replaced by the lab's one MLP family.
    """

    key = "ali"
    label = "ALI"
    objective = ("D: max E log s(D(x, E(x))) + E log(1 - s(D(G(z), z))); "
                 "G, E: min -E log(1 - s(D(x, E(x)))) - E log s(D(G(z), z))")

    def _build(self, generator):
        cfg = self.config
        self.E = self._mlp(self.data_dim, cfg.noise_dim, cfg, generator)
        self.D = self._mlp(self.data_dim + cfg.noise_dim, 1, cfg, generator)
        self.opt_g = self._adam([*self.G.parameters(), *self.E.parameters()], cfg.lr_g)
        self.opt_d = self._adam(self.D.parameters(), cfg.lr_d)

    def step(self, x, gen):
        z = self._noise(x.shape[-2], gen)
        real_pair = torch.cat([x, self.E(x)], dim=-1)
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
        return LabEncoder(self.E, data_dim=self.data_dim, name=f"{self.label} encoder")

    def networks(self):
        return {"generator": self.G, "encoder": self.E, "discriminator": self.D}


class VEEGAN(LabMethod):
    r"""VEEGAN (Srivastava, Valkov, Russell, Gutmann & Sutton 2017, Algorithm 1): a reconstructor
    F: x -> z trained to invert G, and a discriminator D(z, x) estimating the log density ratio
    :math:`\log \frac{q_\gamma(x \mid z) p_0(z)}{p_\theta(z \mid x) p(x)}`.

    .. math::

        O_{LR}(\omega) = -\mathbb E_z \log\sigma(D_\omega(z, G_\gamma(z)))
            - \mathbb E_x \log(1 - \sigma(D_\omega(F_\theta(x), x))),

        \hat O(\gamma, \theta) = \frac1N \sum_i D_\omega(z^i, G_\gamma(z^i))
            + \frac{\lambda}{N} \sum_i \lVert z^i - F_\theta(G_\gamma(z^i)) \rVert_2^2 .

    One step (Algorithm 1): one Adam step of D on :math:`O_{LR}`, then one joint Adam step of G and F on
    :math:`\hat O` (``lr_g``), with ``b`` noise draws :math:`z^i \sim N(0, I)` and ``b`` real samples. The
    D term of :math:`\hat O` does not depend on :math:`\theta`, so F is trained by the autoencoder loss on z
    alone, as in the algorithm's :math:`g_\theta = \nabla_\theta \frac1N \sum_i d(z^i, x_g^i)`.
    :math:`\lambda` = ``recon_weight`` (1 in the paper).

    Deviation: the generator and the reconstructor are deterministic maps (VEEGAN's notebook feeds G one extra
    noise coordinate, and :math:`p_\theta(z \mid x)` may be a distribution); the published 254-dimensional noise
    and networks are replaced by the lab's one MLP family, so the autoencoder term asks G to be invertible from
    ``noise_dim`` = 16 dimensions.
    """

    key = "veegan"
    label = "VEEGAN"
    objective = ("D: min -E log s(D(z, G(z))) - E log(1 - s(D(F(x), x))); "
                 "G, F: min E D(z, G(z)) + lambda E |z - F(G(z))|^2")

    def _build(self, generator):
        cfg = self.config
        self.F = self._mlp(self.data_dim, cfg.noise_dim, cfg, generator)
        self.D = self._mlp(cfg.noise_dim + self.data_dim, 1, cfg, generator)
        self.opt_g = self._adam([*self.G.parameters(), *self.F.parameters()], cfg.lr_g)
        self.opt_d = self._adam(self.D.parameters(), cfg.lr_d)

    def step(self, x, gen):
        z = self._noise(x.shape[-2], gen)
        x_g = self.G(z)
        gen_pair = torch.cat([z, x_g], dim=-1)
        with torch.no_grad():
            rec_pair = torch.cat([self.F(x), x], dim=-1)
        gen_logit, rec_logit = self._logits(gen_pair.detach(), rec_pair)
        loss_d = self._mean(F.softplus(-gen_logit)) + self._mean(F.softplus(rec_logit))
        self.opt_d.zero_grad()
        loss_d.sum().backward()
        self.opt_d.step()
        recon = self._mean((z - self.F(x_g)).pow(2).sum(dim=-1))
        loss_g = self._mean(self.D(gen_pair)) + self.config.recon_weight * recon
        self.opt_g.zero_grad()
        loss_g.sum().backward()
        self.opt_g.step()
        return loss_d.detach(), loss_g.detach()

    def encoder_callable(self) -> LabEncoder:
        return LabEncoder(self.F, data_dim=self.data_dim, name=f"{self.label} reconstructor")

    def networks(self):
        return {"generator": self.G, "reconstructor": self.F, "discriminator": self.D}
