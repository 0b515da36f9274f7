r"""A mixture of T Gaussians folded into one ReLU network by a selector on a 1-D seed (Arora, Ge, Liang, Ma &
Zhang 2017, Theorem 4.3 and the seed's "Theorem 2"; ``docs/papers/agl17.md``).

The ideal generator draws a component uniformly and outputs it: :math:`G(h, g) = c_{\iota(h)} + s\,g` where
:math:`\iota(h)` is the interval of h ~ N(0, 1) among the T-quantiles of N(0, 1) (so each component has
probability exactly 1/T) and g ~ N(0, I_d) is the components' shared noise. The folded network computes
every component and gates all but the selected one to zero by subtracting :math:`K(1 - S_i(h))` before its
last ReLU, with the selector S of Lemma 3 (:class:`~ganlimits.constructions.Selector`, reused here).

Shape letters: ``n`` samples, ``d`` output dimension, ``T`` mixture components, ``q = T - 1`` thresholds.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import special
from torch import nn

from ganlimits.theory import check_allocation, check_count, check_number, check_open_unit
from ganlimits.theory.agl17 import (
    agl17_selector_width,
    normal_quantile_thresholds,
    selector_ramp_bound,
    selector_ramp_mass,
)

from ._checks import as_float64, check_generator
from ._selector import Selector
from ._targets import GaussianMixtureTarget, Target

__all__ = ["FoldedMixtureGenerator", "mixture_generator_from_target", "mixture_generator_from_sample"]

_CHUNK_ELEMENTS = 1 << 22  # elements of one (rows, T, d) block of the literal network: ~32 MB of float64


class FoldedMixtureGenerator(nn.Module):
    r"""One ReLU network whose output law is within TV ``mismatch_probability()`` of a uniform mixture of T
    Gaussians (Arora, Ge, Liang, Ma & Zhang 2017, Theorem 4.3; ``docs/papers/agl17.md``).

    .. math::

        G(h, g) = c_{\iota(h)} + s\,g, \qquad \iota(h) = \#\{i : \tau_i \le h\}, \quad
        \tau_i = \Phi^{-1}(i/T),\ i = 1..T-1,

        \hat G(h, g) = \sum_{i=1}^{T} \Big[\operatorname{ReLU}\big(c_i + s g - K(1 - S_i(h))\big)
        - \operatorname{ReLU}\big(-c_i - s g - K(1 - S_i(h))\big)\Big]

    with seeds h ~ N(0, 1) (the selector's 1-D seed) and g ~ N(0, I_d), S the selector of Lemma 3 with centred
    ramps of width w, and K > 0 the gate. Where S(h) is one-hot (h off every ramp) and every gated
    pre-activation stays below K, :math:`\hat G = G` exactly: the selected component passes as
    ReLU(x) - ReLU(-x) = x and every other one is cut to 0.

    Layers (all weights deterministic): the selector (``selector.num_nonzero_weights()``), then for every
    component i and coordinate j two units with weight ±s from g_j, weight K from 1 - S_i and bias ±c_ij,
    then the output sum with weights ±1. For T = 1 there is no selector and no gate (S_1 is identically 1).

    Parameters (keyword-only)
    -------------------------
    centres:
        (T, d) component means :math:`c_i`, finite.
    std:
        s > 0, the components' common standard deviation.
    tv_budget:
        :math:`\delta' \in (0, 1]`, the TV budget of the fold; fixes the width :math:`w = \delta'/(100 T)`.
    width:
        overrides w (must be smaller than every gap between thresholds); ``None`` uses the theorem's width.
    K:
        the gate; ``None`` chooses :math:`K = \max_{ij}|c_{ij}| + s\,z` with
        :math:`z = -\Phi^{-1}(\texttt{gate\_tail}/(2d))`, so that Pr[some gated pre-activation exceeds K]
        <= ``gate_tail``.
    gate_tail:
        in (0, 1), used only when K is ``None``.

    Deviation: Theorem 4.3 takes generators with bounded outputs, so a fixed K gates them exactly; Gaussian
    components are unbounded, so the gate fails with a small probability, which :meth:`mismatch_probability`
    computes exactly and adds to the ramp mass.
    """

    def __init__(
        self,
        *,
        centres,
        std: float,
        tv_budget: float = 0.01,
        width: float | None = None,
        K: float | None = None,
        gate_tail: float = 1e-12,
    ) -> None:
        super().__init__()
        c = as_float64("centres", centres)
        if c.ndim != 2 or c.shape[0] < 1 or c.shape[1] < 1:
            raise ValueError(f"centres must have shape (T, d) with T >= 1 and d >= 1, got {tuple(c.shape)}")
        if not torch.isfinite(c).all():
            raise ValueError("centres must be finite (no NaN or infinity)")
        T, d = c.shape
        self.T, self.dim = int(T), int(d)
        self.std = check_number("std", std, low=0, low_open=True)
        self.tv_budget = check_open_unit("tv_budget", tv_budget)  # as MemorizingGenerator: delta in (0, 1)
        self.thresholds = torch.from_numpy(normal_quantile_thresholds(T=self.T))  # (q,) float64
        gaps = torch.diff(self.thresholds)
        max_width = float(gaps.min()) if gaps.numel() else math.inf
        if width is None:
            self.width = agl17_selector_width(tv_budget=self.tv_budget, T=self.T)
        else:
            self.width = check_number("width", width, low=0, high=max_width, low_open=True, high_open=True)
        if K is None:
            tail = check_open_unit("gate_tail", gate_tail)
            K = float(c.abs().max()) + self.std * float(-special.ndtri(tail / (2 * self.dim)))
        self.K = check_number("K", K, low=0, low_open=True)

        self.selector = Selector(thresholds=self.thresholds, width=self.width) if self.T > 1 else None
        sign = torch.tensor([1.0, -1.0], dtype=torch.float64).view(2, 1, 1)
        ones = torch.ones(2, self.T, self.dim, dtype=torch.float64)
        # Unit (sign, i, j): pre = sign * (s g_j + c_ij) - K (1 - S_i);  output_j = sum sign * ReLU(pre).
        self.register_buffer("centres", c.clone())
        self.register_buffer("noise_weight", sign * self.std * ones)  # (2, T, d)
        self.register_buffer("unit_bias", sign * c.unsqueeze(0).expand(2, T, d).clone())  # (2, T, d)
        gate = self.K * ones if self.T > 1 else torch.zeros_like(ones)
        self.register_buffer("gate_weight", gate)  # (2, T, d), applied to 1 - S_i
        self.register_buffer("output_weight", sign * ones)  # (2, T, d)

    # ---- the network -------------------------------------------------------------------------------------
    def _check_seeds(self, h: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(h, torch.Tensor) or not isinstance(g, torch.Tensor):
            raise ValueError("h and g must be torch tensors")
        h = h.to(torch.float64).reshape(-1)
        if g.ndim != 2 or g.shape != (h.shape[0], self.dim):
            raise ValueError(
                f"g must have shape (n, {self.dim}) with n = len(h) = {h.shape[0]}, got {tuple(g.shape)}"
            )
        g = g.to(torch.float64)
        if not (torch.isfinite(h).all() and torch.isfinite(g).all()):
            raise ValueError("h and g must be finite (no NaN or infinity)")
        return h, g

    def selector_output(self, h: torch.Tensor) -> torch.Tensor:
        """S(h): (n,) -> (n, T) float64 (the column of ones when T = 1)."""
        h = h.to(torch.float64).reshape(-1)
        if self.selector is None:
            return torch.ones(h.shape[0], 1, dtype=torch.float64)
        return self.selector(h)

    def _literal(self, h: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        n = h.shape[0]
        out = torch.empty(n, self.dim, dtype=torch.float64)
        rows = max(1, _CHUNK_ELEMENTS // (2 * self.T * self.dim))
        for start in range(0, n, rows):
            sl = slice(start, start + rows)
            off = 1.0 - self.selector_output(h[sl])  # (r, T)
            own = self.noise_weight * g[sl, None, None, :] + self.unit_bias  # (r, 2, T, d)
            pre = own - self.gate_weight * off[:, None, :, None]
            out[sl] = (self.output_weight * torch.relu(pre)).sum(dim=(1, 2))
        return out

    def forward(self, h: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """The literal network, evaluated in row chunks. ``h``: (n,) selector seed; ``g``: (n, d) noise.
        Returns (n, d) float64.
        """
        h, g = self._check_seeds(h, g)
        return self._literal(h, g)

    def fast(self, h: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """The same function as :meth:`forward` in O(n d) for the rows where it is known in closed form.

        Rows with h off every ramp and every pre-activation below K equal :meth:`target` bit for bit (the
        selector is exactly one-hot there, the gated units are exactly 0, and the selected unit computes the
        same float64 operations as the target); the other rows (on a ramp, or where the gate might fail) go
        through the literal network. Valid for the intact construction (tests replace ``selector`` to build
        negative controls; evaluate those with :meth:`forward`). ``h``: (n,); ``g``: (n, d).
        """
        h, g = self._check_seeds(h, g)
        out = self._ideal(h, g)
        if self.T == 1:
            return out
        reach = g.abs().max(dim=1).values * self.std + float(self.centres.abs().max())
        hard = self.ramp_mask(h) | (reach >= self.K)
        if bool(hard.any()):
            out[hard] = self._literal(h[hard], g[hard])
        return out

    # ---- the ideal mixture and the exact mismatch ---------------------------------------------------------
    def component(self, h: torch.Tensor) -> torch.Tensor:
        r""":math:`\iota(h)`: (n,) -> (n,) int64, the component the ideal mixture selects (float64)."""
        h = h.to(torch.float64).reshape(-1)
        return torch.searchsorted(self.thresholds, h, right=True)

    def _ideal(self, h: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        return self.centres.index_select(0, self.component(h)) + self.std * g

    def target(self, h: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        r"""The ideal mixture sample for the same seeds: :math:`c_{\iota(h)} + s g`, (n, d) float64."""
        h, g = self._check_seeds(h, g)
        return self._ideal(h, g)

    def ramp_mask(self, h: torch.Tensor) -> torch.Tensor:
        """(n,) bool: h lies on a centred selector ramp, where S(h) may not be one-hot; off it S is exactly
        one-hot. The same test as ``Selector.ramp_mask`` (same float64 operations), applied only to the two
        thresholds around each h (the ramps are disjoint), so it costs O(n log T) instead of O(n T).
        """
        h = h.to(torch.float64).reshape(-1)
        if self.selector is None:
            return torch.zeros(h.shape[0], dtype=torch.bool)
        tau = self.selector.thresholds
        right = torch.searchsorted(tau, h.contiguous()).clamp(max=tau.numel() - 1)
        left = (right - 1).clamp(min=0)
        mask = torch.zeros(h.shape[0], dtype=torch.bool)
        for idx in (left, right):
            v = (h - tau[idx]) * (1.0 / self.selector.width)
            mask |= (v > -0.5) & (v < 0.5)
        return mask

    def ramp_mass(self) -> float:
        r"""Exact :math:`\Pr_h[S(h) \text{ not one-hot}] = \sum_i [\Phi(\tau_i + \tfrac w2)
        - \Phi(\tau_i - \tfrac w2)]` (float64)."""
        if self.T == 1:
            return 0.0
        return selector_ramp_mass(thresholds=self.thresholds.numpy(), width=self.width)

    def ramp_bound(self) -> float:
        r"""Lemma 3's bound :math:`q w/\sqrt{2\pi}` on :meth:`ramp_mass`."""
        return selector_ramp_bound(q=self.T - 1, w=self.width)

    def _interval_masses_off_ramp(self) -> np.ndarray:
        """(T,) Pr[h in interval i and off every ramp], float64."""
        tau = self.thresholds.numpy()
        half = self.width / 2
        lo = np.concatenate([[-np.inf], tau + half])
        hi = np.concatenate([tau - half, [np.inf]])
        return np.where(lo > 0, special.ndtr(-lo) - special.ndtr(-hi), special.ndtr(hi) - special.ndtr(lo))

    def gate_failure_probability(self) -> float:
        r"""Exact Pr[h off every ramp and some non-selected unit has a pre-activation above 0].

        .. math::

            \sum_i a_i \Big(1 - \prod_j \Pr\big[-K < c_{i'j} + s g_j < K\ \ \forall i' \ne i\big]\Big),

        :math:`a_i` = Pr[h in interval i, off the ramps]; each factor is a difference of two normal CDFs at
        the largest and smallest :math:`c_{i'j}`, :math:`i' \ne i`; 1 - prod is computed as -expm1(sum log1p).
        """
        if self.T == 1:
            return 0.0
        c = self.centres.numpy()
        top2 = np.sort(c, axis=0)  # (T, d) ascending per coordinate
        rows = np.arange(self.T)[:, None]
        largest = np.where(rows == c.argmax(axis=0)[None, :], top2[-2][None, :], top2[-1][None, :])
        smallest = np.where(rows == c.argmin(axis=0)[None, :], top2[1][None, :], top2[0][None, :])
        outside = special.ndtr((largest - self.K) / self.std) + special.ndtr((-self.K - smallest) / self.std)
        with np.errstate(divide="ignore"):  # log1p(-1) = -inf: a certain failure
            fail = -np.expm1(np.log1p(-np.minimum(outside, 1.0)).sum(axis=1))  # (T,)
        return float((self._interval_masses_off_ramp() * fail).sum())

    def mismatch_probability(self) -> float:
        r"""Exact :math:`\Pr_{h,g}[\hat G(h, g) \ne G(h, g)]` = ramp mass + gate failure, an upper bound on
        :math:`d_{TV}(\hat G(\nu), \text{mixture})` (coupling inequality, as in Theorem 4.3).

        On a ramp the output is a soft-thresholded blend of two neighbouring components, which differs from
        G with probability 1; off the ramps it differs exactly when the gate fails.
        """
        return self.ramp_mass() + self.gate_failure_probability()

    # ---- sampling and size ---------------------------------------------------------------------------------
    def sample_seeds(self, n: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw the seeds: first h (n,) ~ N(0, 1), then g (n, d) ~ N(0, I), both float64."""
        n = check_count("n", n, low=1)
        check_allocation("n", n, elements=n * (self.dim + 1))
        check_generator(generator)
        h = torch.randn(int(n), dtype=torch.float64, generator=generator)
        g = torch.randn(int(n), self.dim, dtype=torch.float64, generator=generator)
        return h, g

    def sample(self, n: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw n outputs of the network (through :meth:`fast`, the same function as :meth:`forward`).

        Returns ``(x, labels)`` like a target: x (n, d) float64, labels (n,) int64 = the selected component.
        """
        h, g = self.sample_seeds(n, generator=generator)
        return self.fast(h, g), self.component(h)

    def num_nonzero_weights(self) -> int:
        """Non-zero weights (biases excluded): the selector's, then ±s, K and ±1 for each of the 2 T d
        units.

        Equals ``selector.num_nonzero_weights() + 6 T d`` for T >= 2 and ``4 d`` for T = 1.
        """
        layers = (self.noise_weight, self.gate_weight, self.output_weight)
        own = sum(int(torch.count_nonzero(b)) for b in layers)
        return own + (0 if self.selector is None else int(self.selector.num_nonzero_weights()))

    def max_abs_weight(self) -> float:
        """Largest weight magnitude: the gate K, the noise scale s, or the selector's 1/w slopes."""
        layers = (self.noise_weight, self.gate_weight, self.output_weight)
        own = max(float(t.abs().max()) for t in layers)
        return max(own, 0.0 if self.selector is None else self.selector.max_abs_weight())

    def extra_repr(self) -> str:
        return f"T={self.T}, d={self.dim}, std={self.std:g}, width={self.width:.3g}, K={self.K:.4g}"


def mixture_generator_from_target(
    target: Target, *, T: int, std: float, generator: torch.Generator, tv_budget: float = 0.01, **kwargs
) -> FoldedMixtureGenerator:
    r"""The folded mixture of T Gaussians N(c_i, s^2 I) with centres drawn from an approximation of ``target``
    (the seed's "Theorem 2": a finite sample of an infinite Gaussian mixture).

    For a :class:`GaussianMixtureTarget` with per-coordinate std :math:`\sigma_j \ge s` the centres are drawn
    from the same mixture with std :math:`\sqrt{\sigma_j^2 - s^2}`, so the infinite mixture is the target
    exactly:

    .. math::

        \mathbb E_{c_1..c_T}\Big[\tfrac1T \sum_i \mathcal N(c_i, s^2 I)\Big] = \sum_k w_k\,
        \mathcal N(a_k, \operatorname{diag}(\sigma^2_j - s^2) + s^2 I) = \mu.

    For any other target the centres are T target samples and the limit is :math:`\mu * \mathcal N(0, s^2 I)`.
    Draw order: T component indices, then one (T, d) normal block. ``kwargs`` go to the constructor.
    """
    T = check_count("T", T, low=1)
    check_allocation("T", T, elements=6 * T * target.dim if isinstance(target, Target) else T)
    s = check_number("std", std, low=0, low_open=True)
    if isinstance(target, GaussianMixtureTarget):
        sigma = target.std
        if bool((sigma < s).any()):
            raise ValueError(
                f"std must be <= the target's smallest per-coordinate std {float(sigma.min()):g}, got {s}"
            )
        comp = target.sample_components(int(T), generator=generator)
        spread = torch.sqrt(torch.clamp(sigma**2 - s**2, min=0.0))
        centres = target.means.index_select(0, comp)
        centres = centres + spread * torch.randn(int(T), target.dim, dtype=torch.float64, generator=generator)
    elif isinstance(target, Target):
        centres, _ = target.sample(int(T), generator=generator)
    else:
        raise ValueError(
            f"target must be a Target (e.g. grid() or digits(jitter=...)), got {type(target).__name__}"
        )
    return FoldedMixtureGenerator(centres=centres, std=s, tv_budget=tv_budget, **kwargs)


def mixture_generator_from_sample(
    sample, *, T: int, std: float, n_components: int, generator: torch.Generator, tv_budget: float = 0.01,
    **kwargs,
) -> FoldedMixtureGenerator:
    r"""The folded mixture of T Gaussians N(c_i, s^2 I) whose centres are drawn from an approximation of μ
    LEARNED FROM A FINITE SAMPLE (the seed's proof sketch of "Theorem 2": approximate μ by a mixture of
    Gaussians, sample T components of it, fold them with a selector), never from μ's own parameters.

    A Gaussian mixture with ``n_components`` diagonal components (weights :math:`\pi_k`, means :math:`a_k`,
    variances :math:`\sigma^2_{kj}`) is fitted to ``sample`` (n, d) by EM (scikit-learn ``GaussianMixture``,
    k-means initialisation, its seed drawn from ``generator``). Its infinite-mixture form has components
    N(c, s^2 I) with c drawn from :math:`\sum_k \pi_k N(a_k, \operatorname{diag}(\sigma^2_{kj} - s^2))`, so that

    .. math::

        \mathbb E_{c_1..c_T}\Big[\tfrac1T \sum_i \mathcal N(c_i, s^2 I)\Big] = \hat\mu_{\text{fit}}
        = \sum_k \pi_k\, \mathcal N\big(a_k, \operatorname{diag}(\sigma^2_{kj})\big).

    Deviation: where a fitted variance is below s^2 the centre spread is 0 there, and the limit has variance s^2
    in that coordinate instead of :math:`\sigma^2_{kj}`. Draw order from ``generator``: the EM seed, T component
    indices (uniforms), one (T, d) normal block. ``kwargs`` go to :class:`FoldedMixtureGenerator`.
    """
    from sklearn.mixture import GaussianMixture

    T = check_count("T", T, low=1)
    n_components = check_count("n_components", n_components, low=1)
    s = check_number("std", std, low=0, low_open=True)
    x = as_float64("sample", sample)
    if x.ndim != 2 or x.shape[0] < n_components or not torch.isfinite(x).all():
        raise ValueError(f"sample must be a finite (n, d) array with n >= n_components = {n_components}, got shape "
                         f"{tuple(x.shape)}")
    check_allocation("T", T, elements=6 * T * x.shape[1])
    check_generator(generator)
    em_seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
    fit = GaussianMixture(n_components=int(n_components), covariance_type="diag", random_state=em_seed,
                          reg_covar=1e-6).fit(x.numpy())
    weights = torch.from_numpy(fit.weights_).to(torch.float64)
    cum = torch.cumsum(weights / weights.sum(), 0)
    comp = torch.searchsorted(cum, torch.rand(int(T), dtype=torch.float64, generator=generator), right=True)
    comp = comp.clamp_(max=int(n_components) - 1)
    means = torch.from_numpy(fit.means_).to(torch.float64)
    spread = torch.sqrt(torch.clamp(torch.from_numpy(fit.covariances_).to(torch.float64) - s**2, min=0.0))
    noise = torch.randn(int(T), x.shape[1], dtype=torch.float64, generator=generator)
    centres = means.index_select(0, comp) + spread.index_select(0, comp) * noise
    return FoldedMixtureGenerator(centres=centres, std=s, tv_budget=tv_budget, **kwargs)
