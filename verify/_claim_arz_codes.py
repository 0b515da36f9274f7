"""Claim ``arz-codes``: Theorem 1 part (b) of Arora, Risteski & Zhang (arXiv 1711.02651) — the near-optimal
encoder's codes carry no information about the image.

The encoder of the theorem reads the noise coordinates, :math:`E(\\tilde x \\odot z) = z`, so for
:math:`x = \\tilde x \\odot z \\sim \\mu` the code is independent of the clean image and of its label:

.. math::

    E(x) = z \\perp\\!\\!\\!\\perp (\\tilde x, y), \\qquad
    \\Pr[\\text{probe}(E(x)) = y] = \\sum_c \\Pr[\\text{probe}(z) = c]\\,\\pi_c \\le \\max_c \\pi_c .

Two measurements, each with a control the same measurement must catch:

1. **Probe.** A logistic-regression probe (scikit-learn, standardised inputs) predicts the digit label from
   E(x); its held-out accuracy (Clopper-Pearson interval) must stay at chance, the majority-class frequency of
   the test set. Control: the same probe on a d'-dimensional PCA of the clean image must do far better.
2. **Reconstruction** (BiGAN-style): :math:`\\|P(x - G(E(x)))\\|` for the memorizing generator G against the
   random-pair baseline :math:`\\|P(x - x')\\|`, x' an independent draw of mu, P the projection on the clean
   positions (the image content). Since :math:`\\iota(z)` is independent of :math:`\\tilde x`, the clean part
   of G(E(x)) is a memorized image independent of x and the ratio of means is 1 up to the O(1/sqrt(m))
   spread of the memory. Control: the oracle autoencoder :math:`\\tilde x \\odot E(x)` (= x) has ratio 0.

Shape letters: ``n`` samples, ``d`` image dimension, ``d_code`` code dimension, ``m`` support size.

Deviation: the paper states part (b) in words ("essentially white noise"); the probe, its margin and the
reconstruction ratio are this project's explicit tests of it. The reconstruction norm is taken on the clean
positions: on the noise positions x and G(E(x)) agree exactly, while x - x' there is z - z', which would pull
the full-vector baseline away from the content comparison (the full-vector ratio is reported too).
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ganlimits.constructions import (
    GaussianBlockPartition,
    MemorizingGenerator,
    NoiseExtractingEncoder,
    NoiseModel,
    digits,
)
from ganlimits.theory import CLAIMS

from ._figures import new_figure, save_figure
from ._intervals import clopper_pearson
from ._registry import RunConfig
from ._results import ClaimResult, Estimate

__all__ = ["run", "chance_level", "probe_accuracy", "reconstruction_ratio"]

JITTER = 0.05
"""Per-pixel N(0, JITTER^2) jitter of the digits: the clean target is a kernel density (unbounded support)."""

CHANCE_MARGIN = 0.03
"""The code probe is "at chance" when its upper limit is <= chance + CHANCE_MARGIN; "clearly above" when its
lower limit exceeds it."""

POWER_MARGIN = 0.20
"""The PCA probe (control) must have its lower limit above chance + POWER_MARGIN."""

RECON_MARGIN = 0.10
"""Reconstruction at the random-pair baseline: bootstrap interval of the ratio above 1 - RECON_MARGIN; the
oracle control must have its upper limit below 1 - RECON_MARGIN."""


def _stream(seed: int, stream: int) -> torch.Generator:
    state = np.random.SeedSequence([int(seed), int(stream)]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state) & ((1 << 63) - 1))


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


def _settings(quick: bool) -> dict:
    return {
        "code_dim": 4,
        "k": 4 if quick else 8,
        "n_train": 2000 if quick else 20_000,
        "n_test": 2000 if quick else 20_000,
        "n_recon": 2000 if quick else 20_000,
        "bootstrap": 2000,
        "jitter": JITTER,
        "sigma": 1.0,
        "delta": 1e-3,
        "confidence": 0.95,
    }


def _noised_sample(clean, noise: NoiseModel, n: int, sigma: float, g: torch.Generator):
    """(x_clean, z, x, labels) with x = x_clean ⊙ z; the law of NoisedTarget, keeping the clean images."""
    x_clean, labels = clean.sample(n, generator=g)
    z = sigma * torch.randn(n, noise.code_dim, generator=g, dtype=torch.float64)
    return x_clean, z, noise.noised(x_clean, z), labels


def run(config: RunConfig) -> ClaimResult:
    """Probe the noise encoder's codes and the memorizing generator's reconstructions (see module docstring).

    Verdict: ``refuted`` when the code probe's lower limit exceeds chance + CHANCE_MARGIN or the memorizing
    reconstruction's upper limit is below 1 - RECON_MARGIN (the codes carry information); ``consistent`` when
    the code probe's upper limit is <= chance + CHANCE_MARGIN, the reconstruction's lower limit is >=
    1 - RECON_MARGIN, and both controls are caught (PCA probe lower limit > chance + POWER_MARGIN, oracle
    upper limit < 1 - RECON_MARGIN); otherwise ``inconclusive``. Each interval is at level 95%.
    """
    s = _settings(config.quick)
    seed = int(config.seed)
    conf = s["confidence"]
    clean = digits(jitter=s["jitter"])
    noise = NoiseModel(dim=clean.dim, code_dim=s["code_dim"])
    encoder = NoiseExtractingEncoder(noise=noise)

    # 1. probes
    xc_tr, _, x_tr, y_tr = _noised_sample(clean, noise, s["n_train"], s["sigma"], _stream(seed, 1))
    xc_te, _, x_te, y_te = _noised_sample(clean, noise, s["n_test"], s["sigma"], _stream(seed, 2))
    with torch.no_grad():
        code_tr, code_te = encoder(x_tr), encoder(x_te)
    code_probe = probe_accuracy(code_tr.numpy(), y_tr.numpy(), code_te.numpy(), y_te.numpy(),
                                confidence=conf, seed=seed)
    pca = PCA(n_components=s["code_dim"], svd_solver="full").fit(xc_tr.numpy())
    pca_probe = probe_accuracy(pca.transform(xc_tr.numpy()), y_tr.numpy(), pca.transform(xc_te.numpy()),
                               y_te.numpy(), confidence=conf, seed=seed)
    chance = code_probe["chance"]

    # 2. reconstruction
    partition = GaussianBlockPartition(k=s["k"], code_dim=s["code_dim"], sigma=s["sigma"])
    g = _stream(seed, 3)
    memory, _ = clean.sample(partition.m, generator=g)
    G = MemorizingGenerator(memory=memory, partition=partition, noise=noise, delta=s["delta"])
    xc, _, x, _ = _noised_sample(clean, noise, s["n_recon"], s["sigma"], g)
    _, _, x_other, _ = _noised_sample(clean, noise, s["n_recon"], s["sigma"], g)
    with torch.no_grad():
        code = encoder(x)
        recon = G.fast(code)
        oracle = noise.noised(xc, code)
    P = noise.clean_positions
    a = torch.linalg.vector_norm((x - recon)[:, P], dim=1).numpy()
    b = torch.linalg.vector_norm((x - x_other)[:, P], dim=1).numpy()
    a_oracle = torch.linalg.vector_norm((x - oracle)[:, P], dim=1).numpy()
    rng = np.random.default_rng([seed, 4])
    recon_ratio = reconstruction_ratio(a, b, confidence=conf, B=s["bootstrap"], rng=rng)
    oracle_ratio = reconstruction_ratio(a_oracle, b, confidence=conf, B=s["bootstrap"], rng=rng)
    full_ratio = float(torch.linalg.vector_norm(x - recon, dim=1).mean()
                       / torch.linalg.vector_norm(x - x_other, dim=1).mean())
    codes_exact = bool(torch.equal(encoder(recon), code))

    # verdict
    acc = code_probe["accuracy"]
    probe_at_chance = acc.ci_high <= chance + CHANCE_MARGIN
    probe_above = acc.ci_low > chance + CHANCE_MARGIN
    recon_at_baseline = recon_ratio.ci_low >= 1 - RECON_MARGIN
    recon_better = recon_ratio.ci_high < 1 - RECON_MARGIN
    pca_caught = pca_probe["accuracy"].ci_low > chance + POWER_MARGIN
    oracle_caught = oracle_ratio.ci_high < 1 - RECON_MARGIN
    caught = bool(pca_caught and oracle_caught)
    if probe_above or recon_better:
        verdict = "refuted"
    elif probe_at_chance and recon_at_baseline and caught:
        verdict = "consistent"
    else:
        verdict = "inconclusive"
    notes = [
        f"target: {clean.description}; support {clean.support}; code dimension {s['code_dim']}; "
        f"reconstruction by MemorizingGenerator (m = {partition.m}, delta = {s['delta']:g}, fast path).",
        f"chance = majority-class frequency of the {s['n_test']} test labels = {chance:.4g}; margins: "
        f"at chance {CHANCE_MARGIN}, power {POWER_MARGIN}, reconstruction {RECON_MARGIN}.",
        "reconstruction distances on the clean positions; the interval is a paired percentile bootstrap "
        "conditional on the drawn memory.",
    ]
    if not caught:
        notes.append("a control was not caught (PCA probe near chance or oracle not near 0): the "
                     "measurements lacked power, so no verdict")
    if not codes_exact:
        notes.append("E(G(z)) differed from z")

    measurements = {
        "chance": chance,
        "code_probe": {k: (v.to_dict() if isinstance(v, Estimate) else v) for k, v in code_probe.items()},
        "pca_probe": {k: (v.to_dict() if isinstance(v, Estimate) else v) for k, v in pca_probe.items()},
        "pca_explained_variance_ratio": pca.explained_variance_ratio_,
        "reconstruction_ratio": recon_ratio.to_dict(),
        "oracle_ratio": oracle_ratio.to_dict(),
        "reconstruction_ratio_full_vector": full_ratio,
        "mean_recon_distance": float(a.mean()),
        "mean_baseline_distance": float(b.mean()),
        "encoder_of_generator_is_identity": codes_exact,
        "m": partition.m,
        "test_label_counts": np.bincount(y_te.numpy(), minlength=10),
        "probe_at_chance": probe_at_chance,
        "reconstruction_at_baseline": recon_at_baseline,
        "pca_caught": pca_caught,
        "oracle_caught": oracle_caught,
    }
    figures = []
    if config.figures:
        figures.append(_figure(code_probe, pca_probe, recon_ratio, oracle_ratio, chance, config.out_dir))
    return ClaimResult(
        claim="arz-codes",
        source=CLAIMS["arz-codes"].source,
        verdict=verdict,
        params=s | {"m": partition.m, "seed": seed},
        seed=seed,
        measured=acc,
        bound={"value": chance + CHANCE_MARGIN, "label": f"chance {chance:.3g} + {CHANCE_MARGIN}",
               "chance": chance, "margin": CHANCE_MARGIN},
        control=pca_probe["accuracy"],
        control_caught=caught,
        summary=(f"code probe accuracy {acc.fmt()} vs chance {chance:.3g}; reconstruction / random pair "
                 f"{recon_ratio.estimate:.3g} [{recon_ratio.ci_low:.3g}, {recon_ratio.ci_high:.3g}]"),
        control_summary=(f"PCA-{s['code_dim']} probe {pca_probe['accuracy'].estimate:.3g} "
                         f"[{pca_probe['accuracy'].ci_low:.3g}, {pca_probe['accuracy'].ci_high:.3g}]; "
                         f"oracle ratio {oracle_ratio.estimate:.3g}"),
        measurements=measurements,
        figures=figures,
        notes=notes,
    )


def _figure(code_probe, pca_probe, recon, oracle, chance, out_dir) -> str:
    fig, axes = new_figure(ncols=2)
    ax = axes[0][0]
    for i, (label, est) in enumerate([("E(x) (noise code)", code_probe["accuracy"]),
                                      ("PCA of clean image", pca_probe["accuracy"])]):
        ax.errorbar([i], [est.estimate], yerr=[[est.estimate - est.ci_low], [est.ci_high - est.estimate]],
                    fmt="o", capsize=4, color=f"C{i}")
        ax.annotate(label, (i, est.ci_high), textcoords="offset points", xytext=(0, 6), ha="center",
                    fontsize=8)
    ax.axhline(chance, color="k", ls="--", lw=1, label=f"chance {chance:.3f}")
    ax.axhline(chance + CHANCE_MARGIN, color="k", ls=":", lw=1, label=f"chance + {CHANCE_MARGIN}")
    ax.set_xlim(-0.6, 1.6)
    ax.set_ylim(0, 1)
    ax.set_xticks([])
    ax.set_ylabel("held-out accuracy (Clopper-Pearson)")
    ax.set_title("logistic-regression probe of the label")
    ax.legend(fontsize=7, loc="center right")
    ax = axes[0][1]
    for i, (label, est) in enumerate([("G(E(x)), memorizing", recon), ("oracle x~ ⊙ E(x)", oracle)]):
        ax.errorbar([i], [est.estimate], yerr=[[est.estimate - est.ci_low], [est.ci_high - est.estimate]],
                    fmt="o", capsize=4, color=f"C{i + 2}")
        ax.annotate(label, (i, est.ci_high), textcoords="offset points", xytext=(0, 6), ha="center",
                    fontsize=8)
    ax.axhline(1.0, color="k", ls="--", lw=1, label="random pair baseline")
    ax.set_xlim(-0.6, 1.6)
    ax.set_ylim(-0.05, 1.3)
    ax.set_xticks([])
    ax.set_ylabel("mean ||P(x - recon)|| / mean ||P(x - x')||")
    ax.set_title("reconstruction vs random pairs")
    ax.legend(fontsize=7, loc="center right")
    return save_figure(fig, out_dir, "arz-codes_probe")
