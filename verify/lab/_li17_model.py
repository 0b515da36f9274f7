"""GAN dynamics on a mixture of two unit Gaussians (Li, Madry, Peebles & Schmidt 2017, via Madry's lecture 9;
``docs/papers/li17.md``): the model in closed form and float64 — densities, the loss, its gradients, and the input
checks shared by the roots, the dynamics and the outcomes.

Shape letters: ``B`` runs (initialisations, vectorised), ``T`` recorded steps, ``n`` evaluation points. A mean
pair, an interval-start pair and an interval-end pair each have a trailing axis of length 2:
``mu`` (..., 2) = (mu_1, mu_2), ``l`` (..., 2) = (l_1, l_2), ``r`` (..., 2) = (r_1, r_2), with
``l_1 <= r_1 <= l_2 <= r_2``. Sign convention: the generator descends L, the discriminator ascends it.
"""

# ruff: noqa: E741  (l and r are the lecture's names for the interval ends)
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch

from ganlimits.theory import check_positive

__all__ = ["Li17Gradients", "mixture_density", "li17_loss", "li17_gradients"]

_SQRT_2PI = float(np.sqrt(2 * np.pi))
_F = TypeVar("_F", bound=Callable)

def _one_thread(fn: _F) -> _F:
    """Run ``fn`` with one torch thread: its tensors are tiny (B x 2 x 2), where a thread pool only adds
    synchronisation (measured 17x slower per op with 2 threads on a loaded 2-core machine). Element-wise
    results do not depend on the thread count; the previous setting is restored."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn(*args, **kwargs)
        finally:
            torch.set_num_threads(before)

    return wrapper  # type: ignore[return-value]


# ---- input checks -----------------------------------------------------------------------------------------


def _tensor(name: str, value, *, allow_inf: bool = False) -> torch.Tensor:
    t = torch.as_tensor(value, dtype=torch.float64)
    if t.ndim == 0 or t.shape[-1] != 2:
        raise ValueError(f"{name} must have a trailing axis of length 2, got shape {tuple(t.shape)}")
    bad = torch.isnan(t) if allow_inf else ~torch.isfinite(t)
    if bool(bad.any()):
        allowed = "real numbers or +-inf" if allow_inf else "finite real numbers"
        raise ValueError(f"{name} must contain {allowed}; found NaN or infinity")
    return t


def _check_intervals(l: torch.Tensor, r: torch.Tensor) -> None:
    try:
        l, r = torch.broadcast_tensors(l, r)
    except RuntimeError:
        raise ValueError(f"l and r must have broadcastable shapes, got {tuple(l.shape)} and {tuple(r.shape)}") from None
    ends = torch.stack([l[..., 0], r[..., 0], l[..., 1], r[..., 1]], dim=-1)
    bad = (ends[..., 1:] < ends[..., :-1]).any(dim=-1)
    if bool(bad.any()):
        idx = tuple(int(i) for i in torch.nonzero(bad)[0])
        raise ValueError(
            f"l and r must satisfy l_1 <= r_1 <= l_2 <= r_2; violated at index {idx}: "
            f"(l_1, r_1, l_2, r_2) = {tuple(float(v) for v in ends[idx])}"
        )


def _check_step(name: str, value: float) -> float:
    try:
        return check_positive(name, value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite step size > 0, got {value!r}") from None


# ---- the model in closed form -----------------------------------------------------------------------------


def _phi(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(-0.5 * x * x) / _SQRT_2PI


def mixture_density(x, *, mu) -> torch.Tensor:
    """Density of G_mu = 1/2 N(mu_1, 1) + 1/2 N(mu_2, 1) (Li et al. 2017, section 3).

    .. math:: p_\\mu(x) = \\tfrac12 [\\varphi(x - \\mu_1) + \\varphi(x - \\mu_2)]

    ``x`` (..., n) and ``mu`` (..., 2) with broadcastable leading axes; returns (..., n), float64.
    """
    mu = _tensor("mu", mu)
    x = torch.as_tensor(x, dtype=torch.float64)
    if bool(torch.isnan(x).any()):
        raise ValueError("x must not contain NaN")
    return 0.5 * (_phi(x - mu[..., :1]) + _phi(x - mu[..., 1:]))


def _mass(l: torch.Tensor, r: torch.Tensor, means: torch.Tensor) -> torch.Tensor:
    """sum over both intervals and both components of 1/2 [Phi(r_j - m_i) - Phi(l_j - m_i)]; (..., )."""
    d = torch.special.ndtr(r[..., None, :] - means[..., :, None]) - torch.special.ndtr(
        l[..., None, :] - means[..., :, None]
    )
    return 0.5 * d.sum(dim=(-1, -2))


def li17_loss(*, mu, mu_star, l, r) -> torch.Tensor:
    """The loss L(mu, l, r) of Li et al. (2017) as written in lecture 9 (``docs/papers/li17.md``).

    .. math::
        L = E_{x \\sim G_{\\mu^*}} D(x) + E_{x \\sim G_\\mu} (1 - D(x)),
        \\qquad D = 1[l_1, r_1] + 1[l_2, r_2]

    ``mu``, ``mu_star``, ``l``, ``r`` (..., 2), broadcastable; interval ends may be +-inf. Differentiable
    (autograd flows through every argument). Returns (...), float64.
    """
    mu, mu_star = _tensor("mu", mu), _tensor("mu_star", mu_star)
    l, r = _tensor("l", l, allow_inf=True), _tensor("r", r, allow_inf=True)
    _check_intervals(l, r)
    return 1.0 + _mass(l, r, mu_star) - _mass(l, r, mu)


@dataclass(frozen=True)
class Li17Gradients:
    """Partial derivatives of L: ``mu``, ``l``, ``r`` each (..., 2)."""

    mu: torch.Tensor
    l: torch.Tensor
    r: torch.Tensor


def _gradients(mu, mu_star, l, r) -> Li17Gradients:
    # d L / d mu_i = 1/2 sum_j [phi(r_j - mu_i) - phi(l_j - mu_i)]
    g_mu = 0.5 * (_phi(r[..., None, :] - mu[..., :, None]) - _phi(l[..., None, :] - mu[..., :, None])).sum(-1)

    def diff(x: torch.Tensor) -> torch.Tensor:  # p*(x) - p_mu(x) at each end
        return 0.5 * (
            _phi(x[..., :, None] - mu_star[..., None, :]) - _phi(x[..., :, None] - mu[..., None, :])
        ).sum(-1)

    return Li17Gradients(mu=g_mu, l=-diff(l), r=diff(r))


def li17_gradients(*, mu, mu_star, l, r) -> Li17Gradients:
    """Closed-form gradient of :func:`li17_loss` (``docs/papers/li17.md``, checked against autograd, finite
    differences and sympy in the tests).

    .. math::
        \\partial_{\\mu_i} L = \\tfrac12 \\sum_j [\\varphi(r_j - \\mu_i) - \\varphi(l_j - \\mu_i)],\\quad
        \\partial_{r_j} L = p^*(r_j) - p_\\mu(r_j),\\quad \\partial_{l_j} L = -(p^*(l_j) - p_\\mu(l_j))

    Arguments as in :func:`li17_loss`; every field of the result has the broadcast shape (..., 2).
    """
    mu, mu_star = _tensor("mu", mu), _tensor("mu_star", mu_star)
    l, r = _tensor("l", l, allow_inf=True), _tensor("r", r, allow_inf=True)
    _check_intervals(l, r)
    shape = torch.broadcast_shapes(mu.shape, mu_star.shape, l.shape, r.shape)
    return _gradients(*(t.expand(shape) for t in (mu, mu_star, l, r)))


