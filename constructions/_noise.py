"""The noise model of Arora, Risteski & Zhang (arXiv 1711.02651): d' of the d coordinates carry the code.

A noised image is ``x = x_clean ⊙ z``: the clean image with the coordinates at the noise positions replaced by
the code ``z``. The noise positions are evenly spaced (``docs/papers/arz17.md``, "The noise model": the index
rule is this project's [spec]).

Shape letters: ``n`` samples, ``d`` image dimension (``dim``), ``d_code`` code dimension (``code_dim``, d').
"""

from __future__ import annotations

import torch

from ganlimits.theory import check_allocation, check_count

__all__ = ["NoiseModel", "noise_positions"]


def noise_positions(*, dim: int, code_dim: int) -> torch.Tensor:
    """Positions of the d' code coordinates among the d image coordinates (``docs/papers/arz17.md``, "The noise
    model"; the index rule is this project's [spec]).

    .. math::
        \\mathrm{pos}(j) = \\lfloor (j+1)\\,d / d' \\rfloor - 1, \\qquad j = 0, \\dots, d'-1.

    For ``d / d'`` integral this is every ``d/d'``-th coordinate (the last coordinate always carries code).
    Returns a LongTensor of shape ``(d_code,)``, strictly increasing.
    """
    dim = check_count("dim", dim, low=2)
    code_dim = check_count("code_dim", code_dim, low=1, high=dim - 1)
    check_allocation("code_dim", code_dim, elements=code_dim)
    return torch.tensor([(j + 1) * dim // code_dim - 1 for j in range(code_dim)], dtype=torch.long)


class NoiseModel:
    """Which d' of the d coordinates of an image carry the code (Arora, Risteski & Zhang 2017, §3;
    ``docs/papers/arz17.md``, "The noise model").

    .. math::
        x = \\tilde x \\odot z: \\quad x_{\\mathrm{pos}(j)} = z_j,
        \\quad x_i = \\tilde x_i \\ (i \\notin \\mathrm{pos}).

    Parameters
    ----------
    dim:
        d, the image dimension (integer >= 2).
    code_dim:
        d', the code dimension (integer, 1 <= d' < d).

    Deviation: the paper only says the noise coordinates are spread over the image ("every 100th pixel");
    the index rule ``floor((j+1) d / d') - 1`` is this project's explicit version.

    >>> noise = NoiseModel(dim=8, code_dim=2)
    >>> noise.positions.tolist(), noise.clean_positions.tolist()
    ([3, 7], [0, 1, 2, 4, 5, 6])
    >>> noise.noised(torch.zeros(1, 8), torch.tensor([[1.5, -2.0]])).tolist()
    [[0.0, 0.0, 0.0, 1.5, 0.0, 0.0, 0.0, -2.0]]
    """

    def __init__(self, *, dim: int, code_dim: int) -> None:
        self.dim = check_count("dim", dim, low=2)
        check_allocation("dim", self.dim, elements=self.dim)
        self.code_dim = check_count("code_dim", code_dim, low=1, high=self.dim - 1)
        self.positions = noise_positions(dim=self.dim, code_dim=self.code_dim)
        mask = torch.ones(self.dim, dtype=torch.bool)
        mask[self.positions] = False
        self.clean_positions = torch.nonzero(mask).flatten()
        self.noise_mask = ~mask

    def __repr__(self) -> str:
        return f"NoiseModel(dim={self.dim}, code_dim={self.code_dim})"

    def _check_codes(self, z: torch.Tensor) -> torch.Tensor:
        z = torch.as_tensor(z)
        if z.ndim != 2 or z.shape[1] != self.code_dim:
            raise ValueError(f"z must have shape (n, code_dim={self.code_dim}), got {tuple(z.shape)}")
        if not torch.is_floating_point(z):
            z = z.to(torch.float64)
        if not bool(torch.isfinite(z).all()):
            raise ValueError("z must be finite (no NaN or infinity)")
        return z

    def noised(self, x_clean: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """``x_clean ⊙ z``: the clean images with the noise positions replaced by the codes, exactly.

        ``x_clean`` has shape ``(n, d)``, ``z`` shape ``(n, d_code)``; returns ``(n, d)`` in the promoted
        floating dtype of the two (float64 when either is float64). The code values are copied, not computed,
        so ``extract(noised(x, z)) == z`` bit for bit when the output dtype holds ``z`` exactly.
        """
        x_clean = torch.as_tensor(x_clean)
        if x_clean.ndim != 2 or x_clean.shape[1] != self.dim:
            raise ValueError(f"x_clean must have shape (n, dim={self.dim}), got {tuple(x_clean.shape)}")
        z = self._check_codes(z)
        if z.shape[0] != x_clean.shape[0]:
            raise ValueError(f"x_clean and z must have the same number of rows, got {x_clean.shape[0]} "
                             f"and {z.shape[0]}")
        dtype = torch.promote_types(x_clean.dtype, z.dtype)
        if not dtype.is_floating_point:
            dtype = torch.float64
        out = x_clean.to(dtype).clone()
        out[:, self.positions.to(out.device)] = z.to(dtype)
        return out

    def extract(self, x: torch.Tensor) -> torch.Tensor:
        """The code coordinates of ``x``: shape ``(n, d)`` -> ``(n, d_code)`` (a copy, same dtype)."""
        x = torch.as_tensor(x)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (n, dim={self.dim}), got {tuple(x.shape)}")
        return x[:, self.positions.to(x.device)]
