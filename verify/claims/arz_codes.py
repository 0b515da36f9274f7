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

from dataclasses import dataclass

import numpy as np
import torch
from sklearn.decomposition import PCA

from ganlimits.constructions import (
    GaussianBlockPartition,
    MemorizingGenerator,
    NoiseExtractingEncoder,
    NoiseModel,
    digits,
)

from .._figures import new_figure, save_figure
from .._registry import RunConfig
from .._results import ClaimResult, Estimate
from ..estimators import probe_accuracy, reconstruction_ratio
from ._common import CONFIDENCE, DIGITS_JITTER, CheckedSettings, make_result, resolve_settings

__all__ = ["run"]

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


@dataclass(frozen=True)
class Settings(CheckedSettings):
    """Settings of ``arz-codes``: code dimension d', m = k^d' memorized images for the reconstruction, sample sizes of
    the probe (``n_train``, ``n_test``) and of the reconstruction (``n_recon``), ``bootstrap`` resamples, the digits
    ``jitter``, the code std ``sigma`` and the TV budget ``tv_budget`` of the ReLU generator."""

    k: int
    n_train: int
    n_test: int
    n_recon: int
    code_dim: int = 4
    bootstrap: int = 2000
    jitter: float = DIGITS_JITTER
    sigma: float = 1.0
    tv_budget: float = 1e-3
    confidence: float = CONFIDENCE

    @classmethod
    def quick(cls) -> Settings:
        return cls(k=4, n_train=2000, n_test=2000, n_recon=2000)

    @classmethod
    def full(cls) -> Settings:
        return cls(k=8, n_train=20_000, n_test=20_000, n_recon=20_000)


def _noised_sample(clean, noise: NoiseModel, n: int, sigma: float, g: torch.Generator):
    """(x_clean, z, x, labels) with x = x_clean ⊙ z; the law of NoisedTarget, keeping the clean images."""
    x_clean, labels = clean.sample(n, generator=g)
    z = sigma * torch.randn(n, noise.code_dim, generator=g, dtype=torch.float64)
    return x_clean, z, noise.noised(x_clean, z), labels


def run(config: RunConfig, settings: Settings | None = None) -> ClaimResult:
    """Probe the noise encoder's codes and the memorizing generator's reconstructions (see module docstring).

    Verdict: ``refuted`` when the code probe's lower limit exceeds chance + CHANCE_MARGIN or the memorizing
    reconstruction's upper limit is below 1 - RECON_MARGIN (the codes carry information); ``consistent`` when
    the code probe's upper limit is <= chance + CHANCE_MARGIN, the reconstruction's lower limit is >=
    1 - RECON_MARGIN, and both controls are caught (PCA probe lower limit > chance + POWER_MARGIN, oracle
    upper limit < 1 - RECON_MARGIN); otherwise ``inconclusive``. Each interval is at level 95%.
    """
    s = resolve_settings(Settings, config, settings)
    seed = int(config.seed)
    conf = s.confidence
    clean = digits(jitter=s.jitter)
    noise = NoiseModel(dim=clean.dim, code_dim=s.code_dim)
    encoder = NoiseExtractingEncoder(noise=noise)

    # 1. probes
    xc_tr, _, x_tr, y_tr = _noised_sample(clean, noise, s.n_train, s.sigma, _stream(seed, 1))
    xc_te, _, x_te, y_te = _noised_sample(clean, noise, s.n_test, s.sigma, _stream(seed, 2))
    with torch.no_grad():
        code_tr, code_te = encoder(x_tr), encoder(x_te)
    code_probe = probe_accuracy(code_tr.numpy(), y_tr.numpy(), code_te.numpy(), y_te.numpy(),
                                confidence=conf, seed=seed)
    pca = PCA(n_components=s.code_dim, svd_solver="full").fit(xc_tr.numpy())
    pca_probe = probe_accuracy(pca.transform(xc_tr.numpy()), y_tr.numpy(), pca.transform(xc_te.numpy()),
                               y_te.numpy(), confidence=conf, seed=seed)
    chance = code_probe["chance"]

    # 2. reconstruction
    partition = GaussianBlockPartition(k=s.k, code_dim=s.code_dim, sigma=s.sigma)
    g = _stream(seed, 3)
    memory, _ = clean.sample(partition.m, generator=g)
    G = MemorizingGenerator(memory=memory, partition=partition, noise=noise, tv_budget=s.tv_budget)
    xc, _, x, _ = _noised_sample(clean, noise, s.n_recon, s.sigma, g)
    _, _, x_other, _ = _noised_sample(clean, noise, s.n_recon, s.sigma, g)
    with torch.no_grad():
        code = encoder(x)
        recon = G.fast(code)
        oracle = noise.noised(xc, code)
    P = noise.clean_positions
    a = torch.linalg.vector_norm((x - recon)[:, P], dim=1).numpy()
    b = torch.linalg.vector_norm((x - x_other)[:, P], dim=1).numpy()
    a_oracle = torch.linalg.vector_norm((x - oracle)[:, P], dim=1).numpy()
    rng = np.random.default_rng([seed, 4])
    recon_ratio = reconstruction_ratio(a, b, confidence=conf, B=s.bootstrap, rng=rng)
    oracle_ratio = reconstruction_ratio(a_oracle, b, confidence=conf, B=s.bootstrap, rng=rng)
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
        f"target: {clean.description}; support {clean.support}; code dimension {s.code_dim}; "
        f"reconstruction by MemorizingGenerator (m = {partition.m}, delta = {s.tv_budget:g}, fast path).",
        f"chance = majority-class frequency of the {s.n_test} test labels = {chance:.4g}; margins: "
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
    return make_result(
        "arz-codes", config, s,
        verdict=verdict,
        params={"m": partition.m},
        measured=acc,
        bound={"value": chance + CHANCE_MARGIN, "label": f"chance {chance:.3g} + {CHANCE_MARGIN}",
               "chance": chance, "margin": CHANCE_MARGIN},
        control=pca_probe["accuracy"],
        control_caught=caught,
        summary=(f"code probe accuracy {acc.fmt()} vs chance {chance:.3g}; reconstruction / random pair "
                 f"{recon_ratio.estimate:.3g} [{recon_ratio.ci_low:.3g}, {recon_ratio.ci_high:.3g}]"),
        control_summary=(f"PCA-{s.code_dim} probe {pca_probe['accuracy'].estimate:.3g} "
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
