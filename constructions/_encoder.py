"""The noise-extracting encoder of Theorem 1 (Arora, Risteski & Zhang, arXiv 1711.02651; ``docs/papers/arz17.md``,
"The witnesses").

Shape letters: ``n`` samples, ``d`` image dimension, ``d_code`` code dimension (d').
"""

from __future__ import annotations

import torch
from torch import nn

from ._noise import NoiseModel

__all__ = ["NoiseExtractingEncoder"]


class NoiseExtractingEncoder(nn.Module):
    """The encoder of Theorem 1: E(x)_j = x at noise position j, one edge of weight 1 per output.

    .. math::
        E(x)_j = 1 \\cdot x_{\\mathrm{pos}(j)}, \\qquad E(\\tilde x \\odot z) = z.

    A linear module with exactly d' non-zero weights (``num_nonzero_weights() == d'``): the code it returns
    is pure noise, independent of the image content. ``forward(x)``: ``(n, d)`` -> ``(n, d_code)`` in the
    dtype of ``x`` (multiplication by 1.0 is exact, so ``E(G(z)) == z`` bit for bit for a float64 G).

    >>> noise = NoiseModel(dim=8, code_dim=2)
    >>> E = NoiseExtractingEncoder(noise=noise)
    >>> z = torch.tensor([[1.5, -2.0]], dtype=torch.float64)
    >>> E(noise.noised(torch.ones(1, 8), z)).tolist(), E.num_nonzero_weights()
    ([[1.5, -2.0]], 2)
    """

    def __init__(self, *, noise: NoiseModel) -> None:
        super().__init__()
        if not isinstance(noise, NoiseModel):
            raise ValueError(f"noise must be a NoiseModel, got {type(noise).__name__}")
        self.noise = noise
        self.register_buffer("weight", torch.ones(noise.code_dim, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.as_tensor(x)
        if x.ndim != 2 or x.shape[1] != self.noise.dim:
            raise ValueError(f"x must have shape (n, dim={self.noise.dim}), got {tuple(x.shape)}")
        return x[:, self.noise.positions] * self.weight.to(x.dtype)

    def target(self, x: torch.Tensor) -> torch.Tensor:
        """Reference: ``NoiseModel.extract(x)``."""
        return self.noise.extract(x)

    def dense_weight(self) -> torch.Tensor:
        """The weight as a dense ``(d_code, d)`` matrix (``E(x) = x @ W.T``), float64."""
        W = torch.zeros(self.noise.code_dim, self.noise.dim, dtype=torch.float64)
        W[torch.arange(self.noise.code_dim), self.noise.positions] = self.weight
        return W

    def num_nonzero_weights(self) -> int:
        """Number of non-zero weights: d'."""
        return int(torch.count_nonzero(self.weight))
