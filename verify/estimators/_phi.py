"""Measuring functions phi of the encoder-decoder objective (Arora, Risteski & Zhang 2017, arXiv 1711.02651;
``docs/papers/arz17.md``, "The objective and the measuring function"): the identity (Wasserstein form) and the
log clipped to [c, 1] (BiGAN form).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["Phi", "phi_identity", "phi_log", "as_phi", "DEFAULT_LOG_CLIP"]

DEFAULT_LOG_CLIP = 0.1
"""Clip level ``c`` used when the string ``"log"`` is given for phi: Delta = log 10, L_phi = 10."""


@dataclass(frozen=True)
class Phi:
    r"""A measuring function phi applied to discriminator values D in [0, 1] (``docs/papers/arz17.md``).

    .. math::

        \phi_{\mathrm{id}}(D) = D, \qquad \phi_{\log, c}(D) = \log \max(D, c).

    Attributes: ``phi_range`` = Delta with phi([0, 1]) inside [-Delta, Delta] (the theorem's Delta: identity 1,
    log ``log(1/c)``); ``lipschitz`` = L_phi (identity 1, log ``1/c``); ``value_range`` = sup - inf of phi on
    [0, 1] (identity 1, log ``log(1/c)``), the range used by every Hoeffding interval of this package.
    """

    name: str
    clip: float | None = None

    def __post_init__(self) -> None:
        if self.name not in ("identity", "log"):
            raise ValueError(f"phi must be 'identity' or 'log', got {self.name!r}")
        if self.name == "log":
            c = self.clip
            if c is None or not (isinstance(c, (int, float)) and math.isfinite(c) and 0 < c < 1):
                raise ValueError(f"clip must lie in the open interval (0, 1), got {c!r}")

    @property
    def phi_range(self) -> float:
        return 1.0 if self.name == "identity" else math.log(1.0 / self.clip)

    @property
    def lipschitz(self) -> float:
        return 1.0 if self.name == "identity" else 1.0 / self.clip

    @property
    def value_range(self) -> float:
        return 1.0 if self.name == "identity" else math.log(1.0 / self.clip)

    def __call__(self, values: torch.Tensor) -> torch.Tensor:
        """phi applied elementwise to discriminator values (any shape, values in [0, 1])."""
        if self.name == "identity":
            return values
        return torch.log(torch.clamp(values, min=self.clip))

    def __str__(self) -> str:
        return "identity" if self.name == "identity" else f"log(clip={self.clip:g})"


def phi_identity() -> Phi:
    """phi(D) = D: the Wasserstein form. Delta = 1, L_phi = 1, range 1 on [0, 1]."""
    return Phi("identity")


def phi_log(*, clip: float = DEFAULT_LOG_CLIP) -> Phi:
    """phi(D) = log(max(D, c)): the BiGAN form clipped to [c, 1] ([spec], ``docs/papers/arz17.md``).

    Delta = log(1/c), L_phi = 1/c, range log(1/c) on [0, 1].

    Deviation: the paper's log is unbounded near 0; the clip at c is this project's explicit choice that makes
    Delta and L_phi finite.

    >>> phi = phi_log(clip=0.1)
    >>> round(phi.phi_range, 4), phi.lipschitz, phi(torch.tensor([0.0, 1.0])).tolist()
    (2.3026, 10.0, [-2.3026, 0.0])
    """
    return Phi("log", float(clip))


def as_phi(phi: Phi | str, *, name: str = "phi") -> Phi:
    """Accept a :class:`Phi` or the strings ``"identity"`` / ``"log"`` (clip :data:`DEFAULT_LOG_CLIP`)."""
    if isinstance(phi, Phi):
        return phi
    if phi == "identity":
        return phi_identity()
    if phi == "log":
        return phi_log()
    raise ValueError(f"{name} must be 'identity', 'log' or a Phi object, got {phi!r}")
