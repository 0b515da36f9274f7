r"""The planted pairs of claim ``agl17-mixgan``: generators that cover known numbers of modes, paired over seeds with
a known mean difference and a seed-to-seed spread matched to the one measured on the trained runs
(``docs/papers/agl17.md``, "MIX+GAN"; the paired test is ``veegan-benchmark``'s,
:mod:`ganlimits.verify.claims._paired`).

A planted pair for n seeds: the baseline arm covers :math:`a_s = 1 + Y_s` modes and the mixture arm
:math:`b_s = 1 + X_s + J_s`, with :math:`X_s, Y_s \sim \mathrm{Bin}(m, p)` and :math:`J_s = \lfloor\delta\rfloor +
\mathrm{Bernoulli}(\delta - \lfloor\delta\rfloor)` independent, so that the difference :math:`d_s = X_s - Y_s + J_s`
has mean exactly :math:`\delta` and variance :math:`2 m p (1 - p) + \{\delta\}(1 - \{\delta\})`. The spread is set
to the measured one: m is the smallest count with :math:`m/2 \ge v` and p solves :math:`2 m p (1 - p) = v` for the
measured variance v of the trained differences (floored at the paired test's own floor 1/n), so the planted
differences are never less spread than the trained ones (the family of ``veegan-benchmark`` plants at least 2
modes² of variance, which at 5 seeds hides improvements that consistent trained runs show). Both arms stay within
:math:`[1, 1 + m + \lceil\delta\rceil]`; when the target's K modes cannot hold that, m is capped and the planted
spread falls below the measured one (``capped``: the resolution would be optimistic). Each planted generator emits
its samples exactly at the means of a uniform random subset of the target's modes (a generator of support k), so
the metric counts exactly k (every trial records whether it did).

Shape letters: ``n`` samples, ``K`` mixture components.
"""

from __future__ import annotations

import math

import numpy as np

from ...lab import lab_target
from .._paired import STRENGTHS, score_planted_pair

__all__ = ["planted_spread", "planted_counts", "power_trial"]


def planted_spread(measured_var: float, n_seeds: int, n_modes: int) -> tuple[int, float, bool]:
    """``(m, p, capped)`` of the planted family (module docstring) for the measured variance of the differences.

    >>> m, p, capped = planted_spread(0.0, 5, 25)  # identical differences: the paired test's floor 1/n
    >>> m, round(2 * m * p * (1 - p), 12), capped
    (1, 0.2, False)
    """
    v = max(float(measured_var), 1.0 / n_seeds)
    m_max = max(1, n_modes - 1 - math.ceil(max(STRENGTHS)))
    m = max(1, math.ceil(2 * v - 1e-12))
    capped = m > m_max
    m = min(m, m_max)
    p = 0.5 * (1 - math.sqrt(max(0.0, 1 - 2 * v / m))) if 2 * v <= m else 0.5
    return m, p, capped


def planted_counts(delta: float, m: int, p: float, n_seeds: int, rng: np.random.Generator):
    """Covered-mode counts (baseline arm, mixture arm) of a planted pair over ``n_seeds`` seeds (module
    docstring): mean difference ``delta`` exactly."""
    y = rng.binomial(m, p, n_seeds)
    x = rng.binomial(m, p, n_seeds)
    whole = math.floor(delta)
    jump = whole + rng.binomial(1, delta - whole, n_seeds)
    return 1 + y, 1 + x + jump


def power_trial(config: dict, seed: int) -> dict:
    """One planted pair through the verdict's pipeline (:func:`~ganlimits.verify.claims._paired.score_planted_pair`:
    planted generators -> ``n_eval`` samples each -> the lab's mode metric -> the paired lower limit); ``detected``
    when it is above 0. ``config``: target name and constants, ``delta``, ``m``, ``p``, ``seeds``, ``n_eval``,
    ``confidence``."""
    target = lab_target(config["target"], **config["constants"])
    rng = np.random.default_rng(seed)
    counts = planted_counts(config["delta"], config["m"], config["p"], config["seeds"], rng)
    est, exact = score_planted_pair(target, counts, n_eval=config["n_eval"], confidence=config["confidence"], rng=rng)
    return {"detected": bool(est.ci_low > 0), "estimate": est.estimate, "ci_low": est.ci_low,
            "metric_matches_planted": bool(exact)}
