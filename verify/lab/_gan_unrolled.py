r"""Unrolled GAN (Metz, Poole, Pfau & Sohl-Dickstein 2017): the generator's loss is taken through K
differentiable Adam steps of the discriminator (``docs/papers/veegan.md``).

Same interface and conventions as :mod:`ganlimits.verify.lab._gan_steps`. Shape letters: ``b`` batch size,
``d`` data dimension, ``d_code`` noise dimension, ``K`` unrolling steps.
"""

from __future__ import annotations

import torch
from torch.func import functional_call
from torch.nn import functional as F

from ._gan_steps import LabMethod

__all__ = ["UnrolledGAN"]

_ADAM_EPS = 1e-8  # torch.optim.Adam's default eps, used by the outer D optimiser as well
_SQRT_FLOOR = 1e-30  # sqrt(v) is taken of max(v, 1e-30): its value moves by < 1e-15 (far below eps), and a
#                      coordinate whose gradient is exactly 0 (a dead ReLU unit) no longer gives 0 * inf = NaN


class UnrolledGAN(LabMethod):
    r"""Unrolled GAN (Metz et al. 2017, §2.2): the generator minimises the surrogate
    :math:`f_K(\theta_G, \theta_D) = f(\theta_G, \theta_D^K(\theta_G, \theta_D))`, the GAN value function
    against the discriminator after K Adam steps that are kept in the autograd graph, while the discriminator
    takes its ordinary step.

    .. math::

        f(\theta_G, \theta) = \mathbb E_x \log\sigma(D_\theta(x)) + \mathbb E_z\log(1 - \sigma(D_\theta(G(z)))),
        \qquad \theta^0 = \theta_D,\quad \theta^{k+1} = \theta^k - \eta\,
        \frac{\hat m_{k+1}}{\sqrt{\hat v_{k+1}} + \epsilon}
        \ \text{(Adam on } L_D = -f\text{)},

        \theta_G \leftarrow \theta_G - \eta_G \frac{d f_K(\theta_G, \theta_D)}{d \theta_G}, \qquad
        \theta_D \leftarrow \theta_D + \eta_D \frac{d f(\theta_G, \theta_D)}{d \theta_D}
        \quad\text{(simultaneously, from the same } \theta_D\text{)}.

    The gradient of the generator's loss flows through :math:`\theta^K(\theta_G)`: how D would react to G is part
    of G's objective; the generator minimises the value function itself (the saturating form of the paper's
    equations). The inner steps start from the D optimiser's Adam moments and step count (as the reference
    implementation's copy of the optimiser's update does), with its current learning rate, on the step's own
    minibatch and generated samples; the first inner step is the step D then takes. K = ``unroll_steps``.

    Deviation: the paper's mixture networks (tanh, 256-D noise, batch 512, Adam 1e-4 for D and 1e-3 for G) are
    replaced by the lab's one MLP family and optimiser. The square root inside the inner Adam is taken of
    max(v, 1e-30) (see ``_SQRT_FLOOR``).
    """

    key = "unrolled"
    label = "Unrolled GAN"
    objective = ("G: min E log(1 - s(D_{theta_K}(G(z)))), theta_K = K differentiable Adam steps of D from theta_D; "
                 "D: its GAN step from theta_D (simultaneous)")

    def _build(self, generator):
        self.D = self._mlp(self.data_dim, 1, self.config, generator)
        self.opt_g = self._adam(self.G.parameters(), self.config.lr_g)
        self.opt_d = self._adam(self.D.parameters(), self.config.lr_d)
        self._names = [name for name, _ in self.D.named_parameters()]

    def _d_loss(self, params: dict, x: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """L_D(theta, G) with D's parameters ``params`` (real and generated rows in one pass)."""
        n = x.shape[-2]
        logits = functional_call(self.D, params, (torch.cat([x, fake], dim=-2),))
        return self._mean(F.softplus(-logits[..., :n, :])) + self._mean(F.softplus(logits[..., n:, :]))

    def _unroll(self, x: torch.Tensor, fake: torch.Tensor) -> dict:
        """theta_K as a function of ``fake`` (graph kept): K differentiable Adam steps from the D optimiser's
        current parameters and moments."""
        lr = self.opt_d.param_groups[0]["lr"]  # the outer optimiser's current (scheduled) learning rate
        b1, b2 = self.config.betas
        params, m, v, t = {}, {}, {}, {}
        for name, p in zip(self._names, self.D.parameters(), strict=True):
            state = self.opt_d.state.get(p, {})
            params[name] = p.detach().clone().requires_grad_(True)  # a copy: D's own step may follow in place
            if state:
                m[name], v[name] = state["exp_avg"].clone(), state["exp_avg_sq"].clone()
                t[name] = float(state["step"])
            else:  # before D's first step: Adam's initial state
                m[name], v[name], t[name] = torch.zeros_like(p), torch.zeros_like(p), 0.0
        for _ in range(self.config.unroll_steps):
            grads = torch.autograd.grad(self._d_loss(params, x, fake).sum(), list(params.values()),
                                        create_graph=True)
            new = {}
            for (name, p), g in zip(params.items(), grads, strict=True):
                t[name] += 1.0
                m[name] = b1 * m[name] + (1 - b1) * g
                v[name] = b2 * v[name] + (1 - b2) * g * g
                m_hat = m[name] / (1 - b1 ** t[name])
                v_hat = v[name] / (1 - b2 ** t[name])
                new[name] = p - lr * m_hat / (v_hat.clamp_min(_SQRT_FLOOR).sqrt() + _ADAM_EPS)
            params = new
        return params

    def step(self, x, gen):
        fake = self.G(self._noise(x.shape[-2], gen))
        theta_k = self._unroll(x, fake)  # from the current theta_D, before D's own step
        loss_g = -self._mean(F.softplus(functional_call(self.D, theta_k, (fake,))))  # E log(1 - s(D_K(G(z))))
        self.opt_g.zero_grad()
        loss_g.sum().backward()
        real_logit, fake_logit = self._logits(x, fake.detach())
        loss_d = self._mean(F.softplus(-real_logit)) + self._mean(F.softplus(fake_logit))
        self.opt_d.zero_grad()
        loss_d.sum().backward()
        self.opt_d.step()
        self.opt_g.step()
        return loss_d.detach(), loss_g.detach()
