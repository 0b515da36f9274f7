"""Planted cases: generators, encoders and samplers whose relation to a claim is known by construction, used as the
controls of its verdict (Arora, Risteski & Zhang 2017, arXiv 1711.02651, Theorem 1 and Lemma A.2;
``docs/papers/arz17.md``; ``docs/design.md``, "A verdict that could not have failed is a defect").

- :func:`memorizing_generator` — the theorem's own witness G(z) = x̃*_{ι(z)} ⊙ z with m = k^{d'} memorized images;
- :class:`HashedMemoryGenerator` — the same generator with its memory regenerated on demand from a counter-based
  hash, so that m in the millions costs no memory (:func:`hashed_memorizing_generator` builds it);
- :func:`support_one_generator` — every block memorizes the same image (support 1): the easiest violation;
- :class:`FreshGenerator` — a fresh clean draw for every code: (G(z), z) has exactly the law of (x, E(x));
- :class:`CodeDependentGenerator` — the right image marginal, but the clean content chosen by the code (one half
  of the classes when ``|z_1|`` is small, the other half otherwise): the BiGAN joint law broken grossly;
- :class:`PlantedMixture` — a mixture, at a known rate, of two generators (a graded family of violations);
- :class:`LabelLeakingEncoder` — the noise encoder, except that at a known rate it writes the label into the code;
- :class:`ContaminatedTarget` — a sampler that at a known rate returns one fixed image instead of a fresh draw
  (a biased sampler of the memorized images);
- the training lab's planted generators on a Gaussian mixture, failing the way trained runs fail
  (``docs/papers/veegan.md``, "Regime gate"): :class:`OnModesGenerator` (samples on chosen modes, a generator of
  known mode coverage), :class:`DiffuseGenerator` (a diffuse cloud: uniform over the data's box,
  :func:`mixture_box`), :class:`OutOfBoxGenerator` (every sample outside that box, like a generator that follows
  its discriminator's logit out of the data) and :class:`SamplerMixture` (such samplers mixed at known rates).

Shape letters: ``n`` samples, ``d`` image dimension, ``d_code`` code dimension, ``k`` intervals per coordinate,
``m`` = k**d_code memorized images, ``c`` mixture components.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import special

from ganlimits.theory import check_allocation, check_number, check_positive
from ganlimits.theory.arz17 import arz_thm3_block_count

from ._generator import IdealGenerator
from ._noise import NoiseModel
from ._partition import GaussianBlockPartition
from ._targets import GaussianMixtureTarget, Target

__all__ = ["memorizing_generator", "hashed_memorizing_generator", "HashedMemoryGenerator", "support_one_generator",
           "FreshGenerator", "CodeDependentGenerator", "PlantedMixture", "LabelLeakingEncoder", "ContaminatedTarget",
           "class_probabilities", "mixture_box", "OnModesGenerator", "DiffuseGenerator", "OutOfBoxGenerator",
           "SamplerMixture"]

# SplitMix64 (Steele, Lea & Flood 2014): output n of the stream with key s is mix(s + (n + 1) * golden).
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_ELEMENTS = 1 << 16  # normals regenerated at once: bounded temporaries (1200-d rows of 700 normals each)


def _mix(h: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser on a uint64 array, in place (wrapping arithmetic); returns ``h``."""
    t = h >> np.uint64(30)
    h ^= t
    h *= _M1
    np.right_shift(h, np.uint64(27), out=t)
    h ^= t
    h *= _M2
    np.right_shift(h, np.uint64(31), out=t)
    h ^= t
    return h


def _uniforms(key: np.uint64, counters: np.ndarray) -> np.ndarray:
    """Uniforms in the open interval (0, 1), one per uint64 counter: the top 53 bits of SplitMix64 output n
    = ``counters`` of the stream with key ``key``."""
    h = counters.astype(np.uint64) + np.uint64(1)
    h *= _GOLDEN
    h += key
    _mix(h)
    h >>= np.uint64(11)
    u = h.astype(np.float64)
    u += 0.5
    u *= 2.0**-53
    return u


def class_probabilities(target: GaussianMixtureTarget) -> np.ndarray:
    """(n_classes,) float64: the probability of each label under ``target`` (sum of its components' weights)."""
    if not isinstance(target, GaussianMixtureTarget):
        raise ValueError(f"target must be a GaussianMixtureTarget, got {type(target).__name__}")
    return np.bincount(target.component_labels.numpy(), weights=target.weights.numpy(), minlength=target.n_classes)


def memorizing_generator(target, noise: NoiseModel, *, k: int, generator: torch.Generator,
                         sigma: float = 1.0) -> IdealGenerator:
    """G of Theorem 1: m = k^{d_code} clean draws of ``target`` (drawn with ``generator``) on the equal-measure
    Gaussian partition of the code space.

    >>> from ganlimits.constructions import NoiseModel, ring
    >>> G = memorizing_generator(ring(), NoiseModel(dim=2, code_dim=1), k=5, generator=torch.Generator().manual_seed(0))
    >>> G.partition.m
    5
    """
    k = check_number("k", k, low=1, integer=True)
    if k >= 2:  # the memory holds m = k**code_dim draws of d values
        m = arz_thm3_block_count(k=k, code_dim=noise.code_dim)
        check_allocation("k", k, elements=2 * m * noise.dim)
    partition = GaussianBlockPartition(k=k, code_dim=noise.code_dim, sigma=check_positive("sigma", sigma))
    memory, _ = target.sample(partition.m, generator=generator)
    return IdealGenerator(memory=memory, partition=partition, noise=noise)


class HashedMemoryGenerator:
    r"""The memorizing generator of Theorem 1 with a memory that is regenerated, never stored.

    .. math::

        G(z) = \tilde x^*_{\iota(z)} \odot z, \qquad
        \tilde x^*_i = a_{c_i} + s \odot \varepsilon_i,\quad c_i \sim w,\ \varepsilon_i \sim N(0, I),

    for a :class:`~ganlimits.constructions.GaussianMixtureTarget` with means ``a`` (c, d), per-coordinate std
    ``s`` (d,) and weights ``w``: row i is an independent draw of the target, computed from SplitMix64 outputs at
    counter positions that depend only on (``seed``, i), turned into a component by the inverse CDF of the weights
    and into normals by the inverse normal CDF. So ``memory_rows(index)`` costs O(n d) whatever m is, and the
    generator equals :class:`IdealGenerator` with memory ``memory_rows(arange(m))`` bit for bit
    (:meth:`materialize`). ``__call__(z)``: (n, d_code) -> (n, d) float64; ``E(G(z)) == z`` exactly.

    Deviation: the memorized samples come from a counter-based generator (SplitMix64 + inverse CDFs) instead of
    torch's stream; their law is the target's (i.i.d. rows), which is all Theorem 1 uses.
    """

    def __init__(self, target: GaussianMixtureTarget, noise: NoiseModel, *, k: int, seed: int,
                 sigma: float = 1.0) -> None:
        if not isinstance(target, GaussianMixtureTarget):
            raise ValueError(f"target must be a GaussianMixtureTarget, got {type(target).__name__}")
        if not isinstance(noise, NoiseModel) or noise.dim != target.dim:
            raise ValueError(f"noise must be a NoiseModel with dim = target.dim = {target.dim}")
        k = check_number("k", k, low=2, integer=True)
        seed = check_number("seed", seed, low=0, high=2**63 - 1, integer=True)
        self.partition = GaussianBlockPartition(k=k, code_dim=noise.code_dim, sigma=check_positive("sigma", sigma))
        self.noise, self.target, self.seed, self.m = noise, target, seed, self.partition.m
        self._means = target.means.numpy()
        std = target.std.numpy()
        self._active = np.flatnonzero(std > 0)
        self._std = std[self._active]
        self._cum = np.cumsum(target.weights.numpy())
        self._last = int(np.flatnonzero(target.weights.numpy() > 0).max())
        base = _mix(np.array([seed], dtype=np.uint64))[0]
        self._key_comp, self._key_noise = _mix(np.array([base ^ np.uint64(1), base ^ np.uint64(2)],
                                                        dtype=np.uint64))
        self.name = f"memorizing generator (m = {self.m}, hashed memory, seed {seed})"

    def components(self, index) -> np.ndarray:
        """(n,) int64: the target component each memory row in ``index`` was drawn from."""
        idx = self.partition.check_index(torch.as_tensor(index)).numpy().astype(np.uint64)
        u = _uniforms(self._key_comp, idx)
        return np.minimum(np.searchsorted(self._cum, u, side="right"), self._last).astype(np.int64)

    def memory_rows(self, index) -> torch.Tensor:
        """The memorized clean images x̃*_i for i in ``index`` (n,): float64 (n, d)."""
        idx = self.partition.check_index(torch.as_tensor(index)).numpy().astype(np.uint64)
        out = np.empty((idx.size, self.noise.dim), dtype=np.float64)
        na = np.uint64(self._active.size)
        cols = np.arange(self._active.size, dtype=np.uint64)
        step = max(1, _ELEMENTS // max(1, self._active.size))
        for start in range(0, idx.size, step):
            rows = idx[start:start + step]
            out[start:start + rows.size] = self._means[self.components(rows)]
            if na:
                eps = special.ndtri(_uniforms(self._key_noise, rows[:, None] * na + cols[None, :]))
                out[start:start + rows.size, self._active] += eps * self._std
        return torch.from_numpy(out)

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        z = self.partition.check_codes(z)
        return self.noise.noised(self.memory_rows(self.partition.index(z)), z)

    def index(self, z: torch.Tensor) -> torch.Tensor:
        """Block index of each code, ``(n,)`` int64."""
        return self.partition.index(z)

    def materialize(self) -> IdealGenerator:
        """The same generator with its m x d memory stored (8 m d bytes): for tests and small m."""
        check_allocation("m", self.m, elements=2 * self.m * self.noise.dim)
        return IdealGenerator(memory=self.memory_rows(torch.arange(self.m)), partition=self.partition,
                              noise=self.noise)

    def coverage(self, *, chunk: int = 1 << 20) -> dict:
        """How the m memory rows spread over the target's c components (e.g. the 1,797 base digit images).

        Returns ``{"m", "components", "covered", "share_covered", "mean_copies", "max_copies"}``: the number of
        components drawn at least once, their share, and how often a drawn component is memorized on average and
        at most. Exact (every row's component is recomputed), O(m).
        """
        counts = np.zeros(self._cum.size, dtype=np.int64)
        for start in range(0, self.m, chunk):
            idx = np.arange(start, min(self.m, start + chunk), dtype=np.int64)
            counts += np.bincount(self.components(idx), minlength=counts.size)
        covered = int((counts > 0).sum())
        return {"m": self.m, "components": int(counts.size), "covered": covered,
                "share_covered": covered / counts.size, "mean_copies": self.m / max(covered, 1),
                "max_copies": int(counts.max())}


def hashed_memorizing_generator(target: GaussianMixtureTarget, noise: NoiseModel, *, k: int, seed: int,
                                sigma: float = 1.0) -> HashedMemoryGenerator:
    """G of Theorem 1 with m = k^{d_code} memorized draws of ``target``, memory regenerated from ``seed``
    (:class:`HashedMemoryGenerator`)."""
    return HashedMemoryGenerator(target, noise, k=k, seed=seed, sigma=sigma)


def support_one_generator(target, noise: NoiseModel, *, generator: torch.Generator,
                          sigma: float = 1.0) -> IdealGenerator:
    """The support-1 control: every block of a k = 2 partition memorizes the same clean draw of ``target``."""
    partition = GaussianBlockPartition(k=2, code_dim=noise.code_dim, sigma=check_positive("sigma", sigma))
    row, _ = target.sample(1, generator=generator)
    return IdealGenerator(memory=row.expand(partition.m, -1).clone(), partition=partition, noise=noise)


class FreshGenerator:
    """The "perfect" generator x̃_fresh ⊙ z: a fresh clean draw of ``target`` (from ``generator``) for every code,
    so (G(z), z) has exactly the law of (x, E(x)); its measured gap is the noise floor of an attack."""

    name = "perfect generator (fresh clean draw for every code)"

    def __init__(self, target, noise: NoiseModel, generator: torch.Generator) -> None:
        self.target, self.noise, self.generator = target, noise, generator

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        clean, _ = self.target.sample(z.shape[0], generator=self.generator)
        return self.noise.noised(clean, z)


def _restricted(target: GaussianMixtureTarget, keep: np.ndarray) -> GaussianMixtureTarget:
    sel = torch.from_numpy(np.flatnonzero(keep))
    return GaussianMixtureTarget(means=target.means[sel], std=target.std, weights=target.weights[sel],
                                 component_labels=target.component_labels[sel], n_classes=target.n_classes,
                                 description=f"{target.description}, restricted to {int(sel.numel())} components")


class CodeDependentGenerator:
    r"""A generator with the right image marginal whose clean content is chosen by the code.

    .. math::

        G(z) = \tilde x \odot z,\qquad \tilde x \sim
        \begin{cases} \tilde\mu(\cdot \mid y \in A) & |z_j| < q \\ \tilde\mu(\cdot \mid y \notin A) & |z_j| \ge q
        \end{cases},\qquad \Pr[|z_j| < q] = \tilde\mu(y \in A),

    a fresh draw of ``target`` restricted to the labels in ``classes`` (A, default the digits 0-4) when the code's
    coordinate ``coordinate`` (j) is small in magnitude, and to the other labels otherwise. The threshold q is the
    quantile of ``|z_j|`` at the mass of A (the median up to that mass's distance from 1/2), so the image marginal is
    exactly ``target`` while the joint law of (G(z), z) differs from that of (x, E(x)): its total variation
    distance is at most :attr:`tv_upper_bound` = 2 p (1 - p), p = μ̃(A) (equal when the two halves of the mixture
    do not overlap). ``E(G(z)) == z`` exactly. Draws come from ``generator``.
    """

    def __init__(self, target: GaussianMixtureTarget, noise: NoiseModel, *, generator: torch.Generator,
                 classes=(0, 1, 2, 3, 4), coordinate: int = 0, sigma: float = 1.0) -> None:
        probs = class_probabilities(target)
        in_a = np.zeros(target.n_classes, dtype=bool)
        in_a[list(classes)] = True
        self.p = float(probs[in_a].sum())
        if not 0 < self.p < 1:
            raise ValueError(f"classes must hold some but not all of the target's mass, got mass {self.p}")
        self.coordinate = check_number("coordinate", coordinate, low=0, high=noise.code_dim - 1, integer=True)
        self.sigma = check_positive("sigma", sigma)
        labels = target.component_labels.numpy()
        self.first, self.second = _restricted(target, in_a[labels]), _restricted(target, ~in_a[labels])
        self.threshold = self.sigma * float(special.ndtri((1.0 + self.p) / 2.0))
        self.noise, self.generator, self.classes = noise, generator, tuple(int(c) for c in classes)
        self.tv_upper_bound = 2.0 * self.p * (1.0 - self.p)
        self.name = (f"code-dependent generator (labels {self.classes} when |z_{self.coordinate}| < "
                     f"{self.threshold:.4f}, the others otherwise)")

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        z = torch.as_tensor(z, dtype=torch.float64)
        small = z[:, self.coordinate].abs() < self.threshold
        clean = torch.empty(z.shape[0], self.noise.dim, dtype=torch.float64)
        for mask, part in ((small, self.first), (~small, self.second)):
            count = int(mask.sum())
            if count:
                clean[mask] = part.sample(count, generator=self.generator)[0]
        return self.noise.noised(clean, z)


class PlantedMixture:
    """G(z) = ``planted(z)`` with probability ``rate`` (an independent coin per code, from ``generator``), else
    ``base(z)``. For any discriminator the gap of the mixture is ``rate * gap(planted) + (1 - rate) * gap(base)``
    (signed), so a known rate grades a known violation."""

    def __init__(self, base, planted, *, rate: float, generator: torch.Generator) -> None:
        self.rate = check_number("rate", rate, low=0, high=1)
        self.base, self.planted, self.generator = base, planted, generator
        self.name = f"mixture: {getattr(planted, 'name', 'planted')} at rate {self.rate:g}"

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        z = torch.as_tensor(z, dtype=torch.float64)
        coin = torch.rand(z.shape[0], generator=self.generator, dtype=torch.float64) < self.rate
        out = None
        for mask, part in ((~coin, self.base), (coin, self.planted)):
            if int(mask.sum()):
                values = part(z[mask])
                if out is None:
                    out = torch.empty(z.shape[0], values.shape[1], dtype=torch.float64)
                out[mask] = values.to(torch.float64)
        return out


class LabelLeakingEncoder:
    r"""The noise encoder of Theorem 1, except that at rate ρ the label is written into the code.

    .. math::

        E_\rho(x, y) = z + B\, r\, (\cos(2\pi y / C), \sin(2\pi y / C), 0, \dots), \qquad B \sim
        \mathrm{Bernoulli}(\rho),

    with z the noise coordinates of x, C = ``n_classes`` and r = ``radius`` (in units of the code std σ). A planted
    control: it is told the label (it stands for an encoder that has learned it). For r large (the default 20σ puts
    every leaked code more than 6σ from any other class's centre and from the unleaked codes) the best possible
    label accuracy from the code is ``ρ + (1 - ρ) max_c π_c`` up to 1e-9, i.e. an excess over chance of
    :meth:`excess` = ρ (1 - max_c π_c). Needs d_code >= 2. Coins come from ``generator``.
    """

    def __init__(self, noise: NoiseModel, *, rate: float, n_classes: int, generator: torch.Generator,
                 radius: float = 20.0, sigma: float = 1.0) -> None:
        if noise.code_dim < 2:
            raise ValueError(f"noise.code_dim must be >= 2 to leak a label, got {noise.code_dim}")
        self.rate = check_number("rate", rate, low=0, high=1)
        self.n_classes = check_number("n_classes", n_classes, low=2, integer=True)
        self.radius = check_positive("radius", radius) * check_positive("sigma", sigma)
        self.noise, self.generator = noise, generator
        angle = 2 * math.pi * torch.arange(self.n_classes, dtype=torch.float64) / self.n_classes
        self.centres = self.radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)

    def excess(self, class_probs) -> float:
        """The leak's label information as excess best accuracy over chance: ρ (1 - max_c π_c)."""
        return self.rate * (1.0 - float(np.max(class_probs)))

    def __call__(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        code = self.noise.extract(torch.as_tensor(x)).to(torch.float64).clone()
        labels = torch.as_tensor(labels, dtype=torch.int64)
        coin = torch.rand(code.shape[0], generator=self.generator, dtype=torch.float64) < self.rate
        code[coin, :2] += self.centres[labels[coin]]
        return code


class ContaminatedTarget(Target):
    r"""A biased sampler: each draw is ``image`` with probability ρ, else a fresh draw of ``target``.

    .. math::

        \tilde x \sim (1 - \rho)\, \tilde\mu + \rho\, \delta_{x_0},\qquad
        \mathbb E_{\rho} h(\tilde x) - \mathbb E_{\tilde\mu} h(\tilde x)
        = \rho\, \big(h(x_0) - \mathbb E_{\tilde\mu} h\big)

    for every h: the bias of any mean is ρ times a number that can be computed once. ``image`` (d,); labels of the
    replaced draws are -1. Draw order: the target's sample, then n uniform coins (all from ``generator``).
    """

    def __init__(self, target: Target, *, rate: float, image) -> None:
        self.rate = check_number("rate", rate, low=0, high=1)
        img = torch.as_tensor(image, dtype=torch.float64).reshape(-1)
        if img.numel() != target.dim:
            raise ValueError(f"image must have {target.dim} entries, got {img.numel()}")
        self.target, self.image = target, img
        self.dim, self.n_classes, self.support = target.dim, target.n_classes, target.support
        self.description = f"{target.description}; each draw replaced by one fixed image with probability {rate:g}"

    def _sample(self, n: int, generator: torch.Generator):
        x, labels = self.target.sample(n, generator=generator)
        coin = torch.rand(n, generator=generator, dtype=torch.float64) < self.rate
        x[coin] = self.image
        if labels is not None:
            labels = labels.clone()
            labels[coin] = -1
        return x, labels


# ---- the training lab's planted generators on Gaussian mixtures --------------------------------------------------


def mixture_box(target: GaussianMixtureTarget) -> tuple[torch.Tensor, torch.Tensor]:
    """The data's box of a mixture: the bounding box of its means widened on every side by half the smallest
    Euclidean distance between two distinct means (one mean: by 3 std). Returns ``(low, high)``, each (d,) float64.

    The grid's box is [-5, 5]^2 (spacing 2), the ring's (radius 1, 8 modes) [-1.383, 1.383]^2; uniform noise over
    the grid's box puts 1.77% of its mass within 3 std (0.15) of a mean.

    >>> from ganlimits.constructions import grid
    >>> low, high = mixture_box(grid())
    >>> low.tolist(), high.tolist()
    ([-5.0, -5.0], [5.0, 5.0])
    """
    if not isinstance(target, GaussianMixtureTarget):
        raise ValueError(f"target must be a GaussianMixtureTarget, got {type(target).__name__}")
    means = target.means
    unique = torch.unique(means, dim=0)
    if unique.shape[0] > 1:
        d = torch.cdist(unique, unique)
        d.fill_diagonal_(math.inf)
        pad = float(d.min()) / 2
    else:
        pad = 3.0 * float(target.std.max())
    return means.min(dim=0).values - pad, means.max(dim=0).values + pad


class _LabSampler:
    """A planted sampler with the targets' interface: ``sample(n, generator=) -> (x, None)``, x (n, d) float64."""

    dim: int
    name: str

    def sample(self, n: int, *, generator: torch.Generator) -> tuple[torch.Tensor, None]:
        n = check_number("n", n, low=1, integer=True)
        return self._sample(n, generator), None

    def _sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"


class OnModesGenerator(_LabSampler):
    """Samples on chosen components of ``target``: each draw picks one of ``modes`` (component indices; default
    all) uniformly at random and adds ``spread`` times the component's own noise (``spread`` = 0: exactly on the
    mean; 1: a true draw of that component). Its mode coverage is known: with n draws every covered mode receives
    about n / len(modes) of them. Draw order: n uniform component picks, then one normal block (n, d)."""

    def __init__(self, target: GaussianMixtureTarget, modes=None, *, spread: float = 0.0) -> None:
        if not isinstance(target, GaussianMixtureTarget):
            raise ValueError(f"target must be a GaussianMixtureTarget, got {type(target).__name__}")
        K = target.n_components
        idx = torch.arange(K) if modes is None else torch.as_tensor(list(modes), dtype=torch.int64)
        if idx.numel() == 0 or int(idx.min()) < 0 or int(idx.max()) >= K or idx.unique().numel() != idx.numel():
            raise ValueError(f"modes must be distinct component indices in [0, {K}), got {idx.tolist()}")
        self.target, self.modes = target, idx
        self.spread = check_number("spread", spread, low=0)
        self.dim = target.dim
        self.name = f"{idx.numel()} of {K} modes, spread {self.spread:g} std"

    def _sample(self, n, generator):
        pick = torch.randint(self.modes.numel(), (n,), generator=generator)
        x = self.target.means[self.modes[pick]].clone()
        noise = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        return x + self.spread * self.target.std * noise


class DiffuseGenerator(_LabSampler):
    """A diffuse cloud: uniform over the data's box (:func:`mixture_box`) scaled by ``scale`` about its centre —
    what a generator looks like before it has sharpened onto the modes."""

    def __init__(self, target: GaussianMixtureTarget, *, scale: float = 1.0) -> None:
        low, high = mixture_box(target)
        self.scale = check_positive("scale", scale)
        centre, half = (low + high) / 2, (high - low) / 2
        self.low, self.high = centre - self.scale * half, centre + self.scale * half
        self.dim = target.dim
        self.name = f"uniform over the data's box scaled by {self.scale:g}"

    def _sample(self, n, generator):
        u = torch.rand(n, self.dim, generator=generator, dtype=torch.float64)
        return self.low + u * (self.high - self.low)


class OutOfBoxGenerator(_LabSampler):
    """Every sample outside the data's box: the box's centre plus a uniformly random direction times a radius
    uniform in [R, ``reach`` R], R the box's half-diagonal (so no sample can fall inside the box) — a generator that
    has followed its discriminator's logit out of the data."""

    def __init__(self, target: GaussianMixtureTarget, *, reach: float = 2.0) -> None:
        low, high = mixture_box(target)
        self.reach = check_number("reach", reach, low=1, low_open=True)
        self.centre = (low + high) / 2
        self.radius = float(((high - low) / 2).norm())
        self.dim = target.dim
        self.name = f"outside the data's box, at 1 to {self.reach:g} times its half-diagonal"

    def _sample(self, n, generator):
        u = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        u = u / u.norm(dim=1, keepdim=True)
        r = self.radius * (1 + (self.reach - 1) * torch.rand(n, 1, generator=generator, dtype=torch.float64))
        return self.centre + r * u


class SamplerMixture(_LabSampler):
    """Each draw comes from ``parts[i]`` with probability ``rates[i]`` (normalised): e.g. 30% on the modes and 70%
    diffuse. Draw order: n uniform picks, then each part's draws in turn (all from ``generator``)."""

    def __init__(self, parts, rates) -> None:
        parts = list(parts)
        w = torch.as_tensor(list(rates), dtype=torch.float64)
        if not parts or w.shape != (len(parts),) or not bool(torch.isfinite(w).all()) or bool((w < 0).any()) \
                or float(w.sum()) <= 0:
            raise ValueError("rates must be one finite non-negative number per part, not all 0")
        if len({p.dim for p in parts}) != 1:
            raise ValueError("parts must all have the same dimension")
        self.parts, self.rates = parts, w / w.sum()
        self.dim = parts[0].dim
        self.name = " + ".join(f"{float(r):.3g} x {p.name}" for p, r in zip(parts, self.rates, strict=True))

    def _sample(self, n, generator):
        u = torch.rand(n, generator=generator, dtype=torch.float64)
        which = torch.searchsorted(torch.cumsum(self.rates, 0)[:-1].contiguous(), u, right=True)
        x = torch.empty(n, self.dim, dtype=torch.float64)
        for i, part in enumerate(self.parts):
            mask = which == i
            if int(mask.sum()):
                x[mask] = part.sample(int(mask.sum()), generator=generator)[0]
        return x
