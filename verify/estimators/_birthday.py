"""The birthday-paradox support test (Arora & Zhang 2017), with calibrated intervals and a non-uniformity flag.

Shape letters: ``s`` sample size, ``d`` point dimension, ``R`` repeats per size, ``k`` pairs flagged per
sample.

Procedure [paper]: draw ``s`` samples, flag the ``k`` closest pairs, decide which are duplicates, repeat; if
duplicates appear with probability >= 1/2 at sample size ``s``, the support is about ``s^2``
(``docs/papers/az17.md``). Here the decision is a stated rule (distance below a threshold, on full vectors
unless ``coords`` says otherwise), each collision probability carries a Clopper-Pearson interval, and the
support follows from the uniform model with the intervals of :mod:`._birthday_support`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from scipy import optimize, stats

from ganlimits.theory import (
    beta_upper_bound,
    check_allocation,
    check_number,
    check_open_unit,
    support_from_s_half,
    uniform_collision_probability,
)
from ganlimits.theory.az17 import beta_bound_hypotheses

from .._results import Estimate, to_jsonable
from ._birthday_support import HEADLINE_INTERVAL, crossing, support_fisher_width, support_intervals
from ._inputs import as_sampler, pick_rng, seed_of
from ._intervals import clopper_pearson
from ._pairs import closest_pairs, select_coordinates

__all__ = ["BirthdayResult", "CollisionPoint", "FrequentPoint", "birthday_test"]

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
    1/2 (interpolated; interval from simultaneous Clopper-Pearson bands). ``support_estimate``: the headline
    support interval (:data:`~ganlimits.verify.estimators.support.HEADLINE_INTERVAL`: uniform-model maximum likelihood
    ``N`` with the Neyman interval calibrated by simulation, each tail at most its share); ``support_intervals``: every
    interval type of
    :func:`~ganlimits.verify.estimators.support.support_intervals` by name. ``fisher_width``: the width an efficient
    interval would have at the estimate. ``support_estimate_paper``: the paper's ``(s_half / 1.18)^2``. ``beta_bound``:
    the upper bound on ``1/sum P(x)^2`` at the size whose collision rate is closest to 1/2 (``beta_size``).
    ``nonuniform``: collisions concentrate on a few points more than any uniform distribution of plausible
    support allows (``nonuniform_pvalue``); ``frequent`` names the points that collide most often.
    ``pool_size``: the number of points of a fixed pool the samples were drawn from (without replacement; None
    for a sampler); ``bounded_by_pool``: the support interval reaches the pool's size, so the pool, not the law
    behind it, bounds what the test saw (``note`` says so in words).
    """

    sizes: tuple[int, ...]
    repeats: int
    threshold: float
    k: int
    confidence: float
    curve: tuple[CollisionPoint, ...]
    s_half: Estimate
    support_estimate: Estimate
    support_intervals: dict[str, Estimate]
    fisher_width: float
    support_estimate_paper: float
    beta_bound: Estimate
    beta_size: int
    beta_hypotheses: dict[str, bool]
    nonuniform: bool
    nonuniform_pvalue: float
    frequent: tuple[FrequentPoint, ...]
    min_distances: np.ndarray = field(repr=False)
    seed: int | None = None
    pool_size: int | None = None
    bounded_by_pool: bool = False
    note: str = ""

    @property
    def collision_counts(self) -> np.ndarray:
        """Samples that collided, one count per size."""
        return np.array([c.collisions for c in self.curve])

    @property
    def collision_rates(self) -> np.ndarray:
        """Observed collision proportions, one per size."""
        return self.collision_counts / self.repeats

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
            "support_intervals": {k: v.to_dict() for k, v in self.support_intervals.items()},
            "fisher_width": self.fisher_width, "support_estimate_paper": self.support_estimate_paper,
            "beta_bound": self.beta_bound.to_dict(), "beta_size": self.beta_size,
            "beta_hypotheses": self.beta_hypotheses, "nonuniform": self.nonuniform,
            "nonuniform_pvalue": self.nonuniform_pvalue,
            "frequent": [{"count": f.count, "share": f.share, "example": f.example} for f in self.frequent],
            "seed": self.seed, "pool_size": self.pool_size, "bounded_by_pool": self.bounded_by_pool,
            "note": self.note,
        })


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
        self.keys = np.empty((0, 0))  # (capacity, d_coords) float64; len(counts) rows in use
        self.counts: list[int] = []
        self.first: list[tuple[torch.Tensor, tuple[int, int, int]]] = []

    def add(self, key: torch.Tensor, row: torch.Tensor, where: tuple[int, int, int], seen: set[int]) -> None:
        n = len(self.counts)
        k = key.numpy()
        if n:
            diff = self.keys[:n] - k
            dist = np.einsum("ij,ij->i", diff, diff)
            j = int(dist.argmin())
            if dist[j] < self.threshold**2:
                if j not in seen:  # one count per sample
                    self.counts[j] += 1
                    seen.add(j)
                return
        if n == self.keys.shape[0]:  # grow by doubling
            grown = np.empty((max(16, 2 * n), k.size))
            if n:
                grown[:n] = self.keys[:n]
            self.keys = grown
        self.keys[n] = k
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
    sample,
    *,
    sizes: Sequence[int],
    repeats: int,
    threshold: float,
    rng=None,
    k: int = 20,
    coords=None,
    confidence: float = 0.95,
    nonuniform_alpha: float = 0.01,
    calibration_draws: int = 1000,
    progress: bool = False,
    generator: torch.Generator | None = None,
) -> BirthdayResult:
    """Birthday-paradox estimate of the support size of the law behind ``sample``.

    Arora & Zhang (2017), "Do GANs learn the distribution?", birthday-paradox test (``docs/papers/az17.md``):

    .. math::
        \\Pr_N[\\text{collision among } s] = 1 - \\prod_{i=1}^{s-1}\\Bigl(1 - \\frac{i}{N}\\Bigr),
        \\qquad s_{1/2} \\approx \\sqrt{2 \\ln 2\\, N} \\approx 1.18\\sqrt N,
        \\qquad \\beta \\le \\frac{2M}{-3 + \\sqrt{9 + \\frac{24}{M}\\log\\frac{1}{1-\\gamma}}}.

    ``sample``: the samples as an ``(n, d)`` array or tensor (a finite pool, drawn from without replacement), or
    a sampler ``sample(s, generator)`` returning ``(s, d)`` points (or ``(x, labels)``), or a target; ``rng``: an
    integer seed or a ``torch.Generator`` (``generator=`` is its former name). For each size ``s`` and each of
    ``repeats`` draws, the ``k`` closest pairs on ``coords`` are found exactly
    (:func:`~ganlimits.verify.closest_pairs`) and a pair is a duplicate when its distance is ``< threshold``; the
    sample collides when any flagged pair is a duplicate.

    A finite pool of ``n`` points: every size must be ``<= n``, and a support interval that reaches ``n`` is
    ``bounded_by_pool`` — the samples of one pool are not independent, so the interval becomes ``[N_0, inf)``, its
    lower limit at most the support at which ``s_max`` (the largest size) independent draws are free of duplicates
    with probability ``(1 - confidence) / 2`` (what one duplicate-free set of ``s_max`` points shows), and ``note``
    says so.

    The general use is on full output vectors (``coords=None``), with ``threshold`` from held-out real data
    (:func:`~ganlimits.verify.threshold_from_reference`) and ``sizes`` from a pilot run
    (:func:`~ganlimits.verify.pilot_sizes`). ``coords`` restricts the comparison to known coordinates (a
    special case: e.g. the clean positions of a generator whose other outputs are known to be pure noise).

    Returns a :class:`BirthdayResult`:

    - ``curve``: collisions/repeats per size with a Clopper-Pearson interval at ``confidence``;
    - ``s_half``: the crossing of 1/2 by the monotone (isotonic) fit of the curve, linearly interpolated, with
      the interval of simultaneous Clopper-Pearson bands (valid for any increasing curve);
    - ``support_estimate``: the uniform-model maximum likelihood ``N`` with the Neyman interval ordered by the
      maximum likelihood, each tail at most ``(1 - confidence)/2``, from ``calibration_draws`` curves simulated
      under the uniform model (drawn from a numpy generator seeded by ``generator`` after the samples);
      ``support_intervals`` holds it and the other
      interval types (asymptotic likelihood ratio, Clopper-Pearson inversion, crossing bands), see
      :func:`~ganlimits.verify.estimators.support.support_intervals`; ``fisher_width`` the efficient width at the
      estimate; ``support_estimate_paper`` the paper's ``(s_half / 1.18)^2``;
    - ``beta_bound``: the effective-support bound at the size whose rate is closest to 1/2 (``beta_size``),
      interval from that size's Clopper-Pearson interval; ``beta_hypotheses`` tells whether the bound's
      hypotheses (``beta >= 1000``, ``M <= 2 sqrt(beta log beta)``) hold at the bound's value;
    - ``nonuniform``: each colliding point is matched across samples (distance ``< threshold``) and counted
      once per sample; under the uniform law on ``N0 = support_estimate.ci_low`` points, one point's count is
      a sum of independent Bernoulli(``P[Bin(s, 1/N0) >= 2]``) over all samples, and the union bound over the
      ``N0`` points gives ``nonuniform_pvalue = min(1, N0 P[count >= observed max])``; ``nonuniform`` when it
      is below ``nonuniform_alpha`` (a smaller ``N0`` makes high counts likelier, so the lower limit is
      conservative). ``frequent`` names the five most frequent colliding points.

    Deviation: the support is the maximum likelihood ``N`` of the exact product over the whole curve, not the
    paper's ``s_half^2 / (2 ln 2)`` (which overestimates small supports, 6% at ``N = 64``); both are reported.
    """
    sizes_t = _check_sizes(sizes)
    repeats = check_number("repeats", repeats, low=1, integer=True)
    threshold = check_number("threshold", threshold, low=0, low_open=True)
    k = check_number("k", k, low=1, integer=True)
    confidence = check_open_unit("confidence", confidence)
    nonuniform_alpha = check_open_unit("nonuniform_alpha", nonuniform_alpha)
    calibration_draws = check_number("calibration_draws", calibration_draws, low=100, integer=True)
    generator = pick_rng(rng, generator, "generator")
    sample = as_sampler(sample, "sample", finite=False)
    pool = sample.pool_size
    if pool is not None and sizes_t[-1] > pool:
        raise ValueError(f"sizes: s = {sizes_t[-1]} is larger than the sample: the pool holds n = {pool} points "
                         "(a finite pool is sampled without replacement)")
    check_allocation("sizes", sizes_t[-1], elements=float(sizes_t[-1]) * getattr(sample, "dim", 1))
    threshold = float(threshold)
    seed = seed_of(generator)

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
    n = repeats * len(sizes_t)
    s_half, s_lo, s_hi = crossing(sizes_t, counts, repeats, confidence)
    paper = support_from_s_half(s_half=s_half, exact=False) if np.isfinite(s_half) else float("nan")
    rng = np.random.default_rng(_child_seed(generator))
    intervals = support_intervals(sizes_t, counts, repeats, confidence=confidence,
                                  calibration_draws=calibration_draws, generator=rng, seed=seed)
    support = intervals[HEADLINE_INTERVAL]
    width = (support_fisher_width(sizes_t, repeats, support.estimate, confidence=confidence)
             if np.isfinite(support.estimate) and support.estimate > 1 else float("inf"))
    beta, beta_size, hyp = _beta(curve)
    pvalue = _nonuniform_pvalue(catalogue.counts, sizes_t, repeats, support.ci_low)
    order = np.argsort(-np.asarray(catalogue.counts, dtype=np.int64), kind="stable")[:5]
    frequent = tuple(
        FrequentPoint(catalogue.first[i][0], int(catalogue.counts[i]),
                      catalogue.counts[i] / max(collided_total, 1), catalogue.first[i][1])
        for i in order
    )
    bounded = pool is not None and not support.ci_high < pool
    note = ""
    if bounded:
        floor = _pool_floor(sizes_t[-1], confidence)
        support = Estimate(support.estimate, min(support.ci_low, floor), float("inf"), confidence, support.n,
                           f"{support.method}; bounded by the pool of n = {pool} points: lower limit at most that of "
                           f"one duplicate-free set of s = {sizes_t[-1]} draws", seed)
        note = (f"the samples are a finite pool of n = {pool} points: the support interval reaches n, so the pool "
                f"bounds what the test can see (support >= {support.ci_low:.3g}); draw more samples to see further")
    return BirthdayResult(
        sizes=sizes_t, repeats=int(repeats), threshold=threshold, k=int(k), confidence=float(confidence),
        curve=tuple(curve), s_half=_s_half_estimate(s_half, s_lo, s_hi, confidence, seed, n),
        support_estimate=support, support_intervals=intervals, fisher_width=width, support_estimate_paper=paper,
        beta_bound=beta, beta_size=beta_size, beta_hypotheses=hyp, nonuniform=bool(pvalue < nonuniform_alpha),
        nonuniform_pvalue=float(pvalue), frequent=frequent, min_distances=min_dist, seed=seed, pool_size=pool,
        bounded_by_pool=bool(bounded), note=note,
    )


def _pool_floor(n: int, confidence: float) -> float:
    """The support N at which ``n`` independent uniform draws are free of duplicates with probability
    ``(1 - confidence) / 2``: smaller supports would almost surely have put a duplicate into a set of n points."""
    if n < 2:
        return 1.0
    target = np.log((1 - confidence) / 2)
    i = np.arange(1, n, dtype=np.float64)
    f = lambda log_n: float(np.log1p(-i / np.exp(log_n)).sum()) - target  # noqa: E731  increasing in N
    lo, hi = np.log(float(n)), np.log(float(n)) + 2 * np.log(float(n)) + 10
    return float(np.exp(optimize.brentq(f, lo, hi, xtol=1e-9)))


def _child_seed(generator) -> int:
    """A seed for the calibration draws, taken from the test's own generator after its samples."""
    if isinstance(generator, torch.Generator):
        return int(torch.randint(0, 2**62, (1,), generator=generator))
    if isinstance(generator, np.random.Generator):
        return int(generator.integers(0, 2**62))
    raise ValueError(f"generator must be a torch.Generator or numpy.random.Generator, got {type(generator)}")


def _draw(sample, s: int, generator, coords) -> tuple[torch.Tensor, torch.Tensor]:
    """One sample ``(s, d)`` and its compared coordinates ``(s, d_coords)`` float64, validated (the sampler of
    the input protocol checks values and shape)."""
    x = sample(s, generator)
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
