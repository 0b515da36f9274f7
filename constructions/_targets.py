"""Target distributions: the laws the generators are compared with, behind one sampling interface.

Every target has ``sample(n, *, generator) -> (x, labels)`` with ``x`` a float64 tensor of shape ``(n, d)``
and ``labels`` an int64 tensor of shape ``(n,)`` (mixture component or digit class) or ``None``, and the
attributes ``dim`` (= d), ``n_classes`` (or ``None``), ``support`` (the number of distinct points of a finite
target, ``math.inf`` for unbounded support; every report states it next to m: ``docs/design.md``, "Target
distributions: mind their support") and
``description`` (one line, every scale stated).

Shape letters: ``n`` samples, ``d`` dimension of a sample, ``c`` mixture components, ``d_code`` code
dimension.

Randomness comes only from the ``torch.Generator`` passed to ``sample``; sampling is vectorised over n.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from functools import lru_cache

import numpy as np
import torch

from ganlimits.theory._validate import check_allocation, check_count, check_number

from ._checks import as_float64, check_generator

__all__ = [
    "Target",
    "GaussianMixtureTarget",
    "DigitsTarget",
    "gaussian_mixture",
    "digits",
    "ring",
    "grid",
    "mixture_1200d",
]

_LOG_2PI = math.log(2 * math.pi)
_CHUNK_ELEMENTS = 1 << 22  # elements of one (rows, c, d) block in log_density: ~32 MB of float64

_MIXTURE_1200D_MEANS = (-1.0, -0.5, 0.0, 0.5, -2.0, -2.5, 10.0, 0.25, -13.0, -5.5)
_MIXTURE_1200D_DIM = 1200
_MIXTURE_1200D_ACTIVE = 700


class Target(ABC):
    """A law on R^d with the project's sampling interface.

    Subclasses set ``dim``, ``n_classes``, ``support`` and ``description`` and implement ``_sample``.
    """

    dim: int
    n_classes: int | None
    support: float
    description: str

    def sample(self, n: int, *, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Draw ``n`` points.

        Returns ``(x, labels)``: ``x`` float64 of shape (n, d); ``labels`` int64 of shape (n,) or ``None``.
        """
        n = check_count("n", n, low=1)
        check_allocation("n", n, elements=n * self.dim)
        return self._sample(n, check_generator(generator))

    @abstractmethod
    def _sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.description})"


class GaussianMixtureTarget(Target):
    r"""A finite mixture of axis-aligned Gaussians with a shared per-coordinate standard deviation.

    .. math::

        \mu = \sum_{i=1}^{c} w_i \, \mathcal N\big(a_i, \operatorname{diag}(s_1^2, \dots, s_d^2)\big)

    Coordinates with :math:`s_j = 0` are degenerate: there every draw equals its component's mean exactly.
    ``log_density`` is then the density with respect to Lebesgue measure on the coordinates with
    :math:`s_j > 0` times counting measure on the degenerate ones (so it is :math:`-\infty` off the means'
    values there); when every :math:`s_j = 0` it is the log of the probability mass.

    Parameters (keyword-only)
    -------------------------
    means:
        (c, d) component means :math:`a_i`, finite.
    std:
        a number, or a (d,) vector of per-coordinate standard deviations :math:`s_j \ge 0`.
    weights:
        (c,) non-negative mixture weights (normalised here; at least one > 0); ``None`` for equal weights.
    component_labels:
        (c,) non-negative integer label of each component (default: the component index).
    n_classes:
        number of label classes (default: ``max(component_labels) + 1``).
    description:
        one-line description; a generic one stating c, d and the scales is built when ``None``.

    Draw order inside ``sample``: ``n`` uniforms in float64 (component by inverse CDF of the weights), then
    one standard normal block of shape (n, number of coordinates with :math:`s_j > 0`).
    """

    def __init__(
        self,
        *,
        means,
        std,
        weights=None,
        component_labels=None,
        n_classes: int | None = None,
        description: str | None = None,
    ) -> None:
        mu = as_float64("means", means)
        if mu.ndim != 2 or mu.shape[0] < 1 or mu.shape[1] < 1:
            raise ValueError(f"means must have shape (c, d) with c >= 1 and d >= 1, got {tuple(mu.shape)}")
        if not torch.isfinite(mu).all():
            raise ValueError("means must be finite (no NaN or infinity)")
        c, d = mu.shape

        s = as_float64("std", std)
        if s.ndim == 0:
            s = s.expand(d).clone()
        if s.shape != (d,):
            raise ValueError(f"std must be a number or a vector of shape ({d},), got shape {tuple(s.shape)}")
        if not torch.isfinite(s).all() or (s < 0).any():
            raise ValueError("std must be finite and >= 0 in every coordinate")

        if weights is None:
            w = torch.full((c,), 1.0 / c, dtype=torch.float64)
        else:
            w = as_float64("weights", weights)
            if w.shape != (c,):
                raise ValueError(f"weights must have shape ({c},) (one per component), got {tuple(w.shape)}")
            if not torch.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
                raise ValueError("weights must be finite, >= 0, and not all 0")
            w = w / w.sum()

        if component_labels is None:
            lab = torch.arange(c, dtype=torch.int64)
        else:
            lab_f = as_float64("component_labels", component_labels)
            if lab_f.shape != (c,) or (lab_f < 0).any() or (lab_f != lab_f.round()).any():
                raise ValueError(f"component_labels must be {c} non-negative integers (one per component)")
            lab = lab_f.to(torch.int64)
        k = int(lab.max()) + 1
        if n_classes is None:
            n_classes = k
        elif isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) or n_classes < k:
            raise ValueError(
                f"n_classes must be an integer >= max(component_labels) + 1 = {k}, got {n_classes!r}"
            )

        self._means = mu
        self._std = s
        self._weights = w
        self._cum_weights = torch.cumsum(w, 0)
        self._last_positive = int(torch.nonzero(w > 0).max())
        self._component_labels = lab
        self._active = s > 0
        self._active_index = torch.nonzero(self._active).flatten()
        self.dim = int(d)
        self.n_components = int(c)
        self.n_classes = int(n_classes)
        if bool(self._active.any()):
            self.support = math.inf
        else:
            self.support = int(torch.unique(mu[w > 0], dim=0).shape[0])
        if description is None:
            same = bool((s == s[0]).all())
            scales = f"std {float(s[0]):g}" if same else f"std in [{float(s.min()):g}, {float(s.max()):g}]"
            weighting = "equally weighted" if weights is None else "weighted"
            description = f"{c} {weighting} Gaussians ({scales}) in R^{d}"
        self.description = description

    @property
    def means(self) -> torch.Tensor:
        """(c, d) float64 component means (a copy)."""
        return self._means.clone()

    @property
    def weights(self) -> torch.Tensor:
        """(c,) float64 normalised weights (a copy)."""
        return self._weights.clone()

    @property
    def std(self) -> torch.Tensor:
        """(d,) float64 per-coordinate standard deviations (a copy)."""
        return self._std.clone()

    @property
    def component_labels(self) -> torch.Tensor:
        """(c,) int64 label of each component (a copy)."""
        return self._component_labels.clone()

    def sample_components(self, n: int, *, generator: torch.Generator) -> torch.Tensor:
        """(n,) int64 component indices drawn from the weights (inverse CDF of ``n`` float64 uniforms)."""
        n = check_count("n", n, low=1)
        check_allocation("n", n, elements=n)
        u = torch.rand(n, dtype=torch.float64, generator=check_generator(generator))
        comp = torch.searchsorted(self._cum_weights, u, right=True)
        return comp.clamp_(max=self._last_positive)

    def _sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        comp = self.sample_components(n, generator=generator)
        x = self._means.index_select(0, comp)
        n_active = self._active_index.numel()
        if n_active:
            eps = torch.randn(n, n_active, dtype=torch.float64, generator=generator)
            if n_active == self.dim:
                x += eps * self._std
            else:  # degenerate coordinates keep the mean exactly
                x.index_add_(1, self._active_index, eps * self._std[self._active_index])
        return x, self._component_labels[comp]

    def log_density(self, x: torch.Tensor) -> torch.Tensor:
        r"""Exact log-density of the mixture at each row of ``x`` (float64, computed in row chunks).

        .. math::

            \log p(x) = \operatorname{logsumexp}_i \Big[\log w_i - \sum_{j: s_j > 0}
            \Big(\tfrac{(x_j - a_{ij})^2}{2 s_j^2} + \log s_j + \tfrac12 \log 2\pi\Big)\Big]
            \quad (\text{a term is } -\infty \text{ when } x_j \ne a_{ij} \text{ for some } s_j = 0)

        ``x``: (n, d), finite. Returns (n,) float64.
        """
        if not isinstance(x, torch.Tensor):
            x = torch.as_tensor(np.asarray(x, dtype=np.float64))
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"x must have shape (n, {self.dim}), got {tuple(x.shape)}")
        x = x.detach().to(torch.float64)
        if not torch.isfinite(x).all():
            raise ValueError("x must be finite (no NaN or infinity)")
        act, deg = self._active, ~self._active
        s = self._std[act]
        mu_a, mu_d = self._means[:, act], self._means[:, deg]
        x_a, x_d = x[:, act], x[:, deg]
        const = -0.5 * int(act.sum()) * _LOG_2PI - torch.log(s).sum() + torch.log(self._weights)  # (c,)
        n, c = x.shape[0], self.n_components
        rows = max(1, _CHUNK_ELEMENTS // (c * max(self.dim, 1)))
        out = torch.empty(n, dtype=torch.float64)
        for start in range(0, n, rows):
            sl = slice(start, start + rows)
            z = (x_a[sl, None, :] - mu_a[None]) / s  # (r, c, d_active)
            q = const - 0.5 * (z * z).sum(-1)
            if bool(deg.any()):
                mismatch = (x_d[sl, None, :] != mu_d[None]).any(-1)
                q = q.masked_fill(mismatch, -math.inf)
            out[sl] = torch.logsumexp(q, dim=1)
        return out


@lru_cache(maxsize=1)
def _digit_arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.asarray(bunch.data, dtype=np.float64) / 16.0
    labels = np.asarray(bunch.target, dtype=np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


class DigitsTarget(GaussianMixtureTarget):
    r"""The 8×8 digit images shipped with scikit-learn, scaled to [0, 1], optionally Gaussian-smoothed.

    The "real-life images" of Arora, Risteski & Zhang 2017 (§3). With jitter :math:`h`:

    .. math::

        \mu = \frac{1}{1797} \sum_{i=1}^{1797} \mathcal N\big(\tilde x_i, h^2 I_{64}\big), \qquad
        \tilde x_i = \text{image}_i / 16 \in [0, 1]^{64}

    With :math:`h = 0` this is the empirical law of the 1,797 images (support 1,797); with :math:`h > 0` a
    kernel density of unbounded support. Claims need :math:`h > 0` (``docs/design.md``, "Target distributions:
    mind their support"): a memorizing
    generator with m near 1,797 reproduces the empirical law itself. Labels are digit classes (0..9).

    Deviation: the paper's image distribution is an unknown continuous law; this project uses its kernel
    density estimate on the scikit-learn digits, with the jitter stated in every description.
    """

    def __init__(self, *, jitter: float = 0.0) -> None:
        h = check_number("jitter", jitter, low=0)
        images, labels = _digit_arrays()
        if h > 0:
            desc = (
                f"scikit-learn 8x8 digits (1797 images, pixels /16 into [0, 1], R^64), each draw a uniform "
                f"image plus N(0, {h:g}^2) per-pixel jitter (kernel density, unbounded support)"
            )
        else:
            desc = (
                "scikit-learn 8x8 digits (1797 images, pixels /16 into [0, 1], R^64), uniform over the images"
            )
        super().__init__(means=images, std=h, component_labels=labels, n_classes=10, description=desc)
        self.jitter = h

    @property
    def images(self) -> torch.Tensor:
        """(1797, 64) float64 images in [0, 1] (a copy)."""
        return self.means

    @property
    def labels(self) -> torch.Tensor:
        """(1797,) int64 digit class of each image (a copy)."""
        return self.component_labels


def gaussian_mixture(*, means, std, weights=None) -> GaussianMixtureTarget:
    """The general finite Gaussian mixture (see :class:`GaussianMixtureTarget`); labels = component index.

    ``means`` (c, d); ``std`` a number or (d,) vector, >= 0; ``weights`` (c,) or ``None`` for equal weights.
    """
    return GaussianMixtureTarget(means=means, std=std, weights=weights)


def digits(*, jitter: float = 0.0) -> DigitsTarget:
    """The scikit-learn 8×8 digits scaled to [0, 1] (d = 64), with optional N(0, jitter²) kernel smoothing."""
    return DigitsTarget(jitter=jitter)


def ring(*, n_modes: int = 8, radius: float = 1.0, std: float = 0.01) -> GaussianMixtureTarget:
    r"""``n_modes`` equally weighted Gaussians on a circle (VEEGAN's 2-D ring; ``docs/papers/veegan.md``); labels
    = mode. The default std 0.01 is PacGAN's, the one the lab's ``lab_target("ring")`` uses.

    .. math::

        a_i = r\,(\cos(2\pi i / K), \sin(2\pi i / K)), \quad i = 0..K-1, \qquad
        \mu = \tfrac1K \sum_i \mathcal N(a_i, s^2 I_2)
    """
    if isinstance(n_modes, bool) or not isinstance(n_modes, (int, np.integer)) or n_modes < 1:
        raise ValueError(f"n_modes must be an integer >= 1, got {n_modes!r}")
    check_allocation("n_modes", n_modes, elements=2 * int(n_modes))
    r = check_number("radius", radius, low=0, low_open=True)
    s = check_number("std", std, low=0)
    angle = 2 * math.pi * torch.arange(int(n_modes), dtype=torch.float64) / int(n_modes)
    means = r * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    desc = f"{int(n_modes)} equally weighted Gaussians (std {s:g}) on a circle of radius {r:g} in R^2"
    return GaussianMixtureTarget(means=means, std=s, description=desc)


def grid(*, std: float = 0.05) -> GaussianMixtureTarget:
    r"""25 equally weighted Gaussians on the grid :math:`\{-4,-2,0,2,4\}^2` (VEEGAN's 2-D grid;
    ``docs/papers/veegan.md``).

    .. math::

        a_{5i + j} = (-4 + 2i, -4 + 2j), \quad i, j = 0..4, \qquad
        \mu = \tfrac1{25} \sum_\ell \mathcal N(a_\ell, s^2 I_2)

    Labels = mode index ``5 i + j``.
    """
    s = check_number("std", std, low=0)
    ticks = torch.arange(-4.0, 5.0, 2.0, dtype=torch.float64)
    means = torch.cartesian_prod(ticks, ticks)
    desc = f"25 equally weighted Gaussians (std {s:g}) on the grid {{-4,-2,0,2,4}}^2 in R^2"
    return GaussianMixtureTarget(means=means, std=s, description=desc)


def mixture_1200d(*, std: float = 1.0) -> GaussianMixtureTarget:
    r"""VEEGAN's high-dimensional mixture (``docs/papers/veegan.md``): 10 equal-weight 700-dimensional components
    in R^1200.

    .. math::

        x = b_i \mathbf 1_{1200} + (s\,\varepsilon_{1..700}, 0_{500}),
        \quad \varepsilon \sim \mathcal N(0, I_{700}),
        \quad b = (-1, -0.5, 0, 0.5, -2, -2.5, 10, 0.25, -13, -5.5)

    Coordinates 700..1199 equal the component's mean exactly. Labels = component index.
    """
    s = check_number("std", std, low=0, low_open=True)
    b = torch.tensor(_MIXTURE_1200D_MEANS, dtype=torch.float64)
    means = b[:, None].expand(len(b), _MIXTURE_1200D_DIM).clone()
    per_coord = torch.zeros(_MIXTURE_1200D_DIM, dtype=torch.float64)
    per_coord[:_MIXTURE_1200D_ACTIVE] = s
    desc = (
        f"10 equally weighted Gaussians in R^1200 (VEEGAN): std {s:g} in coordinates 0..699 and 0 in "
        f"700..1199, component mean b in {{-1,-0.5,0,0.5,-2,-2.5,10,0.25,-13,-5.5}} added to all 1200 "
        f"coordinates"
    )
    return GaussianMixtureTarget(means=means, std=per_coord, description=desc)
