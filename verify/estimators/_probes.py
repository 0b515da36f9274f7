"""Probes of what a representation carries, and the inception score.

- :func:`probe_accuracy` / :func:`chance_level` — a logistic-regression probe of a label from features, with a
  Clopper-Pearson interval, against the best label-blind rule (Arora, Risteski & Zhang 2017, Theorem 1 (b):
  the near-optimal encoder's codes carry nothing; ``docs/papers/arz17.md``);
- :func:`reconstruction_ratio` — mean reconstruction distance over mean random-pair distance, paired bootstrap;
- :func:`inception_score` — exp(E_x KL(p(y|x) || p(y))) (Salimans et al. 2016; Madry's lecture 9, section 4).

Shape letters: ``n`` samples, ``q`` feature width, ``c`` classes.
"""

from __future__ import annotations

import numpy as np
from scipy import special
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .._results import Estimate
from ._intervals import clopper_pearson

__all__ = ["chance_level", "probe_accuracy", "reconstruction_ratio", "inception_score"]


def chance_level(test_labels) -> float:
    """The majority-class frequency of the test labels: the best accuracy of a label-blind rule."""
    y = np.asarray(test_labels)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"test_labels must be a non-empty 1-d array, got shape {y.shape}")
    return float(np.bincount(y.astype(np.int64)).max() / y.size)


def probe_accuracy(
    train_features, train_labels, test_features, test_labels, *, confidence: float = 0.95,
    seed: int | None = None,
) -> dict:
    """Held-out accuracy of a logistic-regression probe, with a Clopper-Pearson interval.

    ``train_features`` (n_train, q), ``test_features`` (n_test, q), labels int (n,). The probe is
    ``StandardScaler`` then ``LogisticRegression(lbfgs, C=1, max_iter=2000)`` (deterministic given the data).
    Returns ``{"accuracy": Estimate, "chance": float, "excess_low": lower limit - chance}``.
    """
    Xtr = np.asarray(train_features, dtype=np.float64)
    Xte = np.asarray(test_features, dtype=np.float64)
    ytr = np.asarray(train_labels)
    yte = np.asarray(test_labels)
    if Xtr.ndim != 2 or Xte.ndim != 2 or Xtr.shape[1] != Xte.shape[1]:
        raise ValueError(f"train_features and test_features must be 2-d with equal widths, got {Xtr.shape} "
                         f"and {Xte.shape}")
    if Xtr.shape[0] != ytr.shape[0] or Xte.shape[0] != yte.shape[0]:
        raise ValueError("features and labels must have the same number of rows")
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    probe.fit(Xtr, ytr)
    correct = int((probe.predict(Xte) == yte).sum())
    acc = clopper_pearson(correct, yte.size, confidence=confidence, seed=seed)
    chance = chance_level(yte)
    return {"accuracy": acc, "chance": chance, "excess_low": acc.ci_low - chance,
            "excess_high": acc.ci_high - chance}


def reconstruction_ratio(
    recon_distances, baseline_distances, *, confidence: float = 0.95, B: int = 2000,
    rng: np.random.Generator,
) -> Estimate:
    """Ratio of mean reconstruction distance to mean random-pair distance, percentile-bootstrap interval.

    .. math::

        \\hat\\rho = \\frac{\\tfrac1n \\sum_i a_i}{\\tfrac1n \\sum_i b_i}, \\qquad
        a_i = \\|P(x_i - \\hat x_i)\\|,\\ b_i = \\|P(x_i - x'_i)\\|,

    ``recon_distances`` a (n,), ``baseline_distances`` b (n,) — pairs (a_i, b_i) share x_i and are resampled
    together, B times, from ``rng``; the interval is the (alpha/2, 1 - alpha/2) percentile of the resampled
    ratios (method ``"bootstrap-percentile(B)"``).
    """
    a = np.asarray(recon_distances, dtype=np.float64)
    b = np.asarray(baseline_distances, dtype=np.float64)
    if a.ndim != 1 or a.shape != b.shape or a.size < 2:
        raise ValueError(f"recon_distances and baseline_distances must be 1-d of equal length >= 2, got "
                         f"{a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()) or (a < 0).any() or (b < 0).any():
        raise ValueError("distances must be finite and >= 0")
    if not isinstance(B, int) or B < 100:
        raise ValueError(f"B must be an integer >= 100, got {B!r}")
    if b.sum() <= 0:
        raise ValueError("baseline_distances must not all be 0")
    n = a.size
    ratio = float(a.mean() / b.mean())
    boot = np.empty(B)
    for i in range(0, B, 250):  # (250, n) index blocks: bounded memory
        idx = rng.integers(0, n, size=(min(250, B - i), n))
        boot[i:i + idx.shape[0]] = a[idx].mean(axis=1) / b[idx].mean(axis=1)
    alpha = 1 - confidence
    lo, hi = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
    return Estimate(ratio, min(float(lo), ratio), max(float(hi), ratio), confidence, n,
                    f"bootstrap-percentile(B={B})")


def inception_score(probs) -> float:
    """Inception score of a sample from the class probabilities p(y|x_i) of a classifier (lecture 9,
    section 4; Salimans et al. 2016).

    .. math::
        \\mathrm{IS} = \\exp\\Bigl(\\frac1n \\sum_i \\mathrm{KL}\\bigl(p(y|x_i) \\,\\|\\, \\hat p(y)\\bigr)\\Bigr),
        \\qquad \\hat p(y) = \\frac1n \\sum_i p(y|x_i)

    ``probs`` (n, c), rows on the simplex. The value lies in [1, c].
    """
    P = np.asarray(probs, dtype=np.float64)
    if P.ndim != 2 or P.shape[0] < 1 or not np.all(np.isfinite(P)) or np.any(P < 0):
        raise ValueError("probs must be an (n, c) array of finite probabilities")
    if np.max(np.abs(P.sum(axis=1) - 1)) > 1e-9:
        raise ValueError("each row of probs must sum to 1")
    py = P.mean(axis=0)
    kl = special.rel_entr(P, py[None, :]).sum(axis=1)
    return float(np.exp(kl.mean()))
