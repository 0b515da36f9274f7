"""The birthday-paradox support test (Arora & Zhang 2017), with intervals and a non-uniformity flag.

Shape letters: ``s`` sample size, ``d`` point dimension, ``R`` repeats per size, ``k`` pairs flagged per
sample.

Procedure [paper]: draw ``s`` samples, flag the ``k`` closest pairs, decide which are duplicates, repeat; if
duplicates appear with probability >= 1/2 at sample size ``s``, the support is about ``s^2``. Here the
decision is a stated rule (distance below a threshold), each collision probability carries a Clopper-Pearson
interval, and the support follows from the uniform model (MATH.md section 3, :mod:`ganlimits.theory`
``_birthday``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy import optimize, stats

from ganlimits.theory import (
    beta_bound_hypotheses,
    beta_upper_bound,
    support_from_s_half,
    uniform_collision_probability,
)

from .._results import Estimate, to_jsonable
from ._intervals import clopper_pearson
from ._pairs import closest_pairs, nearest_neighbour_distances, select_coordinates

__all__ = [
    "BirthdayResult",
    "CollisionPoint",
    "FrequentPoint",
    "birthday_test",
    "threshold_from_reference",
    "threshold_from_noise",
    "pool_sampler",
]

_BATCH_ELEMENTS = 1 << 21  # samples of size s are handled R at a time while R s^2 stays below this (16 MB)


@dataclass(frozen=True)
class CollisionPoint:
    """One point of the collision curve: ``collisions`` of ``repeats`` samples of size ``s`` held a
    duplicate."""

    s: int
    collisions: int
    repeats: int
    probability: Estimate
    duplicate_pairs: int


@dataclass(frozen=True)
class FrequentPoint:
    """A point that took part in collisions in ``count`` of the samples that collided (``share`` of them).

    ``point`` is the full row ``(d,)`` of its first occurrence, ``example`` = ``(s, repeat, index)`` locates
    it.
    """

    point: torch.Tensor
    count: int
    share: float
    example: tuple[int, int, int]


@dataclass(frozen=True)
class BirthdayResult:
    """Everything one birthday test measured.

    ``curve``: the collision curve, one :class:`CollisionPoint` per size. ``s_half``: where collisions reach
    1/2 (interpolated; interval from simultaneous Clopper-Pearson bands). ``support_estimate``: the uniform
    model's ``N`` (interval from ``s_half``'s). ``support_mle``: maximum likelihood ``N`` from the whole curve
    under the uniform model, likelihood-ratio interval. ``beta_bound``: MATH.md 3's upper bound on ``1/sum
    P(x)^2`` at the size whose collision rate is closest to 1/2 (``beta_size``). ``nonuniform``: collisions
    concentrate on a few points more than any uniform distribution of plausible support allows
    (``nonuniform_pvalue``); ``frequent`` names the points that collide most often.
    """

    sizes: tuple[int, ...]
    repeats: int
    threshold: float
    k: int
    confidence: float
    curve: tuple[CollisionPoint, ...]
    s_half: Estimate
    support_estimate: Estimate
    support_estimate_paper: float
    support_mle: Estimate
    beta_bound: Estimate
    beta_size: int
    beta_hypotheses: dict[str, bool]
    nonuniform: bool
    nonuniform_pvalue: float
    frequent: tuple[FrequentPoint, ...]
    min_distances: np.ndarray = field(repr=False)
    seed: int | None = None

    @property
    def collision_rates(self) -> np.ndarray:
        """Observed collision proportions, one per size."""
        return np.array([c.collisions / c.repeats for c in self.curve])

    def uniform_curve(self, N: float, sizes: Sequence[float] | None = None) -> np.ndarray:
        """The uniform model's exact collision probabilities at ``sizes`` (default: the tested sizes)."""
        return uniform_collision_probability(N=N, s=np.asarray(self.sizes if sizes is None else sizes, float))

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable({
            "sizes": self.sizes, "repeats": self.repeats, "threshold": self.threshold, "k": self.k,
            "confidence": self.confidence,
            "curve": [{"s": c.s, "collisions": c.collisions, "repeats": c.repeats,
                       "duplicate_pairs": c.duplicate_pairs, **{f"p_{k}": v for k, v in
                                                                c.probability.to_dict().items()}}
                      for c in self.curve],
            "s_half": self.s_half.to_dict(), "support_estimate": self.support_estimate.to_dict(),
            "support_estimate_paper": self.support_estimate_paper, "support_mle": self.support_mle.to_dict(),
            "beta_bound": self.beta_bound.to_dict(), "beta_size": self.beta_size,
            "beta_hypotheses": self.beta_hypotheses, "nonuniform": self.nonuniform,
            "nonuniform_pvalue": self.nonuniform_pvalue,
            "frequent": [{"count": f.count, "share": f.share, "example": f.example} for f in self.frequent],
            "seed": self.seed,
        })


# ---- thresholds and samplers -----------------------------------------------------------------------------


def threshold_from_reference(x_real: torch.Tensor, *, quantile: float = 0.01, factor: float = 0.5,
                             coords=None) -> float:
    """Duplicate threshold from real data: ``factor`` times the ``quantile`` of nearest-neighbour distances.

    .. math::
        t = c \\cdot Q_q\\bigl(\\{\\min_{j \\ne i} \\|x_i - x_j\\| : i = 1..n\\}\\bigr),
        \\qquad q = 0.01,\\ c = 1/2

    Rule: a generated pair is a duplicate when it is closer than half of the distance that only 1% of real
    points come within of their nearest real neighbour, i.e. closer than distinct real samples ever are.
    ``x_real``: ``(n, d)``; use ``n`` at least the largest sample size tested (nearest-neighbour distances
    shrink with ``n``). Compare on the same ``coords`` as the test.
    """
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must lie in (0, 1), got {quantile!r}")
    if not (np.isfinite(factor) and factor > 0):
        raise ValueError(f"factor must be a finite number > 0, got {factor!r}")
    nn = nearest_neighbour_distances(x_real, coords=coords).numpy()
    t = float(factor * np.quantile(nn, quantile))
    if not t > 0:
        raise ValueError("x_real has duplicate rows below the quantile: the nearest-neighbour rule gives a "
                         "threshold of 0; remove duplicates or raise quantile")
    return t


def threshold_from_noise(*, sigma: float, dim: int, miss: float = 1e-6) -> float:
    """Duplicate threshold for points that are exact copies up to Gaussian noise ``N(0, sigma^2 I_dim)``.

    Two noisy copies of one point differ by ``N(0, 2 sigma^2 I_dim)``, so ``|x - x'|^2 / (2 sigma^2)`` is
    chi-square with ``dim`` degrees of freedom; the threshold misses a true duplicate with probability
    ``miss``:

    .. math::
        t = \\sigma \\sqrt{2\\, \\chi^2_{d}(1 - \\text{miss})}
    """
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a finite number > 0, got {sigma!r}")
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"dim must be an integer >= 1, got {dim!r}")
    if not 0 < miss < 1:
        raise ValueError(f"miss must lie in (0, 1), got {miss!r}")
    return float(sigma * np.sqrt(2 * stats.chi2.isf(miss, dim)))


def pool_sampler(x: torch.Tensor) -> Callable[[int, torch.Generator], torch.Tensor]:
    """A ``sample(s, generator)`` that draws ``s`` distinct rows of the fixed pool ``x`` ``(n, d)`` (without
    replacement, so that the pool's own rows never collide with themselves); ``s > n`` raises
    ``ValueError``."""
    x = torch.as_tensor(x)
    if x.ndim != 2:
        raise ValueError(f"x must be a 2-D tensor (n, d), got shape {tuple(x.shape)}")
    n = x.shape[0]

    def sample(s: int, generator: torch.Generator) -> torch.Tensor:
        if s > n:
            raise ValueError(f"s = {s} is larger than the sample: the pool holds n = {n} points")
        return x[torch.randperm(n, generator=generator)[:s]]

    return sample


# ---- the test ----------------------------------------------------------------------------------------------


def _check_sizes(sizes) -> tuple[int, ...]:
    try:
        vals = [int(v) for v in sizes]
    except TypeError:
        raise ValueError(f"sizes must be a sequence of integers >= 2, got {sizes!r}") from None
    if not vals or any(v != float(u) for v, u in zip(vals, sizes, strict=True)):
        raise ValueError(f"sizes must be a non-empty sequence of integers >= 2, got {sizes!r}")
    if min(vals) < 2:
        raise ValueError(f"every sample size s must be >= 2 (one point cannot collide), got {min(vals)}")
    return tuple(sorted(set(vals)))


class _Catalogue:
    """Colliding points seen so far, matched across samples by distance below the threshold."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.keys = torch.empty(0, 0, dtype=torch.float64)  # (capacity, d_coords); len(counts) rows in use
        self.counts: list[int] = []
        self.first: list[tuple[torch.Tensor, tuple[int, int, int]]] = []

    def add(self, key: torch.Tensor, row: torch.Tensor, where: tuple[int, int, int], seen: set[int]) -> None:
        n = len(self.counts)
        if n:
            dist = (self.keys[:n] - key).pow(2).sum(dim=1)
            j = int(dist.argmin())
            if float(dist[j]) < self.threshold**2:
                if j not in seen:  # one count per sample
                    self.counts[j] += 1
                    seen.add(j)
                return
        if n == self.keys.shape[0]:  # grow by doubling
            grown = torch.empty(max(16, 2 * n), key.numel(), dtype=torch.float64)
            if n:
                grown[:n] = self.keys[:n]
            self.keys = grown
        self.keys[n] = key
        self.counts.append(1)
        self.first.append((row.clone(), where))
        seen.add(n)


def _components(pairs: np.ndarray) -> list[list[int]]:
    """Connected components (union-find) of the duplicate graph given by ``pairs`` ``(p, 2)``."""
    parent: dict[int, int] = {}

    def find(a: int) -> int:
        parent.setdefault(a, a)
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for i, j in pairs:
        parent[find(int(i))] = find(int(j))
    groups: dict[int, list[int]] = {}
    for a in list(parent):
        groups.setdefault(find(a), []).append(a)
    return [sorted(g) for g in groups.values()]


def birthday_test(
    sample: Callable[[int, Any], torch.Tensor],
    *,
    sizes: Sequence[int],
    repeats: int,
    threshold: float,
    generator: torch.Generator,
    k: int = 20,
    coords=None,
    confidence: float = 0.95,
    nonuniform_alpha: float = 0.01,
    progress: bool = False,
) -> BirthdayResult:
    """Birthday-paradox estimate of the support size of the law behind ``sample``.

    Arora & Zhang (2017), "Do GANs learn the distribution?", birthday-paradox test; MATH.md section 3:

    .. math::
        \\Pr_N[\\text{collision among } s] = 1 - \\prod_{i=1}^{s-1}\\Bigl(1 - \\frac{i}{N}\\Bigr),
        \\qquad s_{1/2} \\approx \\sqrt{2 \\ln 2\\, N} \\approx 1.18\\sqrt N,
        \\qquad \\beta \\le \\frac{2M}{-3 + \\sqrt{9 + \\frac{24}{M}\\log\\frac{1}{1-\\gamma}}}.

    For each size ``s`` and each of ``repeats`` draws, ``sample(s, generator)`` returns ``(s, d)`` points; the
    ``k`` closest pairs on ``coords`` are found exactly (:func:`~ganlimits.verify.closest_pairs`) and a pair
    is a duplicate when its distance is ``< threshold``; the sample collides when any flagged pair is a
    duplicate.

    Returns a :class:`BirthdayResult`:

    - ``curve``: collisions/repeats per size with a Clopper-Pearson interval at ``confidence``;
    - ``s_half``: the crossing of 1/2 by the monotone (isotonic) fit of the curve, linearly interpolated. Its
      interval uses Clopper-Pearson bands simultaneous over the sizes (Bonferroni, level
      ``1 - (1 - confidence)/len(sizes)`` each): ``ci_low`` is the largest size whose upper band is below 1/2,
      ``ci_high`` the smallest size whose lower band is at least 1/2 (``inf`` if none), an interval valid for
      any increasing curve;
    - ``support_estimate``: ``N`` whose exact uniform curve is 1/2 at ``s_half`` (endpoints likewise);
      ``support_estimate_paper`` the paper's ``(s_half / 1.18)^2``;
    - ``support_mle``: the uniform-model maximum likelihood ``N`` and its likelihood-ratio interval;
    - ``beta_bound``: the effective-support bound at the size whose rate is closest to 1/2 (``beta_size``),
      interval from that size's Clopper-Pearson interval; ``beta_hypotheses`` tells whether the bound's
      hypotheses (``beta >= 1000``, ``M <= 2 sqrt(beta log beta)``) hold at the bound's value;
    - ``nonuniform``: each colliding point is matched across samples (distance ``< threshold``) and counted
      once per sample; under the uniform law on ``N0 = support_estimate.ci_low`` points, one point's count is
      a sum of independent Bernoulli(``P[Bin(s, 1/N0) >= 2]``) over all samples, and the union bound over the
      ``N0`` points gives ``nonuniform_pvalue = min(1, N0 P[count >= observed max])``; ``nonuniform`` when it
      is below ``nonuniform_alpha`` (a smaller ``N0`` makes high counts likelier, so the lower limit is
      conservative). ``frequent`` names the five most frequent colliding points.

    Deviation: ``support_estimate`` inverts the exact product rather than the paper's ``s^2 / (2 ln 2)``,
    which overestimates small supports (6% at ``N = 64``); both are reported.
    """
    sizes_t = _check_sizes(sizes)
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ValueError(f"repeats must be an integer >= 1, got {repeats!r}")
    if not (isinstance(threshold, (int, float, np.floating)) and np.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold must be a finite number > 0, got {threshold!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence!r}")
    if not 0 < nonuniform_alpha < 1:
        raise ValueError(f"nonuniform_alpha must lie in (0, 1), got {nonuniform_alpha!r}")
    if generator is None:
        raise ValueError("generator must be an explicit random generator (torch.Generator), got None")
    threshold = float(threshold)
    seed = int(generator.initial_seed()) if isinstance(generator, torch.Generator) else None

    from tqdm import tqdm

    catalogue = _Catalogue(threshold)
    curve: list[CollisionPoint] = []
    min_dist = np.full((len(sizes_t), repeats), np.nan)
    collided_total = 0
    bar = tqdm(total=len(sizes_t) * repeats, desc="birthday", disable=not progress, leave=False)
    for a, s in enumerate(sizes_t):
        hits = dup_pairs = 0
        kk = min(k, s * (s - 1) // 2)
        batch = max(1, min(repeats, _BATCH_ELEMENTS // (s * s)))  # samples whose pairs are found together
        for r0 in range(0, repeats, batch):
            drawn = [_draw(sample, s, generator, coords) for _ in range(r0, min(r0 + batch, repeats))]
            if len({xs.shape for _, xs in drawn}) > 1:
                raise ValueError(f"sample(s, generator) returned points of different dimensions at s = {s}")
            if len(drawn) > 1:
                found = _batched_closest_pairs(torch.stack([xs for _, xs in drawn]), kk)
            else:
                found = [closest_pairs(drawn[0][1], kk)]
            for r, ((x, xs), (pairs, dist)) in enumerate(zip(drawn, found, strict=True), start=r0):
                min_dist[a, r] = float(dist[0])
                dup = (dist < threshold).numpy()
                if dup.any():
                    hits += 1
                    dup_pairs += int(dup.sum())
                    seen: set[int] = set()
                    for comp in _components(pairs.numpy()[dup]):
                        row = x[comp[0]].detach().to(torch.float64)
                        catalogue.add(xs[comp[0]], row, (s, r, comp[0]), seen)
                bar.update()
        collided_total += hits
        estimate = clopper_pearson(hits, repeats, confidence=confidence, seed=seed)
        curve.append(CollisionPoint(s, hits, int(repeats), estimate, dup_pairs))
    bar.close()

    counts = np.array([c.collisions for c in curve])
    s_half, s_lo, s_hi = _s_half(sizes_t, counts, repeats, confidence)
    support = _support_estimate(s_half, s_lo, s_hi, confidence, repeats * len(sizes_t), seed)
    paper = support_from_s_half(s_half=s_half, exact=False) if np.isfinite(s_half) else float("nan")
    mle = _support_mle(sizes_t, counts, repeats, confidence, seed)
    beta, beta_size, hyp = _beta(curve)
    pvalue = _nonuniform_pvalue(catalogue.counts, sizes_t, repeats, support.ci_low)
    order = np.argsort(-np.asarray(catalogue.counts, dtype=np.int64), kind="stable")[:5]
    frequent = tuple(
        FrequentPoint(catalogue.first[i][0], int(catalogue.counts[i]),
                      catalogue.counts[i] / max(collided_total, 1), catalogue.first[i][1])
        for i in order
    )
    return BirthdayResult(
        sizes=sizes_t, repeats=int(repeats), threshold=threshold, k=int(k), confidence=float(confidence),
        curve=tuple(curve),
        s_half=_s_half_estimate(s_half, s_lo, s_hi, confidence, seed, repeats * len(sizes_t)),
        support_estimate=support, support_estimate_paper=paper, support_mle=mle, beta_bound=beta,
        beta_size=beta_size, beta_hypotheses=hyp, nonuniform=bool(pvalue < nonuniform_alpha),
        nonuniform_pvalue=float(pvalue), frequent=frequent, min_distances=min_dist, seed=seed,
    )


def _draw(sample, s: int, generator, coords) -> tuple[torch.Tensor, torch.Tensor]:
    """One sample ``(s, d)`` and its compared coordinates ``(s, d_coords)`` float64, validated."""
    x = sample(s, generator)
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(np.asarray(x))
    if x.ndim != 2 or x.shape[0] != s:
        raise ValueError(f"sample(s, generator) must return s = {s} points as an (s, d) tensor, got "
                         f"shape {tuple(x.shape)} (is s larger than the sample?)")
    xs = select_coordinates(x, coords)
    if not bool(torch.isfinite(xs).all()):
        raise ValueError(f"sample(s, generator) returned NaN or infinite values at s = {s}")
    return x, xs


def _batched_closest_pairs(xs: torch.Tensor, k: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """:func:`closest_pairs` for a batch of small samples ``(R, s, d)`` at once: all distances by direct
    differences (``torch.cdist`` without the matrix-product form, float64), ordered by (distance, i, j) with a
    stable sort. Same pairs and order as the blockwise search up to ties (tests check both against brute
    force)."""
    s = xs.shape[1]
    i, j = torch.triu_indices(s, s, 1)
    D = torch.cdist(xs, xs, compute_mode="donot_use_mm_for_euclid_dist")[:, i, j]
    order = torch.argsort(D, dim=1, stable=True)[:, :k]
    dist = torch.gather(D, 1, order)
    return [(torch.stack([i[o], j[o]], dim=1), dd) for o, dd in zip(order, dist, strict=True)]


def _s_half_estimate(s_half: float, lo: float, hi: float, confidence: float, seed, n: int) -> Estimate:
    est = float(np.clip(s_half, lo, hi)) if np.isfinite(s_half) else float("nan")
    return Estimate(est, float(lo), float(hi), confidence, int(n), "clopper-pearson bands (Bonferroni)", seed)


def _s_half(sizes: tuple[int, ...], counts: np.ndarray, repeats: int, confidence: float):
    s = np.array((1,) + sizes, dtype=np.float64)  # anchor: one point never collides
    p = np.concatenate([[0.0], counts / repeats])
    w = np.concatenate([[1e12], np.full(len(sizes), float(repeats))])
    fit = optimize.isotonic_regression(p, weights=w, increasing=True).x
    above = np.nonzero(fit >= 0.5)[0]
    if above.size:
        j = int(above[0])
        s_half = s[j - 1] + (0.5 - fit[j - 1]) / (fit[j] - fit[j - 1]) * (s[j] - s[j - 1])
    else:
        s_half = float("nan")
    band = 1 - (1 - confidence) / len(sizes)
    lower = np.array([clopper_pearson(int(c), repeats, confidence=band).ci_low for c in counts])
    upper = np.array([clopper_pearson(int(c), repeats, confidence=band).ci_high for c in counts])
    sz = np.array(sizes, dtype=np.float64)
    hi_cands = sz[lower >= 0.5]
    hi = float(hi_cands.min()) if hi_cands.size else float("inf")
    lo_cands = sz[(upper < 0.5) & (sz < hi)]
    lo = float(lo_cands.max()) if lo_cands.size else 1.0
    return float(s_half), lo, hi


def _support_estimate(s_half: float, lo: float, hi: float, confidence: float, n: int, seed) -> Estimate:
    def inv(v: float) -> float:
        if not np.isfinite(v):
            return float("inf") if v > 0 else float("nan")
        return support_from_s_half(s_half=v) if v > 1 else 1.0

    est = inv(float(np.clip(s_half, lo, hi))) if np.isfinite(s_half) else float("nan")
    return Estimate(est, inv(lo), inv(hi), confidence, int(n), "uniform model at s_half (CP bands)", seed)


def _loglik(log_n: np.ndarray, sizes: np.ndarray, counts: np.ndarray, repeats: int) -> np.ndarray:
    N = np.exp(np.atleast_1d(log_n))[:, None]
    P = np.clip(_curve(N, sizes), 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        hit = np.where(counts > 0, counts * np.log(P), 0.0)
        miss = np.where(repeats - counts > 0, (repeats - counts) * np.log1p(-P), 0.0)
    return np.sum(hit + miss, axis=1)


def _curve(N: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    return np.stack([uniform_collision_probability(N=float(n), s=sizes) for n in N[:, 0]])


def _support_mle(sizes, counts, repeats, confidence, seed) -> Estimate:
    sz = np.array(sizes, dtype=np.float64)
    n = int(repeats * len(sizes))
    method = "likelihood ratio (uniform model)"
    grid = np.linspace(np.log(1.0), np.log(1e4 * sz.max() ** 2), 600)
    ll = _loglik(grid, sz, counts, repeats)
    cut = stats.chi2.ppf(confidence, 1) / 2
    j = int(np.argmax(ll))
    if j == len(grid) - 1:  # no collisions at all: the likelihood increases without bound in N
        low = grid[np.nonzero(ll >= ll[-1] - cut)[0][0]]
        return Estimate(float("inf"), float(np.exp(low)), float("inf"), confidence, n, method, seed)
    a, b = grid[max(j - 1, 0)], grid[min(j + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(lambda v: -_loglik(v, sz, counts, repeats)[0], bounds=(a, b),
                                   method="bounded", options={"xatol": 1e-9})
    best_x, best = (res.x, -res.fun) if -res.fun >= ll[j] else (grid[j], ll[j])

    def side(lo_x: float, hi_x: float) -> float:
        f = lambda v: _loglik(v, sz, counts, repeats)[0] - (best - cut)  # noqa: E731
        return float(np.exp(optimize.brentq(f, lo_x, hi_x, xtol=1e-10)))

    left = side(grid[0], best_x) if ll[0] < best - cut else 1.0
    right = side(best_x, grid[-1]) if ll[-1] < best - cut else float("inf")
    est = float(np.exp(best_x))
    return Estimate(est, min(left, est), max(right, est), confidence, n, method, seed)


def _beta(curve: list[CollisionPoint]) -> tuple[Estimate, int, dict[str, bool]]:
    rates = np.array([c.collisions / c.repeats for c in curve])
    i = int(np.argmin(np.abs(rates - 0.5)))
    c = curve[i]
    top = 1 - 1e-15
    est = beta_upper_bound(M=c.s, gamma=min(rates[i], top))
    low = beta_upper_bound(M=c.s, gamma=min(c.probability.ci_high, top))
    high = beta_upper_bound(M=c.s, gamma=min(c.probability.ci_low, top))
    e = Estimate(est, low, high, c.probability.confidence, c.repeats, "beta bound at CP limits",
                 c.probability.seed)
    hyp = beta_bound_hypotheses(beta=est, M=c.s) if np.isfinite(est) and est > 0 else {"all": False}
    return e, c.s, hyp


def _nonuniform_pvalue(counts: list[int], sizes: tuple[int, ...], repeats: int, n0: float) -> float:
    if not counts or max(counts) < 2:
        return 1.0  # a point seen colliding once says nothing about concentration
    n0 = max(float(n0), 2.0) if np.isfinite(n0) else 2.0
    pmf = np.array([1.0])
    for s in sizes:  # one point's count: sum over samples of Bernoulli(P[Bin(s, 1/N0) >= 2])
        q = float(stats.binom.sf(1, s, 1.0 / n0))
        pmf = np.convolve(pmf, stats.binom.pmf(np.arange(repeats + 1), repeats, q))
    c = int(max(counts))
    tail = float(pmf[c:].sum()) if c < len(pmf) else 0.0
    return float(min(1.0, n0 * tail))
