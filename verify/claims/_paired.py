r"""Paired comparisons of modes captured over seeds, and the planted generators that test them, for the claims
``veegan-benchmark`` (``docs/papers/veegan.md``) and ``agl17-mixgan`` (``docs/papers/agl17.md``, "MIX+GAN": the same
test, unit, strengths and scoring of planted pairs; its own planted family in ``agl17/_mixgan_paired``); the verdict
rule in ``docs/design.md``.

The paired statistic. For a target and a baseline B, seed s gives :math:`d_s = \text{modes}(\text{VEEGAN}, s) -
\text{modes}(B, s)` (both runs share the seed's data and evaluation streams). With :math:`\bar d` the mean over n
seeds and :math:`S` their standard deviation, the one-sided Student limits at level :math:`1 - \alpha` are

.. math::

    L = \bar d - t_{1-\alpha, n-1} \frac{S^*}{\sqrt n}, \qquad U = \bar d + t_{1-\alpha, n-1} \frac{S^*}{\sqrt n},
    \qquad S^* = \max(S, 1/\sqrt n) .

Deviation (the floor :math:`1/\sqrt n`): mode counts are integers, and n identical differences (S = 0, common
when two methods both capture every mode, or both collapse onto one) would give a zero-width interval that claims
certainty from a handful of seeds. The floor is the standard deviation of the smallest sample that is not
degenerate — n - 1 equal differences and one that differs by one mode — so identical differences are read as
compatible with that much spread. At 5 seeds and 95% it widens such an interval to +-0.43 modes.

Planted generators. A planted generator covering a set of k modes emits 2,500 samples spread round-robin over those
modes, each exactly at its mode's mean (a generator of support k), so that the metric counts exactly k modes (the
claim's tests check this, and every planted trial records whether the count matched). A planted *pair* for n
seeds: the baseline arm covers :math:`k_s = 1 + w - U_s` modes and the VEEGAN arm :math:`k'_s = 1 + w + U_s + J_s`,
with :math:`U_s \sim \mathrm{Bin}(2w, 1/2) - w` and :math:`J_s = \lfloor\delta\rfloor +
\mathrm{Bernoulli}(\delta - \lfloor\delta\rfloor)` independent, so that the difference :math:`d_s = 2 U_s + J_s`
has mean exactly :math:`\delta` and standard deviation :math:`\sqrt{2w + \{\delta\}(1 - \{\delta\})}` while both
arms stay within :math:`[1, 1 + 2w + \lceil\delta\rceil]` (the paired test sees only :math:`d_s`; moving the arms in
opposite directions fits twice the variance into the K modes of a target). The covered sets are uniform random
subsets of the target's modes.

Shape letters: ``n`` samples, ``d`` dimension, ``K`` mixture components.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import stats

from ganlimits.constructions import GaussianMixtureTarget

from .._results import Estimate
from ..lab import lab_target, mode_metrics

__all__ = ["PAIRED_TEST", "paired_limits", "PairedComparison", "planted_samples", "planted_pair_counts",
           "planted_spread", "score_planted_pair", "power_trial", "STRENGTHS", "CONTROL_STRENGTH", "UNIT"]

PAIRED_TEST = "paired Student t, one-sided, s.d. floored at 1/sqrt(n)"
"""The paired test's name, part of every planted trial's key (a changed test never reuses stale trials)."""
UNIT = 1.0
"""One mode: the scale of a comparison (the bound 0 has none); the baseline of the verdict helpers is -UNIT."""
STRENGTHS = (1.0, 1.5, 2.0, 3.0)
"""Planted mean mode differences (modes) of the power curve."""
CONTROL_STRENGTH = 1.5
"""The near-boundary control's planted difference: 2.5 times the bound's distance from the baseline -1 mode."""


def _spread(d: np.ndarray) -> float:
    """S* = max(S, 1/sqrt(n)) (module docstring)."""
    return max(float(d.std(ddof=1)), 1.0 / math.sqrt(d.size))


def paired_limits(diffs, *, confidence: float, seed: int | None = None) -> Estimate:
    """Mean of the paired differences with one-sided Student limits at ``confidence`` (sides = 1), with the
    integer floor on the spread (module docstring)."""
    d = np.asarray(diffs, dtype=np.float64)
    n = d.size
    if n < 2:
        raise ValueError(f"seeds: a paired interval needs at least 2 seeds, got {n}")
    mean = float(d.mean())
    half = float(stats.t.ppf(confidence, n - 1) * _spread(d) / math.sqrt(n))
    return Estimate(mean, mean - half, mean + half, confidence, n,
                    "paired Student t, one-sided limits, s.d. floored at 1/sqrt(n)", seed, sides=1)


def _pvalues(diffs) -> tuple[float, float]:
    """One-sided paired-t p-values (same floored spread as the limits): of H0 mean <= 0 (against "more") and of
    H0 mean >= 0 (against "not more")."""
    d = np.asarray(diffs, dtype=np.float64)
    t = d.mean() / (_spread(d) / math.sqrt(d.size))
    return float(stats.t.sf(t, d.size - 1)), float(stats.t.cdf(t, d.size - 1))


@dataclass(frozen=True)
class PairedComparison:
    """VEEGAN against one baseline on one target: the per-seed differences, the support limits (one-sided at
    ``confidence``) and the refutation limit (one-sided at ``1 - (1 - confidence) / family``, Bonferroni over the
    ``family`` comparisons that could each refute the claim)."""

    target: str
    baseline: str
    diffs: tuple[float, ...]
    support: Estimate
    refute_upper: float
    refute_confidence: float
    pvalue: float
    pvalue_less: float

    @classmethod
    def from_diffs(cls, target: str, baseline: str, diffs, *, confidence: float, family: int,
                   seed: int | None = None) -> PairedComparison:
        support = paired_limits(diffs, confidence=confidence, seed=seed)
        refute_conf = 1 - (1 - confidence) / family
        refute = paired_limits(diffs, confidence=refute_conf, seed=seed)
        return cls(target, baseline, tuple(float(x) for x in diffs), support, refute.ci_high, refute_conf,
                   *_pvalues(diffs))

    @property
    def supports(self) -> bool:
        """VEEGAN captures more modes: the lower limit is above 0."""
        return self.support.ci_low > 0

    @property
    def contradicts(self) -> bool:
        """VEEGAN does not capture more modes: the (Bonferroni) upper limit is at most 0."""
        return self.refute_upper <= 0

    def to_dict(self) -> dict:
        return {"target": self.target, "baseline": self.baseline, "diffs": list(self.diffs),
                "estimate": self.support.to_dict(), "refute_upper": self.refute_upper,
                "refute_confidence": self.refute_confidence, "pvalue_greater": self.pvalue,
                "pvalue_less": self.pvalue_less,
                "supports": self.supports, "contradicts": self.contradicts}


def planted_samples(target: GaussianMixtureTarget, modes, n: int) -> torch.Tensor:
    """(n, d) samples of a planted generator that covers exactly ``modes`` (component indices): sample j is the mean
    of mode ``modes[j % k]`` (a generator of support k; every covered mode gets n / k >= 100 samples here)."""
    modes = torch.as_tensor(list(modes), dtype=torch.int64)
    if modes.numel() == 0 or int(modes.min()) < 0 or int(modes.max()) >= target.n_components:
        raise ValueError(f"modes must be component indices in [0, {target.n_components}), got {modes.tolist()}")
    return target.means.index_select(0, modes[torch.arange(n) % modes.numel()])


def planted_spread(measured_sd: float, n_modes: int) -> tuple[int, bool]:
    """``(w, capped)``: the planted family's w, whose seed-to-seed s.d. sqrt(2 w) is at least the measured one (w =
    half the measured variance, rounded up, at least 1), and whether the K modes of the target forced a smaller w
    (then the planted spread is below the measured one and the resolution would be optimistic)."""
    w_max = max(1, (n_modes - 1 - math.ceil(max(STRENGTHS))) // 2)
    want = max(1, math.ceil(measured_sd ** 2 / 2 - 1e-9))
    return min(want, w_max), want > w_max


def planted_pair_counts(delta: float, w: int, n_seeds: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Covered-mode counts (baseline arm, VEEGAN arm) of a planted pair over ``n_seeds`` seeds (module docstring):
    true mean difference ``delta``, seed-to-seed s.d. sqrt(2 w + frac(delta)(1 - frac(delta)))."""
    u = rng.binomial(2 * w, 0.5, n_seeds) - w
    whole = math.floor(delta)
    jump = whole + rng.binomial(1, delta - whole, n_seeds)
    return 1 + w - u, 1 + w + u + jump


def score_planted_pair(target: GaussianMixtureTarget, counts, *, n_eval: int, confidence: float,
                       rng: np.random.Generator) -> tuple[Estimate, bool]:
    """A planted pair through the verdict's pipeline: ``counts`` = (baseline arm, better arm) covered-mode counts per
    seed; each count k becomes a planted generator on a uniform random k-subset of the target's modes (drawn from
    ``rng``, arm by arm, seed by seed), ``n_eval`` samples of it go through the lab's mode metric, and the counted
    differences (better minus baseline) get the paired one-sided limits at ``confidence``. Returns those limits and
    whether the metric counted every planted generator exactly."""
    K = target.n_components
    counted = []
    for arm in counts:
        row = []
        for k in arm:
            modes = rng.choice(K, size=int(k), replace=False)
            row.append(mode_metrics(planted_samples(target, modes, n_eval), target).modes)
        counted.append(row)
    exact = all(row == [int(k) for k in arm] for row, arm in zip(counted, counts, strict=True))
    return paired_limits(np.subtract(counted[1], counted[0]), confidence=confidence), exact


def power_trial(config: dict, seed: int) -> dict:
    """One planted pair through the verdict's pipeline (:func:`score_planted_pair`: planted generators -> 2,500
    samples each -> the lab's mode metric -> the paired lower limit); ``detected`` when it is above 0. ``config``:
    target name and constants, ``delta``, ``w``, ``seeds``, ``n_eval``, ``confidence``."""
    target = lab_target(config["target"], **config["constants"])
    rng = np.random.default_rng(seed)
    counts = planted_pair_counts(config["delta"], config["w"], config["seeds"], rng)
    est, exact = score_planted_pair(target, counts, n_eval=config["n_eval"], confidence=config["confidence"], rng=rng)
    return {"detected": bool(est.ci_low > 0), "estimate": est.estimate, "ci_low": est.ci_low, "ci_high": est.ci_high,
            "metric_matches_planted": bool(exact)}
