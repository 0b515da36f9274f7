"""Probes of what a representation carries, and the inception score.

- :func:`probe_accuracy` / :func:`chance_level` — a logistic-regression probe of a label from features, with a
  Clopper-Pearson interval, against the best label-blind rule (Arora, Risteski & Zhang 2017, Theorem 1 (b):
  the near-optimal encoder's codes carry nothing; ``docs/papers/arz17.md``);
- :func:`leak_test` — the same probe as a one-sided test that the representation carries label information: the
  probe's accuracy against the population chance level, with an exact binomial p-value;
- :func:`label_probe` — that test on a user's encoder: labelled real draws, their codes E(x), the probe;
- :func:`memory_row_detector` — an out-of-class discriminator that sees mode collapse: is the clean part of x exactly
  the memory row that its code selects?
- :func:`reconstruction_ratio` — mean reconstruction distance over mean random-pair distance, paired bootstrap;
- :func:`inception_score` — exp(E_x KL(p(y|x) || p(y))) (Salimans et al. 2016; Madry's lecture 9, section 4).

Shape letters: ``n`` samples, ``q`` feature width, ``c`` classes.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import special
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ganlimits.theory import check_allocation, check_number

from .._results import Estimate
from ._inputs import as_labels, as_model, as_points, as_rng, as_sampler, seed_of
from ._intervals import binomial_pvalue, clopper_pearson

__all__ = ["chance_level", "probe_accuracy", "leak_test", "label_probe", "memory_row_detector",
           "reconstruction_ratio", "inception_score"]


def chance_level(test_labels) -> float:
    """The majority-class frequency of the test labels: the best accuracy of a label-blind rule."""
    y = np.asarray(test_labels)
    if y.ndim != 1 or y.size == 0:
        raise ValueError(f"test_labels must be a non-empty 1-d array, got shape {y.shape}")
    return float(np.bincount(y.astype(np.int64)).max() / y.size)


def probe_accuracy(
    train_features, train_labels, test_features, test_labels, *, confidence: float = 0.95,
    seed: int | None = None, sides: int = 2,
) -> dict:
    """Held-out accuracy of a logistic-regression probe, with a Clopper-Pearson interval.

    ``train_features`` (n_train, q), ``test_features`` (n_test, q), labels int (n,). The probe is
    ``StandardScaler`` then ``LogisticRegression(lbfgs, C=1, max_iter=2000)`` (deterministic given the data).
    Returns ``{"accuracy": Estimate, "chance": float, "excess_low": lower limit - chance, "correct": int}``
    (``sides=1``: one-sided Clopper-Pearson limits).
    """
    Xtr = as_points(train_features, "train_features", allow_1d=True).numpy()
    Xte = as_points(test_features, "test_features", allow_1d=True).numpy()
    if Xtr.shape[1] != Xte.shape[1]:
        raise ValueError(f"train_features and test_features must be 2-d with equal widths, got {Xtr.shape} "
                         f"and {Xte.shape}")
    ytr = as_labels(train_labels, "train_labels", Xtr.shape[0]).numpy()
    yte = as_labels(test_labels, "test_labels", Xte.shape[0]).numpy()
    probe = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    probe.fit(Xtr, ytr)
    correct = int((probe.predict(Xte) == yte).sum())
    acc = clopper_pearson(correct, yte.size, confidence=confidence, seed=seed, sides=sides)
    chance = chance_level(yte)
    return {"accuracy": acc, "chance": chance, "excess_low": acc.ci_low - chance,
            "excess_high": acc.ci_high - chance, "correct": correct}


def leak_test(train_features, train_labels, test_features, test_labels, *, chance: float,
              confidence: float = 0.95, seed: int | None = None) -> dict:
    """Does a representation carry label information? The logistic probe of :func:`probe_accuracy`, tested one-sided
    against the population chance level (the best accuracy of a label-blind rule, e.g. ``max_c pi_c``).

    H0: accuracy <= ``chance``. Returns ``{"accuracy": one-sided Clopper-Pearson Estimate, "excess": accuracy -
    chance, "pvalue": exact binomial Pr[X >= correct], X ~ Bin(n_test, chance), "detected": lower limit > chance}``.
    A leak is detected at level ``1 - confidence`` exactly when the p-value is below it.
    """
    if not 0 < chance < 1:
        raise ValueError(f"chance must lie in (0, 1), got {chance!r}")
    out = probe_accuracy(train_features, train_labels, test_features, test_labels, confidence=confidence, seed=seed,
                         sides=1)
    acc, n = out["accuracy"], int(np.asarray(test_labels).size)
    return {"accuracy": acc, "excess": acc.estimate - chance, "excess_low": acc.ci_low - chance,
            "excess_high": acc.ci_high - chance, "chance": chance,
            "pvalue": binomial_pvalue(out["correct"], n, chance, alternative="greater"),
            "detected": bool(acc.ci_low > chance)}


def label_probe(encoder, target, *, n_train: int = 2000, n_test: int = 2000, rng=None, chance: float | None = None,
                confidence: float = 0.95) -> dict:
    """Do a user's codes E(x) carry the label of x? :func:`leak_test` on labelled real draws (Arora, Risteski & Zhang
    2017, Theorem 1 (b): near-optimal codes may carry nothing; ``docs/papers/arz17.md``).

    ``encoder``: a torch module or a callable ``(n, d) -> (n, d_code)``; ``target``: a target (``sample(n,
    generator=) -> (x, labels)``) or a sampler ``(n, generator) -> (x, labels)``; ``rng``: an integer seed or a
    ``torch.Generator`` (draws: ``n_train`` then ``n_test`` labelled points). ``chance``: the population chance level
    (default: the majority-class share of a :class:`~ganlimits.constructions.GaussianMixtureTarget`, else of the
    training labels). Returns the dict of :func:`leak_test` plus ``n_train`` and ``seed``.
    """
    n_train = check_number("n_train", n_train, low=2, integer=True)
    n_test = check_number("n_test", n_test, low=1, integer=True)
    for name, value in (("n_train", n_train), ("n_test", n_test)):
        check_allocation(name, value, elements=float(value))
    gen = as_rng(rng)
    E, sampler = as_model(encoder, "encoder"), as_sampler(target, "target")
    if not hasattr(sampler, "labelled"):
        raise ValueError("target must give labels: a target, or a sampler returning (x, labels)")
    (x_tr, y_tr), (x_te, y_te) = sampler.labelled(n_train, gen), sampler.labelled(n_test, gen)
    if y_tr is None or y_te is None:
        raise ValueError("target must give labels: a target, or a sampler returning (x, labels)")
    if chance is None:
        from ganlimits.constructions import GaussianMixtureTarget, class_probabilities

        probs = (class_probabilities(target) if isinstance(target, GaussianMixtureTarget)
                 else np.bincount(y_tr.numpy()) / n_train)
        chance = float(np.max(probs))
    out = leak_test(E(x_tr).numpy(), y_tr.numpy(), E(x_te).numpy(), y_te.numpy(), chance=chance,
                    confidence=confidence, seed=seed_of(gen))
    return {**out, "n_train": int(n_train), "seed": seed_of(gen)}


class _MemoryRowDetector:
    """D(x, code) = 1 when the clean part of x equals that of generator(code), else 0."""

    def __init__(self, generator) -> None:
        self.generator = generator
        self.clean = generator.noise.clean_positions
        self.name = f"memory-row detector of {getattr(generator, 'name', type(generator).__name__)}"

    def __call__(self, x, code) -> torch.Tensor:
        x = torch.as_tensor(x, dtype=torch.float64)
        with torch.no_grad():
            rows = self.generator(torch.as_tensor(code, dtype=torch.float64))
        return (x[:, self.clean] == rows[:, self.clean]).all(dim=1).to(torch.float64)


def memory_row_detector(generator):
    r"""An out-of-class discriminator that sees mode collapse (Arora, Risteski & Zhang 2017, Theorem 1 (a)).

    .. math::

        D(x, c) = \mathbb 1\big[P x = P\, G(c)\big],

    P the clean (non-noise) positions of ``generator.noise``. On the generator's own pairs (G(z), z) it is 1; on real
    pairs (x, E(x)) of a target with continuous clean content (e.g. jittered digits) the clean part equals the memory
    row the code selects with probability 0, so the gap is 1 for a memorizing generator, whatever m. It is the
    nearest-memory-row detector at radius 0, restricted to the one row the code selects (any other row matches a
    continuous draw with probability 0 too). ``x`` (n, d), ``code`` (n, d_code) -> (n,) float64 in {0, 1}.
    """
    if not hasattr(generator, "noise"):
        raise ValueError("generator must have a noise model (attribute noise), e.g. a memorizing generator")
    return _MemoryRowDetector(generator)


def reconstruction_ratio(
    recon_distances, baseline_distances, *, confidence: float = 0.95, B: int = 2000,
    rng,
) -> Estimate:
    """Ratio of mean reconstruction distance to mean random-pair distance, percentile-bootstrap interval.

    .. math::

        \\hat\\rho = \\frac{\\tfrac1n \\sum_i a_i}{\\tfrac1n \\sum_i b_i}, \\qquad
        a_i = \\|P(x_i - \\hat x_i)\\|,\\ b_i = \\|P(x_i - x'_i)\\|,

    ``recon_distances`` a (n,), ``baseline_distances`` b (n,) — pairs (a_i, b_i) share x_i and are resampled
    together, B times, from ``rng`` (an integer seed, a ``torch.Generator`` or a ``numpy.random.Generator``); the
    interval is the (alpha/2, 1 - alpha/2) percentile of the resampled ratios (method ``"bootstrap-percentile(B)"``).
    """
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=as_rng(rng))))
    a = as_points(recon_distances, "recon_distances", allow_1d=True, finite=False).numpy()[:, 0]
    b = as_points(baseline_distances, "baseline_distances", allow_1d=True, finite=False).numpy()[:, 0]
    if np.ndim(recon_distances) != 1 or np.ndim(baseline_distances) != 1 or a.shape != b.shape or a.size < 2:
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
