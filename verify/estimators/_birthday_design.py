"""What the birthday-paradox test needs before it runs: the duplicate threshold, samplers, and the sample sizes.

Shape letters: ``n`` reference points, ``s`` sample size, ``d`` point dimension, ``R`` repeats per size.

Arora & Zhang (2017), "Do GANs learn the distribution?", birthday paradox test (``docs/papers/az17.md``): the
paper's human judge of near-duplicates becomes a stated distance rule, and its sample sizes come from a pilot
run, so that the test runs on a generator of unknown support (full output vectors by default).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from scipy import stats

from ganlimits.theory import check_allocation, check_number

from ._inputs import PoolSampler, as_points, as_sampler, pick_rng
from ._pairs import closest_pairs, nearest_neighbour_distances, select_coordinates

__all__ = ["threshold_from_reference", "threshold_from_noise", "pool_sampler", "pilot_sizes"]


def threshold_from_reference(x_real: torch.Tensor, *, quantile: float = 0.01, factor: float = 0.5,
                             coords=None) -> float:
    """Duplicate threshold from real data: ``factor`` times the ``quantile`` of nearest-neighbour distances.

    .. math::
        t = c \\cdot Q_q\\bigl(\\{\\min_{j \\ne i} \\|x_i - x_j\\| : i = 1..n\\}\\bigr),
        \\qquad q = 0.01,\\ c = 1/2

    Rule: a generated pair is a duplicate when it is closer than half of the distance that only 1% of real
    points come within of their nearest real neighbour, i.e. closer than distinct real samples ever are.
    ``x_real``: ``(n, d)``; use ``n`` at least the largest sample size tested (nearest-neighbour distances
    shrink with ``n``). Compare on the same ``coords`` as the test (default: full vectors).

    Calibrate on held-out data: points that are not the false-positive control's own sample (nor, for a trained
    generator, its training set), so that the control tests the rule rather than reproduces it.
    """
    quantile = check_number("quantile", quantile, low=0, high=1, low_open=True, high_open=True)
    factor = check_number("factor", factor, low=0, low_open=True)
    x_real = as_points(x_real, "x_real", min_rows=2)
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
    sigma = check_number("sigma", sigma, low=0, low_open=True)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"dim must be an integer >= 1, got {dim!r}")
    miss = check_number("miss", miss, low=0, high=1, low_open=True, high_open=True)
    return float(sigma * np.sqrt(2 * stats.chi2.isf(miss, dim)))


def pool_sampler(x) -> Callable[[int, torch.Generator], torch.Tensor]:
    """A ``sample(s, generator)`` that draws ``s`` distinct rows of the fixed pool ``x`` ``(n, d)`` (an array or
    a tensor; float64) without replacement, so that the pool's own rows never collide with themselves; ``s > n``
    raises ``ValueError``. The instruments do this themselves with an array: ``birthday_test(x, ...)``."""
    return PoolSampler(as_points(x, "x"), "x")


def _min_distance(x: torch.Tensor, coords) -> float:
    xs = select_coordinates(x, coords)
    if not bool(torch.isfinite(xs).all()):
        raise ValueError("sample(s, generator) returned NaN or infinite values")
    if xs.shape[0] > 256:  # blockwise, exact, bounded memory
        return float(closest_pairs(xs, 1)[1][0])
    d = torch.cdist(xs, xs, compute_mode="donot_use_mm_for_euclid_dist")
    d.fill_diagonal_(float("inf"))
    return float(d.min())


def pilot_sizes(sample, *, threshold: float, rng=None, n_sizes: int = 10, repeats: int = 10, coords=None,
                max_size: int = 4096, span: tuple[float, float] = (0.6, 2.4),
                generator: torch.Generator | None = None) -> tuple[int, ...]:
    """Sample sizes for :func:`~ganlimits.verify.birthday_test` on a law of unknown support, from a pilot run.

    Doubling ``s = 2, 4, 8, ...``, ``repeats`` samples each, until at least half of them hold a duplicate
    (a pair closer than ``threshold`` on ``coords``); the pilot crossing ``s_p`` interpolates the last two
    rates linearly in ``log s``. Returns ``n_sizes`` sizes spaced geometrically over ``span`` times ``s_p``
    (rounded, distinct, >= 2): under the uniform model the Fisher information on ``log N`` per sample,
    ``x^2 / (e^x - 1)`` with ``x = s^2 / (2N)``, is at least 1/3 of its peak for ``s`` from about 0.6 to 2.4
    times the crossing ``s_{1/2} = 1.18 sqrt(N)``.

    ``sample`` and ``rng`` as in :func:`~ganlimits.verify.birthday_test` (an array is a pool: ``max_size`` is
    then at most its size). No size returned exceeds ``max_size``. The pilot's samples are drawn from ``rng``
    before the test's own and are not reused, so the test's intervals hold conditionally on the sizes chosen.
    ``ValueError`` when no size up to ``max_size`` reaches 1/2 (the support is beyond this budget: about
    ``(max_size / 1.18)^2`` or more).
    """
    threshold = check_number("threshold", threshold, low=0, low_open=True)
    n_sizes = check_number("n_sizes", n_sizes, low=1, integer=True)
    repeats = check_number("repeats", repeats, low=2, integer=True)
    max_size = check_number("max_size", max_size, low=2, integer=True)
    lo_f, hi_f = (check_number("span", v, low=0, low_open=True) for v in span)
    if not lo_f < hi_f:
        raise ValueError(f"span must be increasing, got {span!r}")
    generator = pick_rng(rng, generator, "generator")
    sample = as_sampler(sample, "sample", finite=False)
    if sample.pool_size is not None:
        if sample.pool_size < 2:
            raise ValueError(f"sample: a pool of n = {sample.pool_size} point cannot collide")
        max_size = min(max_size, sample.pool_size)
    check_allocation("max_size", max_size, elements=float(max_size) * getattr(sample, "dim", 1))
    prev_s, prev_rate, s = 1.0, 0.0, 2
    while True:
        rate = np.mean([_min_distance(sample(s, generator), coords) < threshold for _ in range(repeats)])
        if rate >= 0.5:
            break
        if 2 * s > max_size:
            raise ValueError(f"max_size: fewer than half of the pilot samples collide at every s <= {max_size}; "
                             "the support is larger than this budget can see (raise max_size)")
        prev_s, prev_rate, s = float(s), float(rate), 2 * s
    t = (0.5 - prev_rate) / (rate - prev_rate)
    s_p = float(np.exp(np.log(prev_s) + t * (np.log(s) - np.log(prev_s))))
    top = min(float(max_size), max(3.0, hi_f * s_p))
    grid = np.geomspace(min(max(2.0, lo_f * s_p), top), top, n_sizes)
    return tuple(sorted({min(max_size, max(2, int(v))) for v in np.round(grid)}))
