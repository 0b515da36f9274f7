"""The memorizing generator of Theorem 1 and its ReLU network of Theorem 3 (Arora, Risteski & Zhang,
arXiv 1711.02651; ``docs/papers/arz17.md``, "The witnesses" and Theorem 3).

Shape letters: ``n`` samples, ``d`` image dimension, ``d_code`` code dimension (d'), ``k`` intervals per
coordinate, ``m`` = k**d' memorized images (blocks).
"""

from __future__ import annotations

import torch
from torch import nn

from ganlimits.theory import check_open_unit, check_positive
from ganlimits.theory.arz17 import GENERATOR_MAX_WEIGHT, TV_BOUND_FOR_WIDTH, mismatch_probability

from ._circuits import AbsLayer, HatLayer, IndexLayer, MemoryLayer, MergeLayer, StepLayer, width_for_tv
from ._noise import NoiseModel
from ._partition import GaussianBlockPartition

__all__ = ["IdealGenerator", "MemorizingGenerator", "check_memory"]

_CHUNK_ELEMENTS = 1 << 21  # elements of one (rows, m, 3) block of the hat layer: ~16 MB of float64
_FAST_CHUNK_ELEMENTS = 1 << 19  # elements of one (rows, d) or (rows, d_code, k-1) block of the fast path


def check_memory(memory, *, m: int, dim: int) -> torch.Tensor:
    """``memory`` as a float64 copy of shape ``(m, dim)``; ``ValueError`` on a wrong shape or NaN/inf."""
    mem = torch.as_tensor(memory)
    if mem.ndim != 2 or mem.shape[0] != m or mem.shape[1] != dim:
        raise ValueError(f"memory must have shape (m={m}, d={dim}), got {tuple(mem.shape)}")
    if mem.is_complex() or mem.dtype == torch.bool:
        raise ValueError(f"memory must hold real numbers, got dtype {mem.dtype}")
    mem = mem.detach().to(dtype=torch.float64, device="cpu").clone()
    if not bool(torch.isfinite(mem).all()):
        raise ValueError("memory must be finite (no NaN or infinity)")
    return mem


def _check_pair(partition: GaussianBlockPartition, noise: NoiseModel) -> None:
    if not isinstance(partition, GaussianBlockPartition):
        raise ValueError(f"partition must be a GaussianBlockPartition, got {type(partition).__name__}")
    if not isinstance(noise, NoiseModel):
        raise ValueError(f"noise must be a NoiseModel, got {type(noise).__name__}")
    if partition.code_dim != noise.code_dim:
        raise ValueError(f"partition.code_dim ({partition.code_dim}) must equal noise.code_dim "
                         f"({noise.code_dim})")


class IdealGenerator(nn.Module):
    """The step-function generator of Theorem 1 (Arora, Risteski & Zhang 2017, §3; ``docs/papers/arz17.md``, "The
    witnesses").

    .. math::
        G(z) = \\tilde x^*_{\\iota(z)} \\odot z, \\qquad \\iota(z) = \\text{block of } z

    ``memory``: ``(m, d)`` clean memorized images (stored as a float64 copy); ``forward(z)``:
    ``(n, d_code)`` -> ``(n, d)`` float64. The output takes only m distinct clean parts, and
    ``E(G(z)) == z`` exactly.

    >>> from ganlimits.constructions import NoiseExtractingEncoder
    >>> partition, noise = GaussianBlockPartition(k=3, code_dim=2), NoiseModel(dim=8, code_dim=2)
    >>> memory = torch.rand(partition.m, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    >>> G = IdealGenerator(memory=memory, partition=partition, noise=noise)
    >>> z = partition.sample_codes(1000, generator=torch.Generator().manual_seed(1))
    >>> torch.equal(NoiseExtractingEncoder(noise=noise)(G(z)), z)  # E(G(z)) = z, bit for bit
    True
    >>> len(G(z)[:, noise.clean_positions].unique(dim=0))  # only m = 9 distinct clean parts
    9
    """

    def __init__(self, *, memory, partition: GaussianBlockPartition, noise: NoiseModel) -> None:
        super().__init__()
        _check_pair(partition, noise)
        self.partition = partition
        self.noise = noise
        self.register_buffer("memory", check_memory(memory, m=partition.m, dim=noise.dim))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = self.partition.check_codes(z)
        return self.noise.noised(self.memory[self.partition.index(z)], z)

    def index(self, z: torch.Tensor) -> torch.Tensor:
        """Block index of each code, ``(n,)`` int64."""
        return self.partition.index(z)


class MemorizingGenerator(nn.Module):
    """Theorem 3 of Arora, Risteski & Zhang 2017: a ReLU network within total variation delta of the
    memorizing generator G(z) = x*_{iota(z)} ⊙ z, with O(m d) non-zero weights (``docs/papers/arz17.md``,
    Theorem 3, stages 1-7).

    .. math::
        |z| \\to \\mathrm{digit}_i = \\sum_{j=1}^{k-1} \\mathrm{step}_j(|z_i|) \\to
        \\mathrm{num} = \\sum_i \\mathrm{digit}_i k^i \\to e_\\ell = \\mathrm{hat}(\\mathrm{num} - \\ell) \\to
        A = \\sum_\\ell e_\\ell \\tilde x^*_\\ell \\to \\hat G(z) = A \\odot z,

    with ``Pr_z[G_hat(z) != G(z)] <= 1 - (1 - q)^{d'} <= d' (k-1) w sqrt(2/pi) / sigma = delta``.

    Off the ramps (``ramp_mask``) num is an exact integer and the network equals :class:`IdealGenerator` bit
    for bit; on a ramp it outputs the linear interpolation of memory rows ``floor(num)`` and
    ``floor(num) + 1``. Two evaluations of the same function: ``forward`` is the literal layered network
    (row chunks, so n x m is never materialised), ``fast`` computes num the same way and interpolates two
    memory rows (O(n d' k + n d)). The code is passed to the output as ``ReLU(z) - ReLU(-z)``, exact, so
    ``E(G_hat(z)) == z`` bit for bit.

    Parameters
    ----------
    memory:
        ``(m, d)`` memorized clean images x*_l (float32 or float64). Stored twice as float64: the memory
        layer's weights and the reference's own copy (2 m d * 8 bytes in all).
    partition:
        The :class:`GaussianBlockPartition` (k, d', sigma) with m = k**d' blocks.
    noise:
        The :class:`NoiseModel` (d, d') fixing the code positions.
    tv_budget:
        The TV budget delta in (0, 1); sets the ramp width ``w = width_for_tv(tv_budget, ...)``.
    width:
        Optional explicit ramp width w > 0 overriding the one derived from tv_budget (e.g. for controls).

    Deviation: the paper gives O(m d) weights and "some" ramp width; the exact count
    (``ganlimits.theory.arz17.GENERATOR_NUM_WEIGHTS``) and w are this project's [spec] versions. The memory layer
    keeps all d columns as the paper's memory stage does, although the merge overwrites the d' noise columns.

    >>> partition, noise = GaussianBlockPartition(k=3, code_dim=2), NoiseModel(dim=8, code_dim=2)
    >>> memory = 1 + torch.arange(partition.m * 8, dtype=torch.float64).reshape(partition.m, 8)  # no zero entry
    >>> G_hat = MemorizingGenerator(memory=memory, partition=partition, noise=noise, tv_budget=0.01)
    >>> G_hat.num_nonzero_weights(), round(G_hat.mismatch_probability(), 4), round(G_hat.tv_bound(), 4)
    (162, 0.0077, 0.01)
    >>> z = partition.sample_codes(1000, generator=torch.Generator().manual_seed(1))
    >>> off = ~G_hat.ramp_mask(z)
    >>> torch.equal(G_hat(z)[off], G_hat.target(z)[off])  # the ideal generator, bit for bit, off the ramps
    True
    """

    def __init__(self, *, memory, partition: GaussianBlockPartition, noise: NoiseModel, tv_budget: float,
                 width: float | None = None) -> None:
        super().__init__()
        _check_pair(partition, noise)
        self.tv_budget = check_open_unit("tv_budget", tv_budget)
        self.partition = partition
        self.noise = noise
        self.k, self.code_dim, self.m, self.dim = partition.k, partition.code_dim, partition.m, noise.dim
        self.sigma = partition.sigma
        if width is None:
            self.width = width_for_tv(self.tv_budget, k=self.k, code_dim=self.code_dim, sigma=self.sigma)
        else:
            self.width = check_positive("width", width)
        mem = check_memory(memory, m=self.m, dim=self.dim)
        self.abs_layer = AbsLayer(code_dim=self.code_dim)
        self.step_layer = StepLayer(thresholds=partition.thresholds[1 : self.k], width=self.width,
                                    code_dim=self.code_dim)
        self.index_layer = IndexLayer(k=self.k, code_dim=self.code_dim)
        self.hat_layer = HatLayer(m=self.m)
        self.memory_layer = MemoryLayer(memory=mem)
        self.merge_layer = MergeLayer(noise=noise)
        # The reference keeps its own copy of the memory, so perturbing the network's weights is caught.
        self.reference = IdealGenerator(memory=mem, partition=partition, noise=noise)
        self._chunk = max(1, _CHUNK_ELEMENTS // (3 * self.m))

    @property
    def memory(self) -> torch.Tensor:
        """The memorized images, ``(m, d)`` float64 (the memory layer's weights, not a copy)."""
        return self.memory_layer.weight

    def layers(self) -> dict[str, nn.Module]:
        """The stages in order: abs, step, index, hat, memory, merge."""
        return {"abs": self.abs_layer, "step": self.step_layer, "index": self.index_layer,
                "hat": self.hat_layer, "memory": self.memory_layer, "merge": self.merge_layer}

    # ---- evaluation -----------------------------------------------------------------------------------

    def soft_index(self, z: torch.Tensor) -> torch.Tensor:
        """num of stage 4, ``(n,)`` float64: the exact block index off the ramps, fractional on them."""
        z = self.partition.check_codes(z)
        _, _, a = self.abs_layer(z)
        return self.index_layer(self.step_layer(a))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """The literal network, stages 1-7, in row chunks: ``(n, d_code)`` -> ``(n, d)`` float64."""
        z = self.partition.check_codes(z)
        out = torch.empty(z.shape[0], self.dim, dtype=torch.float64)
        for start in range(0, z.shape[0], self._chunk):
            zc = z[start : start + self._chunk]
            pos, neg, a = self.abs_layer(zc)
            num = self.index_layer(self.step_layer(a))
            e = self.hat_layer(num)
            A = self.memory_layer(e)
            out[start : start + self._chunk] = self.merge_layer(A, pos, neg, inplace=True)
        return out

    def fast(self, z: torch.Tensor) -> torch.Tensor:
        """The same function in O(n d): num as in the network, then ``(1 - frac) x*_lo + frac x*_{lo+1}``.

        ``(n, d_code)`` -> ``(n, d)`` float64; equals ``forward`` exactly off the ramps, to rounding on them.
        """
        z = self.partition.check_codes(z)
        n = z.shape[0]
        out = torch.empty(n, self.dim, dtype=torch.float64)
        mem = self.memory_layer.weight
        rows = max(1, _FAST_CHUNK_ELEMENTS // max(self.dim, self.code_dim * (self.k - 1)))
        for start in range(0, n, rows):
            sl = slice(start, start + rows)
            pos, neg, a = self.abs_layer(z[sl])
            num = self.index_layer(self.step_layer(a))
            lo = torch.floor(num).clamp(0, self.m - 1)
            frac = num - lo
            lo_i = lo.to(torch.int64)
            A = torch.index_select(mem, 0, lo_i, out=out[sl])  # exact rows where num is an integer
            on = torch.nonzero(frac != 0).flatten()
            if on.numel():
                f = frac[on, None]
                hi_i = (lo_i[on] + 1).clamp(max=self.m - 1)
                A[on] = (1.0 - f) * A[on] + f * mem[hi_i]
            self.merge_layer(A, pos, neg, inplace=True)
        return out

    def target(self, z: torch.Tensor) -> torch.Tensor:
        """Reference: the ideal step-function generator G(z) = x*_{iota(z)} ⊙ z, with the partition and a copy
        of the memory taken at construction (independent of the network's weights)."""
        return self.reference(z)

    def ideal(self) -> IdealGenerator:
        """The reference :class:`IdealGenerator` (its memory is a copy taken at construction)."""
        return self.reference

    def ramp_mask(self, z: torch.Tensor) -> torch.Tensor:
        """``(n,)`` bool: some ``|z_i|`` lies on a ramp (tau_j - w, tau_j); only there may the network differ from
        the ideal generator."""
        z = self.partition.check_codes(z)
        return self.step_layer.ramp_mask(z.abs()).any(dim=1)

    # ---- theory ---------------------------------------------------------------------------------------

    def mismatch_probability(self) -> float:
        """Exact Pr_z[z on a ramp in some coordinate] = 1 - (1 - q)^{d'} (float64, from Phi), with
        q = sum_j [F(tau_j) - F(max(tau_{j-1}, tau_j - w))] and F(t) = 2 Phi(t / sigma) - 1
        (``docs/papers/arz17.md``, Theorem 3; the max only matters when ramps overlap or reach below 0).
        Upper-bounds d_TV(G_hat(nu), G(nu))."""
        return mismatch_probability(k=self.k, code_dim=self.code_dim, width=self.width, sigma=self.sigma)

    def tv_bound(self) -> float:
        """The linear bound d' (k - 1) w sqrt(2/pi) / sigma (= tv_budget when w comes from tv_budget)."""
        return float(TV_BOUND_FOR_WIDTH(d_code=self.code_dim, k=self.k, w=self.width, sigma=self.sigma))

    def max_weight_bound(self) -> float:
        """The theory's largest circuit weight max(1/w, k^{d'-1}, 2) (memory entries excluded)."""
        return float(GENERATOR_MAX_WEIGHT(k=self.k, d_code=self.code_dim, w=self.width))

    def num_nonzero_weights(self) -> int:
        """Non-zero edge weights of the whole network (biases excluded); equals
        ``ganlimits.theory.arz17.GENERATOR_NUM_WEIGHTS`` when the memory has no zero entry."""
        return sum(layer.num_nonzero_weights() for layer in self.layers().values())

    def max_abs_weight(self) -> float:
        """Largest absolute edge weight, memory entries included."""
        return max(layer.max_abs_weight() for layer in self.layers().values())

    def max_abs_circuit_weight(self) -> float:
        """Largest absolute edge weight outside the memory layer; equals :meth:`max_weight_bound`
        (``ganlimits.theory.arz17.GENERATOR_MAX_WEIGHT``) for the intact network."""
        return max(layer.max_abs_weight() for name, layer in self.layers().items() if name != "memory")
