"""The selector of Lemma 3 (Arora, Ge, Liang, Ma & Zhang 2017; ``docs/papers/agl17.md``): a ReLU circuit that maps a
one-dimensional seed to a one-hot choice among q + 1 intervals, with explicit weights like the circuits of
:mod:`._circuits` (same ramp form, same counting of weights).

Shape letters: ``n`` samples, ``q`` thresholds.
"""

from __future__ import annotations

import torch
from torch import nn

from ganlimits.theory import check_positive

from ._circuits import Circuit, _as_float64_vector

__all__ = ["Selector"]


class Selector(Circuit):
    """The selector of Lemma 3 (Arora, Ge, Liang, Ma & Zhang 2017; ``docs/papers/agl17.md``), S: R -> R^{q+1}.

    .. math::
        f(t; z_i) = \\mathrm{clamp}\\big(\\tfrac12 + (t - z_i)/w,\\ 0,\\ 1\\big), \\quad
        S_1 = 1 - f(\\cdot; z_1), \\ S_i = f(\\cdot; z_{i-1}) - f(\\cdot; z_i), \\ S_{q+1} = f(\\cdot; z_q).

    ``sum_i S_i == 1`` everywhere (exactly off the ramps, to rounding on them) and S is one-hot off the
    centred ramps ``(z_i - w/2, z_i + w/2)``; off them S is the one-hot of ``#{i : t >= z_i}``. 2q hidden
    ReLUs (``r_i = ReLU(1/2 + (t - z_i)/w)`` and ``s_i = ReLU(1 - r_i) = 1 - f_i``), weights of size 1/w;
    edges: shift (1), scale (1/w), flip (-1) per threshold and 2q output edges (``S_1 = s_1``,
    ``S_i = s_i - s_{i-1}``, ``S_{q+1} = 1 - s_q``): 5q non-zero weights.

    Parameters
    ----------
    thresholds:
        z_1 < ... < z_q, finite (float64).
    width:
        w, with 0 < w < min_i (z_{i+1} - z_i) (any w > 0 when q = 1).

    ``forward(t)``: t of shape ``(n,)`` or ``(n, 1)`` -> ``(n, q + 1)`` float64.
    Deviation: the clamp arrangement of the two ReLUs (the same function as Lemma 3's
    ``ReLU(x + 1/2) - ReLU(x - 1/2)``) makes the float64 output exactly one-hot off the ramps.

    >>> S = Selector(thresholds=[-1.0, 0.0, 1.0], width=0.1)
    >>> S(torch.tensor([-2.0, -0.5, 0.5, 2.0])).argmax(dim=1).tolist(), S.num_nonzero_weights()
    ([0, 1, 2, 3], 15)
    """

    _weights = ("shift_weight", "scale_weight", "flip_weight", "out_weight_cur", "out_weight_prev")

    def __init__(self, *, thresholds, width: float) -> None:
        super().__init__()
        z = _as_float64_vector("thresholds", thresholds)
        self.width = check_positive("width", width)
        q = z.numel()
        if q > 1:
            gap = float((z[1:] - z[:-1]).min())
            if not self.width < gap:
                raise ValueError(f"width must lie in (0, {gap:.6g}) (the smallest gap between thresholds), "
                                 f"got {width!r}")
        self.q = q
        self.register_buffer("thresholds", z)
        self.register_buffer("shift_weight", torch.ones(q, dtype=torch.float64))
        self.register_buffer("shift_bias", -z.clone())
        self.register_buffer("scale_weight", torch.full((q,), 1.0 / self.width, dtype=torch.float64))
        self.register_buffer("scale_bias", torch.full((q,), 0.5, dtype=torch.float64))
        self.register_buffer("flip_weight", torch.full((q,), -1.0, dtype=torch.float64))
        self.register_buffer("flip_bias", torch.ones(q, dtype=torch.float64))
        cur = torch.ones(q + 1, dtype=torch.float64)
        cur[q] = 0.0
        prev = torch.full((q + 1,), -1.0, dtype=torch.float64)
        prev[0] = 0.0
        out_bias = torch.zeros(q + 1, dtype=torch.float64)
        out_bias[q] = 1.0
        self.register_buffer("out_weight_cur", cur)  # S_i <- s_i   (i = 1..q)
        self.register_buffer("out_weight_prev", prev)  # S_i <- s_{i-1} (i = 2..q+1)
        self.register_buffer("out_bias", out_bias)

    def _check(self, t: torch.Tensor) -> torch.Tensor:
        t = torch.as_tensor(t)
        if t.ndim == 2 and t.shape[1] == 1:
            t = t[:, 0]
        if t.ndim != 1:
            raise ValueError(f"t must have shape (n,) or (n, 1), got {tuple(t.shape)}")
        if not bool(torch.isfinite(t).all()):
            raise ValueError("t must be finite (no NaN or infinity)")
        return t.to(torch.float64)

    def hidden(self, t: torch.Tensor) -> torch.Tensor:
        """``s_i = 1 - f(t; z_i)``: ``(n,)`` -> ``(n, q)`` float64 (the second hidden ReLU layer)."""
        t = self._check(t)
        u = t[:, None] * self.shift_weight + self.shift_bias
        r = torch.relu(u * self.scale_weight + self.scale_bias)
        return torch.relu(r * self.flip_weight + self.flip_bias)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        s = self.hidden(t)
        zero = torch.zeros(s.shape[0], 1, dtype=torch.float64)
        s_cur = torch.cat([s, zero], dim=1)
        s_prev = torch.cat([zero, s], dim=1)
        return s_cur * self.out_weight_cur + s_prev * self.out_weight_prev + self.out_bias

    def interval(self, t: torch.Tensor) -> torch.Tensor:
        """Reference interval index ``#{i : t >= z_i}`` in {0..q}: ``(n,)`` int64."""
        t = self._check(t)
        return torch.searchsorted(self.thresholds, t.contiguous(), right=True)

    def target(self, t: torch.Tensor) -> torch.Tensor:
        """Reference: the one-hot of ``interval(t)``, ``(n, q + 1)`` float64."""
        return nn.functional.one_hot(self.interval(t), self.q + 1).to(torch.float64)

    def ramp_mask(self, t: torch.Tensor) -> torch.Tensor:
        """``(n,)`` bool: t lies on a centred ramp ``(z_i - w/2, z_i + w/2)`` (evaluated with the intact
        circuit's float64 operations), where S may not be one-hot. Off it, ``forward == target`` exactly."""
        t = self._check(t)
        v = (t[:, None] - self.thresholds) * (1.0 / self.width)
        return ((v > -0.5) & (v < 0.5)).any(dim=1)
