"""Trained attackers: projected gradient ascent on the encoder-decoder gap or the neural-net distance over a
discriminator family (Arora, Risteski & Zhang 2017, Theorem 1; Arora et al. 2017 §2.1;
``docs/papers/arz17.md``, ``docs/papers/agl17.md``).

Shape letters: ``n`` samples, ``K`` discriminators (members), ``d_in`` input width.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ganlimits.theory import check_positive

from ._families import MLPFamily
from ._inputs import as_points, pick_rng
from ._phi import Phi, as_phi

__all__ = ["train_attacker"]


def _objective(values_real: torch.Tensor, values_fake: torch.Tensor, phi: Phi, objective: str
               ) -> torch.Tensor:
    """Per-member objective (K,) from values (K, n_real), (K, n_fake) in [0, 1]."""
    if objective == "bigan":
        return phi(values_real).mean(dim=1) - phi(values_fake).mean(dim=1)
    half = phi(torch.tensor(0.5, dtype=values_real.dtype))
    return phi(values_real).mean(dim=1) + phi(1.0 - values_fake).mean(dim=1) - 2.0 * half


class _Adam:
    """Adam (Kingma & Ba 2015, default betas 0.9, 0.999, eps 1e-8) for gradient ASCENT, coordinate-wise, so
    the K stacked members are optimised independently."""

    def __init__(self, params: list[torch.Tensor], *, lr: float, betas=(0.9, 0.999), eps: float = 1e-8
                 ) -> None:
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def ascend(self, grads: Sequence[torch.Tensor]) -> None:
        b1, b2 = self.betas
        self.t += 1
        c1, c2 = 1 - b1**self.t, 1 - b2**self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m.mul_(b1).add_(g, alpha=1 - b1)
            v.mul_(b2).addcmul_(g, g, value=1 - b2)
            p.addcdiv_(m, (v / c2).sqrt_().add_(self.eps), value=self.lr / c1)


def _as_input(sample, name: str) -> torch.Tensor:
    """The joint input (x, code) or x alone as a float64 (n, d_in) tensor (arrays or tensors; complex values, the
    meta device and non-finite values refused by name)."""
    if isinstance(sample, (tuple, list)):
        x, code = sample
        x, code = as_points(x, f"{name}'s x"), as_points(code, f"{name}'s code", allow_1d=True)
        if x.shape[0] != code.shape[0]:
            raise ValueError(f"{name}: x and code must have the same number of rows, got {x.shape[0]} and "
                             f"{code.shape[0]}")
        return torch.cat([x, code], dim=1)
    return as_points(sample, name)


@torch.enable_grad()  # the ascent needs gradients even when the caller runs under torch.no_grad()
def train_attacker(
    family_or_spec: MLPFamily | dict,
    *,
    real,
    fake,
    phi: Phi | str = "identity",
    steps: int = 200,
    lr: float = 0.01,
    rng=None,
    objective: str = "bigan",
    sign: str | None = None,
    batch_size: int | None = None,
    generator: torch.Generator | None = None,
) -> MLPFamily:
    r"""Train all K members of a family at once by projected gradient ascent on the gap (the attack on
    Arora, Risteski & Zhang 2017, Theorem 1; or on the neural-net distance of Arora et al. 2017, §2.1).

    .. math::

        \text{bigan: } g_k = \tfrac1{n_r}\sum_i \phi(D_k(u^{r}_i)) - \tfrac1{n_f}\sum_j \phi(D_k(u^{f}_j)),
        \qquad
        \text{nnd: } g_k = \tfrac1{n_r}\sum_i \phi(D_k(u^{r}_i)) + \tfrac1{n_f}\sum_j \phi(1 - D_k(u^{f}_j))
        - 2\phi(\tfrac12).

    Each step is an Adam ascent step on ``sum_k sign_k g_k`` (members are independent: the objective is a
    sum over members and Adam acts coordinate-wise) followed by :meth:`MLPFamily.project_`, so every member
    is in the class after EVERY step. ``sign="both"`` (default for ``"bigan"``): the first ceil(K/2) members
    ascend +g, the others ascend -g, so both signs of the gap are attacked (score with the absolute value);
    ``"+"`` (default for ``"nnd"``, whose class is closed under D -> 1 - D) or ``"-"``: all members one sign.

    ``real`` (n_r, d_in), ``fake`` (n_f, d_in): the TRAINING samples (joint input (x, code) concatenated, a
    tuple (x, code), or x alone). The trained members must be scored on fresh samples
    (:func:`~ganlimits.verify.family_gap`); the training sample's own gap is biased upwards.
    ``family_or_spec``: a family (trained in a copy) or a dict of :class:`MLPFamily` keyword arguments (its
    members drawn with ``rng``). ``batch_size``: None for full-batch steps, else rows drawn with ``rng`` each
    step. ``rng``: an integer seed or a ``torch.Generator`` (``generator=`` is its former name). Safe under
    ``torch.no_grad()``. Returns the trained family.
    """
    generator = pick_rng(rng, generator, "generator")
    phi = as_phi(phi)
    if objective not in ("bigan", "nnd"):
        raise ValueError(f"objective must be 'bigan' or 'nnd', got {objective!r}")
    sign = sign if sign is not None else ("both" if objective == "bigan" else "+")
    if sign not in ("both", "+", "-"):
        raise ValueError(f"sign must be 'both', '+' or '-', got {sign!r}")
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an integer >= 0, got {steps!r}")
    lr = check_positive("lr", lr)
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be None or an integer >= 1, got {batch_size!r}")
    if isinstance(family_or_spec, MLPFamily):
        family = family_or_spec.clone()
    elif isinstance(family_or_spec, dict):
        family = MLPFamily(**{**family_or_spec, "generator": generator})
    else:
        raise ValueError(f"family_or_spec must be an MLPFamily or a dict of its arguments, "
                         f"got {family_or_spec!r}")
    real = family.clip_inputs(family.joint(_as_input(real, "real")))
    fake = family.clip_inputs(family.joint(_as_input(fake, "fake")))

    signs = torch.ones(family.K, dtype=family.dtype)
    if sign == "-":
        signs = -signs
    elif sign == "both":
        signs[(family.K + 1) // 2:] = -1.0
    params = [*family.weights, *family.biases]
    for t in params:
        t.requires_grad_(True)
    adam = _Adam(params, lr=lr)
    for _ in range(steps):
        r, f = real, fake
        if batch_size is not None:
            r = real[torch.randint(real.shape[0], (min(batch_size, real.shape[0]),), generator=generator)]
            f = fake[torch.randint(fake.shape[0], (min(batch_size, fake.shape[0]),), generator=generator)]
        g = _objective(family.forward(r, clipped=True), family.forward(f, clipped=True), phi, objective)
        grads = torch.autograd.grad((signs * g).sum(), params)
        adam.ascend(grads)
        family.project_()
    for t in params:
        t.requires_grad_(False)
    family.weights = [w.detach() for w in family.weights]
    family.biases = [b.detach() for b in family.biases]
    return family
