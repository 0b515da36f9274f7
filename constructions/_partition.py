"""The equal-measure partition of the code space of Theorem 3 (Arora, Risteski & Zhang, arXiv 1711.02651).

Each code coordinate is cut by the magnitude ``|z_i|`` into k intervals of equal mass under N(0, sigma^2); a
block is a tuple of digits, one per coordinate, so there are m = k**d' blocks of measure exactly 1/m each.

Shape letters: ``n`` samples, ``d_code`` code dimension (d'), ``k`` intervals per coordinate, ``m`` blocks.
Everything that decides a block (thresholds, |z|, digits, index) is float64 / int64.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import special, stats

from ganlimits.theory import check_allocation, check_count, check_positive
from ganlimits.theory.arz17 import arz_thm3_block_count

from ._checks import check_generator

__all__ = ["GaussianBlockPartition", "gaussian_thresholds"]


def gaussian_thresholds(*, k: int, sigma: float = 1.0) -> torch.Tensor:
    """Thresholds on ``|z_i|`` cutting N(0, sigma^2) into k intervals of equal mass (``docs/papers/arz17.md``,
    Theorem 3, step 1).

    .. math::
        \\tau_j = \\sigma\\, \\Phi^{-1}\\!\\left(\\frac{1 + j/k}{2}\\right), \\quad j = 0, \\dots, k,
        \\qquad \\tau_0 = 0, \\ \\tau_k = \\infty.

    Computed as ``sigma * isf((k - j) / (2k))`` (the upper-tail quantile, accurate for j near k).
    Returns a float64 tensor of shape ``(k + 1,)``.
    """
    k = check_count("k", k, low=2)
    check_allocation("k", k, elements=k + 1)
    sigma = check_positive("sigma", sigma)
    j = np.arange(k + 1)
    tau = sigma * stats.norm.isf((k - j) / (2.0 * k))
    tau[0], tau[k] = 0.0, np.inf
    return torch.from_numpy(np.ascontiguousarray(tau, dtype=np.float64))


class GaussianBlockPartition:
    """Partition of R^{d'} into m = k**d' blocks of equal N(0, sigma^2 I) measure (Theorem 3 of Arora, Risteski &
    Zhang 2017; ``docs/papers/arz17.md``).

    .. math::
        \\mathrm{cell}(j_0, \\dots, j_{d'-1}) = \\{ z : |z_i| \\in [\\tau_{j_i}, \\tau_{j_i + 1}) \\},
        \\qquad \\iota(z) = \\sum_i j_i\\, k^i \\in \\{0, \\dots, m-1\\}.

    A value exactly on a threshold belongs to the upper interval: the step is ``1[t >= tau_j]``.
    The sign of z_i is free inside a cell.

    Parameters
    ----------
    k:
        Intervals per coordinate (integer >= 2).
    code_dim:
        d' (integer >= 1); m = k**d' must be <= 2**53 (float64-exact indexing). In practice the generator's
        memory of m * d float64 values is the limit long before that.
    sigma:
        Standard deviation of the code distribution nu = N(0, sigma^2 I).

    >>> p = GaussianBlockPartition(k=3, code_dim=2)
    >>> z = torch.tensor([[0.1, -0.5], [1.0, 2.0], [-3.0, 0.0]])
    >>> p.m, p.digits(z).tolist(), p.index(z).tolist()
    (9, [[0, 1], [2, 2], [2, 0]], [3, 8, 2])
    >>> torch.allclose(p.cell_measure(torch.arange(p.m)), torch.full((9,), 1 / 9, dtype=torch.float64))
    True
    """

    def __init__(self, *, k: int, code_dim: int, sigma: float = 1.0) -> None:
        self.m = arz_thm3_block_count(k=k, code_dim=code_dim)
        self.k = int(k)
        self.code_dim = int(code_dim)
        self.sigma = check_positive("sigma", sigma)
        self.thresholds = gaussian_thresholds(k=self.k, sigma=self.sigma)
        self.powers = torch.tensor([self.k**i for i in range(self.code_dim)], dtype=torch.int64)

    def __repr__(self) -> str:
        return f"GaussianBlockPartition(k={self.k}, code_dim={self.code_dim}, sigma={self.sigma})"

    # ---- checks ----

    def check_codes(self, z: torch.Tensor) -> torch.Tensor:
        """``z`` as float64 ``(n, d_code)``; ``ValueError`` on a wrong width or a non-finite value."""
        z = torch.as_tensor(z)
        if z.ndim != 2 or z.shape[1] != self.code_dim:
            raise ValueError(f"z must have shape (n, code_dim={self.code_dim}), got {tuple(z.shape)}")
        z = z.to(torch.float64)
        if not bool(torch.isfinite(z).all()):
            raise ValueError("z must be finite (no NaN or infinity)")
        return z

    def check_index(self, index: torch.Tensor) -> torch.Tensor:
        """``index`` as int64 of shape ``(n,)``; ``ValueError`` unless every entry lies in [0, m)."""
        index = torch.as_tensor(index)
        if index.ndim != 1:
            raise ValueError(f"index must have shape (n,), got {tuple(index.shape)}")
        if index.dtype.is_floating_point or index.dtype == torch.bool:
            raise ValueError(f"index must be an integer tensor, got {index.dtype}")
        index = index.to(torch.int64)
        if index.numel() and (int(index.min()) < 0 or int(index.max()) >= self.m):
            raise ValueError(f"index must lie in [0, m={self.m}), got values in "
                             f"[{int(index.min())}, {int(index.max())}]")
        return index

    # ---- block of a code ----

    def digits(self, z: torch.Tensor) -> torch.Tensor:
        """Digit ``j_i = #{j in 1..k-1 : |z_i| >= tau_j}`` of every coordinate: ``(n, d_code)`` -> int64."""
        a = self.check_codes(z).abs()
        inner = self.thresholds[1 : self.k].contiguous()
        return torch.searchsorted(inner, a.contiguous(), right=True)

    def index(self, z: torch.Tensor) -> torch.Tensor:
        """Block index ``iota(z) = sum_i digit_i k**i``: ``(n, d_code)`` -> ``(n,)`` int64, exact."""
        return (self.digits(z) * self.powers).sum(dim=1)

    def digits_of_index(self, index: torch.Tensor) -> torch.Tensor:
        """Inverse of the index map: ``(n,)`` int64 -> digits ``(n, d_code)`` int64."""
        index = self.check_index(index)
        return torch.div(index[:, None], self.powers, rounding_mode="floor") % self.k

    # ---- measure ----

    def _tail(self, t: np.ndarray) -> np.ndarray:
        """1 - F(t) = Pr[``|z_i|`` > t] = erfc(t / (sigma sqrt 2)) (accurate in the upper tail)."""
        return special.erfc(t / (self.sigma * np.sqrt(2.0)))

    def interval_masses(self) -> torch.Tensor:
        """Pr[``|z_i|`` in [tau_j, tau_{j+1})] for j = 0..k-1, from Phi (float64, shape ``(k,)``; each = 1/k)."""
        tail = self._tail(self.thresholds.numpy())
        return torch.from_numpy(tail[:-1] - tail[1:])

    def cell_measure(self, index: torch.Tensor) -> torch.Tensor:
        """nu(block) for each index: the product of the interval masses of its digits, from Phi (float64).

        .. math::
            \\nu(\\mathrm{cell}) = \\prod_i [F(\\tau_{j_i + 1}) - F(\\tau_{j_i})] = 1/m,
            \\qquad F(t) = 2\\Phi(t/\\sigma) - 1.
        """
        masses = self.interval_masses()
        return masses[self.digits_of_index(index)].prod(dim=1)

    # ---- sampling ----

    def sample_codes(self, n: int, *, generator: torch.Generator) -> torch.Tensor:
        """n codes from nu = N(0, sigma^2 I_{d'}): float64 ``(n, d_code)``."""
        n = check_count("n", n, low=0)
        check_allocation("n", n, elements=n * self.code_dim)
        return self.sigma * torch.randn(n, self.code_dim, generator=generator, dtype=torch.float64)

    def sample_in_blocks(self, index: torch.Tensor, *, generator: torch.Generator) -> torch.Tensor:
        """One code from nu restricted to each given block (Lemma A.1's non-colliding sets).

        Per coordinate, ``|z_i|`` is drawn by inverting the tail of the half-normal inside
        ``[tau_j, tau_{j+1})`` and the sign is a fair coin:

        .. math::
            |z_i| = \\bar F^{-1}\\big(\\bar F(\\tau_j) - U\\,[\\bar F(\\tau_j) - \\bar F(\\tau_{j+1})]\\big),
            \\qquad \\bar F(t) = \\operatorname{erfc}(t / (\\sigma\\sqrt 2)), \\ U \\sim \\mathrm{U}[0, 1).

        The result is clamped into ``[tau_j, tau_{j+1})`` so rounding can never move it to a neighbour block:
        ``index(sample_in_blocks(index)) == index`` exactly. ``index``: int64 ``(n,)``; returns float64
        ``(n, d_code)``.
        """
        check_generator(generator)
        dig = self.digits_of_index(index)
        n = dig.shape[0]
        u = torch.rand(n, self.code_dim, generator=generator, dtype=torch.float64)
        sign = torch.where(torch.rand(n, self.code_dim, generator=generator, dtype=torch.float64) < 0.5,
                           -1.0, 1.0).to(torch.float64)
        tail = torch.from_numpy(self._tail(self.thresholds.numpy()))
        lo_tail, hi_tail = tail[dig], tail[dig + 1]
        s = lo_tail - u * (lo_tail - hi_tail)  # in (hi_tail, lo_tail], > 0 since u < 1
        a = torch.from_numpy(self.sigma * np.sqrt(2.0) * special.erfcinv(s.numpy()))
        lo = self.thresholds[dig]
        hi = torch.nextafter(self.thresholds[dig + 1], torch.zeros(()).to(torch.float64))
        a = torch.minimum(torch.maximum(a, lo), hi)
        return sign * a
