r"""Claim ``arz-codes``: Theorem 1 part (b) of Arora, Risteski & Zhang (arXiv 1711.02651) — the near-optimal
encoder's codes carry no information about the image.

The encoder of the theorem reads the noise coordinates, :math:`E(\tilde x \odot z) = z`, so for
:math:`x = \tilde x \odot z \sim \mu` the code is independent of the clean image and of its label:

.. math::

    E(x) = z \perp\!\!\!\perp (\tilde x, y), \qquad
    \Pr[\text{probe}(E(x)) = y] = \sum_c \Pr[\text{probe}(z) = c]\,\pi_c \le \max_c \pi_c .

**Exact part (decides a refutation).** (1) E's weights on the clean positions are exactly 0 and E(x̃ ⊙ z) = z bit
for bit for every x̃ tried (so the code is a function of z alone, independent of the content); (2) E(G(z)) = z bit for
bit for the ReLU memorizing generator (literal network and fast path). A perturbed encoder that reads one clean pixel
must fail check (1) (its exact control).

**Statistical part.** The claim: no predictor of the label from the code beats chance by more than ``margin``,

.. math::

    \sup_{\text{probe}} \Pr[\text{probe}(E(x)) = y] \le \max_c \pi_c + \text{margin},

with the margin stated before anything is measured (``Settings.margin``, 0.02: two points of accuracy over a chance
level of about 0.10 — a code that lets one guess the digit a fifth better than chance is counted as carrying label
information). The verdict's attack is a logistic-regression probe trained on ``n_train`` codes; its held-out accuracy
has one-sided Clopper-Pearson limits at 95% (a lower bound on the sup over probes). ``decide`` of ``docs/design.md``:
``consistent`` when the upper limit is within chance + margin, ``refuted`` when the lower limit exceeds it.

**Could it have failed?** Planted encoders that leak the label at known rates (``LabelLeakingEncoder``: at rate ρ the
code carries the label, 20 σ from the unleaked codes). Their best accuracy is certified from both sides, exactly:
at most ρ + (1 - ρ) max_c π_c (unleaked codes are independent of the label), and at least the accuracy of an explicit
rule (nearest leak centre outside the disc of radius 10 σ, the majority class inside it), ρ (1 - e^{-a²/2}) +
(1 - ρ) max_c π_c (1 - e^{-50}) with a = 20 sin(π/10) ≈ 6.18 (Rayleigh tails of the 2-d noise). (1) The
near-boundary control leaks ``control_factor`` margins above chance and must be caught (lower limit above chance +
margin) at the verdict's n. (2) The probe's power curve over leaks of ``leak_factors`` margins, ``power_repeats``
probes each (>= 14 for a resolution), detection against the same bound: the resolution is measured, not assumed.

**Reported beside it:** the BiGAN reconstruction :math:`\|P(x - G(E(x)))\|` against the random-pair baseline
:math:`\|P(x - x')\|` (ratio of means, paired bootstrap; about 1, since G's clean part is a memory row independent of
x), with the oracle autoencoder :math:`\tilde x \odot E(x)` (ratio 0) as its sanity check.

Shape letters: ``n`` samples, ``d`` image dimension, ``d_code`` code dimension, ``m`` support size.

Deviation: the paper states part (b) in words ("essentially white noise"); the probe, the margin and the
reconstruction ratio are this project's explicit tests of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ganlimits.constructions import (
    GaussianBlockPartition,
    LabelLeakingEncoder,
    MemorizingGenerator,
    NoiseExtractingEncoder,
    NoiseModel,
    class_probabilities,
    digits,
)

from ..._registry import RunConfig
from ..._results import ClaimResult, Estimate
from ..._streams import Streams
from ...estimators import clopper_pearson, leak_test, reconstruction_ratio
from ...estimators.intervals import binomial_pvalue
from .._common import (
    CONFIDENCE,
    DIGITS_JITTER,
    NEAR_BOUNDARY,
    CheckedSettings,
    NearBoundaryControl,
    decide,
    make_result,
    power_curve,
    power_figure,
    resolve_settings,
    streams_for,
)
from ._codes_figures import codes_figure

__all__ = ["Settings", "run", "exact_independence", "leak_accuracy", "leak_trial"]


@dataclass(frozen=True)
class Settings(CheckedSettings):
    """Settings of ``arz-codes``: code dimension d', m = k^d' memorized images for the reconstruction, sample sizes of
    the probe (``n_train``, ``n_test``) and of the reconstruction (``n_recon``), ``n_exact`` codes of the exact checks,
    the claim's ``margin`` over chance (fixed a priori: the bound is chance + margin), the planted leaks of the power
    curve as best excess accuracies over chance in units of the margin (``leak_factors``, ``power_repeats`` probes
    each), the near-boundary control's leak in units of the margin (``control_factor``), ``bootstrap`` resamples,
    the digits ``jitter``, the code std ``sigma`` and the TV budget ``tv_budget`` of the ReLU generator."""

    _limits = {"control_factor": {"low": NEAR_BOUNDARY[0], "high": NEAR_BOUNDARY[1]},
               "leak_factors": {"low": 0, "low_open": True}, "margin": {"low": 0, "high": 0.5, "low_open": True}}

    k: int
    n_train: int
    n_test: int
    n_recon: int
    leak_factors: tuple[float, ...]
    power_repeats: int
    margin: float = 0.02
    control_factor: float = 2.2
    n_exact: int = 20_000
    code_dim: int = 4
    bootstrap: int = 2000
    jitter: float = DIGITS_JITTER
    sigma: float = 1.0
    tv_budget: float = 1e-3
    confidence: float = CONFIDENCE

    @classmethod
    def quick(cls) -> Settings:
        return cls(k=4, n_train=2000, n_test=2000, n_recon=2000, leak_factors=(2.0, 2.5, 3.0), power_repeats=14)

    @classmethod
    def full(cls) -> Settings:
        return cls(k=8, n_train=20_000, n_test=20_000, n_recon=20_000, leak_factors=(1.25, 1.5, 2.0, 2.5, 3.0),
                   power_repeats=20)

    def validate(self) -> None:
        if list(self.leak_factors) != sorted(set(self.leak_factors)):
            raise ValueError(f"leak_factors must be strictly increasing, got {self.leak_factors}")
        if self.code_dim < 2:
            raise ValueError("code_dim must be >= 2: the planted leaks write the label into two code coordinates")
        chance = _chance()
        top = max(self.control_factor, self.leak_factors[-1]) * self.margin
        if top > 1 - chance:
            raise ValueError(f"leak_factors: the planted leaks need a best excess of {top:.4g} over chance, more "
                             f"than the largest possible {1 - chance:.4g} (lower margin or the factors)")
        best = clopper_pearson(int(self.n_test * (chance + top)), self.n_test, confidence=self.confidence, sides=1)
        if best.ci_low <= chance + self.margin:
            raise ValueError(f"n_test: with {self.n_test} test points even the largest planted leak (excess "
                             f"{top:.4g}) could not be seen above chance + margin = {chance + self.margin:.4g}")


def _chance() -> float:
    """The population chance level max_c pi_c of the digits (best label-blind accuracy)."""
    return float(np.max(class_probabilities(digits())))


def leak_accuracy(rate: float, chance: float, *, n_classes: int = 10, radius: float = 20.0) -> tuple[float, float]:
    r"""The best label accuracy from the code of a :class:`~ganlimits.constructions.LabelLeakingEncoder`, certified
    from both sides: ``(lower, upper)``.

    .. math::


ho\,(1 - e^{-a^2/2}) + (1 -
ho)\,\pi_{\max}(1 - e^{-r^2/8}) \;\le\; \sup_{\text{probe}}
        \Pr[\text{probe}(E_
ho(x)) = y] \;\le\;
ho + (1 -
ho)\,\pi_{\max},
        \qquad a = \min(r/2,\ r \sin(\pi / C)),

    with r = ``radius`` in units of the code std, C = ``n_classes``, π_max = ``chance``. Upper: with probability
    1 - ρ the code is the noise alone, independent of the label, so no function of it is right more often than
    π_max. Lower: the rule "nearest leak centre when the first two coordinates lie outside the disc of radius r/2,
    the majority class inside it" is right on a leaked code whenever its 2-d noise has norm below a, and on an
    unleaked one whenever that norm is below r/2 (then it says the majority class, right with probability π_max);
    the norm of 2-d standard normal noise exceeds u with probability exp(-u²/2).

    >>> lo, hi = leak_accuracy(0.1, 0.1)
    >>> round(hi, 12), hi - lo < 1e-9
    (0.19, True)
    """
    a = min(radius / 2, radius * math.sin(math.pi / n_classes))
    upper = rate + (1 - rate) * chance
    lower = rate * -math.expm1(-a * a / 2) + (1 - rate) * chance * -math.expm1(-radius * radius / 8)
    return lower, upper


def exact_independence(encoder, noise: NoiseModel, clean, *, n: int, generator: torch.Generator) -> dict:
    r"""Exact checks that E's code is independent of the image content (Theorem 1 (b)).

    (1) ``encoder.dense_weight()`` (d_code, d) has no non-zero entry on the clean positions; (2) E(x̃ ⊙ z) == z bit
    for bit for n draws (x̃, z), and (3) again with the clean parts permuted (the same z with other content). Together:
    E(x) = z for every x of mu, a function of z alone, and z is drawn independently of x̃. Returns the three flags
    and ``holds`` (all of them).
    """
    x_clean, _ = clean.sample(n, generator=generator)
    z = torch.randn(n, noise.code_dim, generator=generator, dtype=torch.float64)
    perm = torch.randperm(n, generator=generator)
    weight = encoder.dense_weight()
    reads_no_content = bool((weight[:, noise.clean_positions] == 0).all())
    with torch.no_grad():
        returns_z = bool(torch.equal(encoder(noise.noised(x_clean, z)), z))
        ignores_content = bool(torch.equal(encoder(noise.noised(x_clean[perm], z)), z))
    return {"weights_zero_on_content": reads_no_content, "returns_z": returns_z,
            "ignores_content": ignores_content, "holds": reads_no_content and returns_z and ignores_content}


class _PixelReadingEncoder(NoiseExtractingEncoder):
    """The exact checks' control: the noise encoder plus 1e-3 times the first clean pixel in its first output."""

    def __init__(self, *, noise: NoiseModel) -> None:
        super().__init__(noise=noise)
        self.pixel = int(noise.clean_positions[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x).clone()
        out[:, 0] += 1e-3 * torch.as_tensor(x)[:, self.pixel].to(out.dtype)
        return out

    def dense_weight(self) -> torch.Tensor:
        W = super().dense_weight()
        W[0, self.pixel] = 1e-3
        return W


def _sample(clean, noise: NoiseModel, n: int, sigma: float, g: torch.Generator):
    """(x_clean, z, x, labels) with x = x_clean ⊙ z; the law of NoisedTarget, keeping the clean images and labels."""
    x_clean, labels = clean.sample(n, generator=g)
    z = sigma * torch.randn(n, noise.code_dim, generator=g, dtype=torch.float64)
    return x_clean, z, noise.noised(x_clean, z), labels


def _probe(codes_of, clean, noise, s_dict: dict, g: torch.Generator, chance: float, seed: int | None) -> dict:
    """The verdict's probe: train on n_train codes, test on n_test fresh ones (leak_test, one-sided)."""
    _, _, x_tr, y_tr = _sample(clean, noise, s_dict["n_train"], s_dict["sigma"], g)
    _, _, x_te, y_te = _sample(clean, noise, s_dict["n_test"], s_dict["sigma"], g)
    with torch.no_grad():
        c_tr, c_te = codes_of(x_tr, y_tr), codes_of(x_te, y_te)
    return leak_test(c_tr.numpy(), y_tr.numpy(), c_te.numpy(), y_te.numpy(), chance=chance,
                     confidence=s_dict["confidence"], seed=seed)


def leak_trial(config: dict, seed: int) -> dict:
    """One repeat of the power curve: the verdict's probe against an encoder leaking the label at config["rate"];
    detected when its lower limit exceeds the verdict's bound ``config["bound"]`` (chance + margin)."""
    streams = Streams(seed)
    clean = digits(jitter=config["jitter"])
    noise = NoiseModel(dim=clean.dim, code_dim=config["code_dim"])
    leaky = LabelLeakingEncoder(noise, rate=config["rate"], n_classes=clean.n_classes, sigma=config["sigma"],
                                generator=streams.torch("leak"))
    out = _probe(leaky, clean, noise, config, streams.torch("sample"), config["chance"], seed)
    return {"detected": bool(out["accuracy"].ci_low > config["bound"]), "accuracy": out["accuracy"].to_dict()}


def run(config: RunConfig, settings: Settings | None = None) -> ClaimResult:
    """Exact independence checks, the calibrated probe and the reconstruction report (module docstring)."""
    s = resolve_settings(Settings, config, settings)
    streams = streams_for(config)
    clean = digits(jitter=s.jitter)
    noise = NoiseModel(dim=clean.dim, code_dim=s.code_dim)
    encoder = NoiseExtractingEncoder(noise=noise)
    chance = _chance()
    bound = chance + s.margin
    s_dict = {"n_train": s.n_train, "n_test": s.n_test, "sigma": s.sigma, "confidence": s.confidence,
              "jitter": s.jitter, "code_dim": s.code_dim, "chance": chance, "bound": bound}

    # 1. exact checks and their control
    exact = exact_independence(encoder, noise, clean, n=s.n_exact, generator=streams.torch("exact"))
    exact_control = exact_independence(_PixelReadingEncoder(noise=noise), noise, clean, n=s.n_exact,
                                       generator=streams.torch("exact"))
    partition = GaussianBlockPartition(k=s.k, code_dim=s.code_dim, sigma=s.sigma)
    g = streams.torch("generator")
    memory, _ = clean.sample(partition.m, generator=g)
    G = MemorizingGenerator(memory=memory, partition=partition, noise=noise, tv_budget=s.tv_budget)
    z = torch.cat([partition.sample_codes(s.n_exact, generator=g),
                   partition.sample_in_blocks(torch.arange(partition.m), generator=g)])
    with torch.no_grad():
        inverts = bool(torch.equal(encoder(G(z)), z)) and bool(torch.equal(encoder(G.fast(z)), z))

    # 2. the verdict's probe, the near-boundary control and the probe's power, all against chance + margin
    probe = _probe(lambda x, y: encoder(x), clean, noise, s_dict, streams.torch("probe"), chance, config.seed)
    measured = probe["accuracy"]
    n_classes = clean.n_classes

    def rate_of(factor: float) -> float:  # the leak rate whose certified best accuracy is chance + factor x margin
        return factor * s.margin / (1 - chance)

    rate_c = rate_of(s.control_factor)
    leaky = LabelLeakingEncoder(noise, rate=rate_c, n_classes=n_classes, sigma=s.sigma,
                                generator=streams.torch("control", "leak"))
    got = _probe(leaky, clean, noise, s_dict, streams.torch("control", "sample"), chance, config.seed)
    low_c, high_c = leak_accuracy(rate_c, chance, n_classes=n_classes)
    control = NearBoundaryControl(
        f"encoder leaking the label at rate {rate_c:.4f}", truth_low=low_c, truth_high=high_c, bound=bound,
        baseline=chance, measured=got["accuracy"],
        lower_certificate=("exact: the accuracy of an explicit rule (nearest leak centre outside the disc of radius "
                           "10 sigma, majority class inside), rho (1 - e^{-a^2/2}) + (1 - rho) max_c pi_c (1 - e^{-50})"
                           ", a = 20 sin(pi/10)"),
        upper_certificate="exact: rho + (1 - rho) max_c pi_c (unleaked codes are independent of the label)")
    rates = [rate_of(f) for f in s.leak_factors]
    truths = [leak_accuracy(r, chance, n_classes=n_classes) for r in rates]
    curve = power_curve(leak_trial, [{**s_dict, "rate": r} for r in rates], strengths=[hi for _, hi in truths],
                        repeats=s.power_repeats, n=s.n_test, bound=bound, baseline=chance, streams=streams,
                        direction="upper", confidence=s.confidence, label="label leak",
                        path=config.out_dir / "arz-codes_power.jsonl", resume=config.resume, n_jobs=config.n_jobs,
                        progress=config.progress)
    verdict, reason = decide(measured, bound, control=control, resolution=curve, direction="upper")
    if not (exact["holds"] and inverts):
        verdict, reason = "refuted", f"an exact check failed: independence {exact}, E(G(z)) = z: {inverts}"
    correct = int(round(measured.estimate * s.n_test))
    pvalue = None
    if verdict == "consistent":  # H0: accuracy > chance + margin
        pvalue = binomial_pvalue(correct, s.n_test, bound, alternative="less")
    elif verdict == "refuted" and measured.ci_low > bound:  # H0: accuracy <= chance + margin
        pvalue = binomial_pvalue(correct, s.n_test, bound, alternative="greater")

    # 3. reconstruction, reported
    recon = _reconstruction(G, encoder, clean, noise, s, streams)
    figures = []
    if config.figures:
        figures.append(codes_figure(probe, recon, chance, s.margin, config.out_dir))
        figures.append(power_figure(curve, config.out_dir, "arz-codes_power",
                                    xlabel="best accuracy of the leaking code (chance + leak)"))
    notes = [f"chance = max_c pi_c = {chance:.5f} (population class probabilities of the digits); margin = "
             f"{s.margin:g}, fixed before the probe is calibrated; the probe's resolution at n_test = {s.n_test}: "
             f"{curve.resolution_factor if curve.resolution_factor is None else round(curve.resolution_factor, 3)} "
             "margins.",
             f"reconstruction by MemorizingGenerator (m = {partition.m}, delta = {s.tv_budget:g}, fast path); "
             "distances on the clean positions; paired percentile bootstrap conditional on the drawn memory.",
             f"verdict: {reason}"]
    return make_result(
        "arz-codes", config, s, verdict=verdict, verdict_reason=reason, verdict_pvalue=pvalue,
        params={"m": partition.m, "code_dim": s.code_dim, "n_test": s.n_test, "chance": chance},
        measured=measured, near_control=control, power=curve,
        bound={"value": bound, "label": "chance + margin (margin fixed a priori)", "chance": chance,
               "margin": s.margin},
        summary=(f"exact: independence {exact['holds']}, E(G(z)) = z {inverts}; probe accuracy {measured.fmt()} vs "
                 f"chance {chance:.4f} (p = {probe['pvalue']:.3g}); reconstruction / random pair "
                 f"{recon['ratio']['estimate']:.3g}"),
        control_summary=(f"{control.name}: certified best accuracy [{control.truth_low:.6f}, "
                         f"{control.truth_high:.6f}], measured {control.measured.fmt()}, "
                         f"{'caught' if control.caught else 'missed'}; the pixel-reading encoder "
                         + ("fails the exact check (caught)" if not exact_control["holds"] else
                            "passes the exact check (missed)")),
        measurements={"exact": exact, "exact_control_pixel_reading": exact_control,
                      "encoder_of_generator_is_identity": inverts, "chance": chance, "margin": s.margin,
                      "power_truths": [list(t) for t in truths],
                      "code_probe": {k: (v.to_dict() if isinstance(v, Estimate) else v) for k, v in probe.items()},
                      "reconstruction": recon, "m": partition.m},
        figures=figures, notes=notes)


def _reconstruction(G, encoder, clean, noise, s: Settings, streams) -> dict:
    g = streams.torch("reconstruction")
    xc, _, x, _ = _sample(clean, noise, s.n_recon, s.sigma, g)
    _, _, x_other, _ = _sample(clean, noise, s.n_recon, s.sigma, g)
    with torch.no_grad():
        code = encoder(x)
        recon = G.fast(code)
        oracle = noise.noised(xc, code)
    P = noise.clean_positions
    a = torch.linalg.vector_norm((x - recon)[:, P], dim=1).numpy()
    b = torch.linalg.vector_norm((x - x_other)[:, P], dim=1).numpy()
    a_oracle = torch.linalg.vector_norm((x - oracle)[:, P], dim=1).numpy()
    rng = streams.numpy("bootstrap")
    ratio = reconstruction_ratio(a, b, confidence=s.confidence, B=s.bootstrap, rng=rng)
    oracle_ratio = reconstruction_ratio(a_oracle, b, confidence=s.confidence, B=s.bootstrap, rng=rng)
    full = float(torch.linalg.vector_norm(x - recon, dim=1).mean()
                 / torch.linalg.vector_norm(x - x_other, dim=1).mean())
    return {"ratio": ratio.to_dict(), "oracle_ratio": oracle_ratio.to_dict(), "ratio_full_vector": full,
            "ratio_interval_contains_1": ratio.ci_low <= 1.0 <= ratio.ci_high,
            "mean_recon_distance": float(a.mean()), "mean_baseline_distance": float(b.mean())}
