"""ReLU circuits of Theorem 3 (Arora, Risteski & Zhang, arXiv 1711.02651; the selector of Lemma 3 of Arora,
Ge, Liang, Ma & Zhang 2017 is in :mod:`._selector`), each an ``nn.Module`` with explicit weights,
``num_nonzero_weights()``, a ``target(...)`` reference and, where the circuit approximates a discontinuous
reference, ``ramp_mask(...)``.

Shape letters: ``n`` samples, ``d`` image dimension, ``d_code`` code dimension (d'), ``k`` intervals per
coordinate, ``m`` blocks (= k**d'), ``q`` thresholds of a selector.

Ramps are built as a clamp, ``step = 1 - ReLU(1 - ReLU(1 + (t - tau)/w))`` (two hidden ReLUs per threshold,
as in Lemma 3). This is the same function as the paper's ``(ReLU(t - tau + w) - ReLU(t - tau)) / w``, but
its float64 evaluation is exact off the ramps: ``t - tau`` has the sign of the real difference, and the two
saturated ReLUs return exactly 0 or 1, so digits, the index and the hat outputs are exact integers there.
Weights are edges; biases are not counted in ``num_nonzero_weights()``.
"""

from __future__ import annotations

import torch
from torch import nn

from ganlimits.theory import check_allocation, check_count, check_positive
from ganlimits.theory.arz17 import ramp_width_for_tv

from ._noise import NoiseModel

__all__ = [
    "width_for_tv",
    "Circuit",
    "AbsLayer",
    "StepLayer",
    "IndexLayer",
    "HatLayer",
    "MemoryLayer",
    "MergeLayer",
]


def width_for_tv(tv_budget: float, *, k: int, code_dim: int, sigma: float = 1.0) -> float:
    """Ramp width that keeps the TV distance of Theorem 3's network to the step generator <= delta = ``tv_budget``.

    .. math::
        w = \\frac{\\delta\\, \\sigma \\sqrt{\\pi/2}}{d' (k - 1)}

    (``ganlimits.theory.arz17.RAMP_WIDTH_FOR_TV``). Deviation: the paper states only that some w works; this is the
    project's explicit choice from the density bound sqrt(2/pi)/sigma of ``|z_i|`` (``docs/papers/arz17.md``,
    Theorem 3 [spec]).
    ``ValueError`` for tv_budget outside (0, 1), k < 2, code_dim < 1 or sigma <= 0.
    """
    return ramp_width_for_tv(tv_budget=tv_budget, k=k, code_dim=code_dim, sigma=sigma)


def _as_float64_vector(name: str, values) -> torch.Tensor:
    t = torch.as_tensor(values).detach().to(dtype=torch.float64, device="cpu").clone()
    if t.ndim != 1 or t.numel() == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {tuple(t.shape)}")
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} must be finite")
    if t.numel() > 1 and not bool((t[1:] > t[:-1]).all()):
        raise ValueError(f"{name} must be strictly increasing")
    return t


class Circuit(nn.Module):
    """Base class: the weights (edges) are the buffers listed in ``_weights``; biases are not counted."""

    _weights: tuple[str, ...] = ()

    def num_nonzero_weights(self) -> int:
        """Number of non-zero edge weights (biases excluded)."""
        return int(sum(int(torch.count_nonzero(getattr(self, name))) for name in self._weights))

    def max_abs_weight(self) -> float:
        """Largest absolute edge weight."""
        return float(max(float(getattr(self, name).abs().max()) for name in self._weights))


class AbsLayer(Circuit):
    """Stage 2 of Theorem 3's network: ``|z| = ReLU(z) + ReLU(-z)`` (``docs/papers/arz17.md``, Theorem 3).

    Hidden layer ``(ReLU(z), ReLU(-z))`` (weights +1, -1: 2 d' edges), then ``|z| = ReLU(pos + neg)`` (2 d'
    edges; the ReLU is the identity on a non-negative value). ``forward(z)`` returns ``(pos, neg, |z|)``, each
    ``(n, d_code)`` float64; ``pos`` and ``neg`` are reused by the merge stage to output ``z = pos - neg``
    exactly. 4 d' non-zero weights.
    """

    _weights = ("in_weight", "sum_weight")

    def __init__(self, *, code_dim: int) -> None:
        super().__init__()
        self.code_dim = check_count("code_dim", code_dim, low=1)
        check_allocation("code_dim", self.code_dim, elements=2 * self.code_dim)
        signs = torch.tensor([1.0, -1.0], dtype=torch.float64)[:, None]
        self.register_buffer("in_weight", signs.repeat(1, self.code_dim))
        self.register_buffer("sum_weight", torch.ones(2, code_dim, dtype=torch.float64))

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        pos = torch.relu(z * self.in_weight[0])
        neg = torch.relu(z * self.in_weight[1])
        a = torch.relu(pos * self.sum_weight[0] + neg * self.sum_weight[1])
        return pos, neg, a

    def target(self, z: torch.Tensor) -> torch.Tensor:
        """Reference: ``|z|``."""
        return z.abs()


class StepLayer(Circuit):
    """Stage 3 of Theorem 3's network: digits of ``|z_i|`` from k - 1 step circuits per coordinate.

    .. math::
        \\mathrm{step}_j(t) = 1 - \\mathrm{ReLU}\\big(1 - \\mathrm{ReLU}(1 + (t - \\tau_j)/w)\\big)
        = \\mathbb 1[t \\ge \\tau_j] \\ \\text{off the left ramp } (\\tau_j - w, \\tau_j),
        \\qquad \\mathrm{digit}_i = \\sum_{j=1}^{k-1} \\mathrm{step}_j(|z_i|) \\in \\{0..k-1\\}.

    Edges per (coordinate, threshold): shift ``t - tau_j`` (1), scale (1/w), flip (-1), sum into the digit
    (-1): 4 d' (k - 1) non-zero weights; biases -tau_j, 1, 1 and k - 1. Weight buffers have shape
    ``(k - 1, d_code)`` (threshold j, coordinate i).

    Parameters
    ----------
    thresholds:
        The interior thresholds tau_1 < ... < tau_{k-1} (finite, float64), e.g.
        ``GaussianBlockPartition.thresholds[1:-1]``.
    width:
        w > 0, the ramp width (``width_for_tv``).
    code_dim:
        d', the number of coordinates (each gets its own copy of the circuit).

    Deviation: the step is written ``(ReLU(t - tau + w) - ReLU(t - tau)) / w`` (``docs/papers/arz17.md``,
    Theorem 3); this is the same
    function arranged as a clamp so that float64 evaluation is exact off the ramps (see module docstring).
    Ties: a value exactly on tau_j counts as above it (``1[t >= tau_j]``).
    """

    _weights = ("shift_weight", "scale_weight", "flip_weight", "sum_weight")

    def __init__(self, *, thresholds, width: float, code_dim: int) -> None:
        super().__init__()
        tau = _as_float64_vector("thresholds", thresholds)
        self.width = check_positive("width", width)
        self.code_dim = check_count("code_dim", code_dim, low=1)
        steps = tau.numel()
        check_allocation("code_dim", self.code_dim, elements=max(steps, 1) * self.code_dim)
        shape = (steps, self.code_dim)  # (threshold j, coordinate i): sums run over j, vectorised over i
        self.register_buffer("thresholds", tau)  # the reference (intended) thresholds
        self.register_buffer("shift_weight", torch.ones(shape, dtype=torch.float64))
        self.register_buffer("shift_bias", (-tau)[:, None].repeat(1, self.code_dim))
        self.register_buffer("scale_weight", torch.full(shape, 1.0 / self.width, dtype=torch.float64))
        self.register_buffer("scale_bias", torch.ones(shape, dtype=torch.float64))
        self.register_buffer("flip_weight", torch.full(shape, -1.0, dtype=torch.float64))
        self.register_buffer("flip_bias", torch.ones(shape, dtype=torch.float64))
        self.register_buffer("sum_weight", torch.full(shape, -1.0, dtype=torch.float64))
        self.register_buffer("sum_bias", torch.full((self.code_dim,), float(steps), dtype=torch.float64))

    def _check(self, t: torch.Tensor) -> torch.Tensor:
        if t.ndim != 2 or t.shape[1] != self.code_dim:
            raise ValueError(f"t must have shape (n, code_dim={self.code_dim}), got {tuple(t.shape)}")
        return t.to(torch.float64)

    def steps(self, t: torch.Tensor) -> torch.Tensor:
        """The individual steps, ``(n, d_code)`` -> ``(n, d_code, k-1)`` float64, values in [0, 1]."""
        t = self._check(t)
        u = t[:, None, :] * self.shift_weight + self.shift_bias
        r = torch.relu(u * self.scale_weight + self.scale_bias)
        s = torch.relu(r * self.flip_weight + self.flip_bias)
        return (1.0 - s).transpose(1, 2)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """Digits ``(n, d_code)`` float64: exact integers off the ramps, fractional on them."""
        t = self._check(t)
        # One (n, k-1, d_code) buffer, updated in place: the same float64 operations as ``steps``.
        h = torch.addcmul(self.shift_bias, t[:, None, :], self.shift_weight)  # u = t - tau_j (t * 1 is exact)
        h.mul_(self.scale_weight).add_(self.scale_bias).relu_()  # r = ReLU(u / w + 1)
        h.mul_(self.flip_weight).add_(self.flip_bias).relu_()  # s = ReLU(1 - r)
        return self.sum_bias + h.mul_(self.sum_weight).sum(dim=1)

    def target(self, t: torch.Tensor) -> torch.Tensor:
        """Reference digits ``sum_j 1[t >= tau_j]`` (float64 integers) at the intended thresholds."""
        t = self._check(t)
        return (t[:, None, :] >= self.thresholds[:, None]).sum(dim=1).to(torch.float64)

    def ramp_mask(self, t: torch.Tensor) -> torch.Tensor:
        """``(n, d_code)`` bool: t lies on a ramp ``(tau_j - w, tau_j)`` of some j, so the digit may differ
        from the reference. Evaluated with the float64 operations of the intact circuit (``u = t - tau_j``,
        ``u / w > -1`` as ``u * (1/w)``), so off this mask the intact circuit equals ``target`` exactly."""
        t = self._check(t)
        u = t[:, None, :] - self.thresholds[:, None]
        v = u * (1.0 / self.width)
        return ((u < 0) & (v > -1)).any(dim=1)


class IndexLayer(Circuit):
    """Stage 4 of Theorem 3's network: ``num = sum_i digit_i k**i`` (linear, d' non-zero weights k**i).

    ``forward(digits)``: ``(n, d_code)`` float64 -> ``(n,)`` float64, summed in coordinate order (exact for
    integer digits, since num <= m - 1 <= 2**53). ``target(digits)``: the same sum in int64 (exact).
    """

    _weights = ("weight",)

    def __init__(self, *, k: int, code_dim: int) -> None:
        super().__init__()
        self.k = check_count("k", k, low=2)
        self.code_dim = check_count("code_dim", code_dim, low=1)
        check_allocation("code_dim", self.code_dim, elements=self.code_dim)
        self.register_buffer("weight", torch.tensor([float(self.k**i) for i in range(self.code_dim)],
                                                    dtype=torch.float64))

    def forward(self, digits: torch.Tensor) -> torch.Tensor:
        num = digits[:, 0] * self.weight[0]
        for i in range(1, self.code_dim):
            num = num + digits[:, i] * self.weight[i]
        return num

    def target(self, digits: torch.Tensor) -> torch.Tensor:
        powers = torch.tensor([self.k**i for i in range(self.code_dim)], dtype=torch.int64)
        return (digits.round().to(torch.int64) * powers).sum(dim=1)


class HatLayer(Circuit):
    """Stage 5 of Theorem 3's network: the indicators ``e_l = ReLU(u + 1) - 2 ReLU(u) + ReLU(u - 1)``,
    ``u = num - l``, l = 0..m-1 (``docs/papers/arz17.md``, Theorem 3).

    .. math::
        e_\\ell(\\mathrm{num}) = \\max(0, 1 - |\\mathrm{num} - \\ell|).

    One-hot (exactly, in float64) when num is an integer in [0, m); for fractional num the two neighbours
    ``floor(num)`` and ``floor(num) + 1`` get ``1 - frac`` and ``frac``. 3 hidden ReLUs per l (in-weight 1,
    biases 1 - l, -l, -1 - l) and out-weights (1, -2, 1): 6 m non-zero weights.
    ``forward(num)``: ``(n,)`` -> ``(n, m)`` float64 (materialises n x 3m: evaluate in row chunks).
    """

    _weights = ("in_weight", "out_weight")

    def __init__(self, *, m: int) -> None:
        super().__init__()
        self.m = check_count("m", m, low=1)
        check_allocation("m", self.m, elements=3 * self.m)
        # Buffers of shape (3, m): unit c in {0: u + 1, 1: u, 2: u - 1} of indicator l.
        ell = torch.arange(self.m, dtype=torch.float64)[None, :]
        self.register_buffer("in_weight", torch.ones(3, self.m, dtype=torch.float64))
        self.register_buffer("in_bias", torch.cat([1.0 - ell, -ell, -1.0 - ell], dim=0))
        hat = torch.tensor([1.0, -2.0, 1.0], dtype=torch.float64)
        self.register_buffer("out_weight", hat[:, None].repeat(1, self.m))

    def forward(self, num: torch.Tensor) -> torch.Tensor:
        h = torch.addcmul(self.in_bias, num[:, None, None], self.in_weight).relu_()  # num * 1 is exact
        h.mul_(self.out_weight)
        return (h[:, 0] + h[:, 1]).add_(h[:, 2])

    def target(self, num: torch.Tensor) -> torch.Tensor:
        """Reference for integer num: the one-hot of num, ``(n, m)`` float64."""
        return nn.functional.one_hot(num.round().to(torch.int64), self.m).to(torch.float64)

    def ramp_mask(self, num: torch.Tensor) -> torch.Tensor:
        """``(n,)`` bool: num is not an integer, so the output is not one-hot."""
        return num != num.round()


class MemoryLayer(Circuit):
    """Stage 6 of Theorem 3's network: ``A = sum_l e_l x*_l`` (fan-out of e_l with edge weights x*_l).

    ``memory``: ``(m, d)`` clean memorized images (stored float64). ``forward(e)``: ``(n, m)`` -> ``(n, d)``.
    Non-zero weights: the non-zero entries of the memory (m d when no entry is 0).
    """

    _weights = ("weight",)

    def __init__(self, *, memory: torch.Tensor) -> None:
        super().__init__()
        mem = torch.as_tensor(memory).detach().to(dtype=torch.float64, device="cpu").clone()
        if mem.ndim != 2:
            raise ValueError(f"memory must have shape (m, d), got {tuple(mem.shape)}")
        if not bool(torch.isfinite(mem).all()):
            raise ValueError("memory must be finite (no NaN or infinity)")
        self.register_buffer("weight", mem)

    def forward(self, e: torch.Tensor) -> torch.Tensor:
        return e @ self.weight

    def target(self, index: torch.Tensor) -> torch.Tensor:
        """Reference: the memory rows of the given block indices, ``(n,)`` int64 -> ``(n, d)``."""
        return self.weight[index]


class MergeLayer(Circuit):
    """Stage 7 of Theorem 3's network: output ``z_j`` at noise position j (as ``ReLU(z) - ReLU(-z)``, weights
    +1 and -1) and ``A`` at the clean positions (weight 1): (d - d') + 2 d' non-zero weights.

    ``forward(A, pos, neg, inplace=False)``: ``A`` ``(n, d)``, ``pos = ReLU(z)`` and ``neg = ReLU(-z)``
    ``(n, d_code)`` -> ``(n, d)`` float64 (written into ``A`` when ``inplace``). Exact: ``pos - neg == z`` bit
    for bit (one of them is 0).
    """

    _weights = ("clean_weight", "noise_weight")

    def __init__(self, *, noise: NoiseModel) -> None:
        super().__init__()
        self.noise = noise
        self.register_buffer("clean_weight", torch.ones(noise.dim - noise.code_dim, dtype=torch.float64))
        self.register_buffer("noise_weight", torch.tensor([1.0, -1.0], dtype=torch.float64)[:, None]
                             .repeat(1, noise.code_dim))

    def forward(self, A: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor, *, inplace: bool = False
                ) -> torch.Tensor:
        row = torch.zeros(self.noise.dim, dtype=torch.float64)  # the clean edges; noise columns get no A edge
        row[self.noise.clean_positions] = self.clean_weight
        out = A.to(torch.float64).mul_(row) if inplace else A.to(torch.float64) * row
        out[:, self.noise.positions] = pos * self.noise_weight[0] + neg * self.noise_weight[1]
        return out

    def target(self, A: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Reference: ``A ⊙ z`` (``NoiseModel.noised``)."""
        return self.noise.noised(A, z)
