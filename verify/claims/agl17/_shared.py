"""What the two claims of Arora, Ge, Liang, Ma & Zhang 2017 share (``docs/papers/agl17.md``): their targets, the
discriminator class and the theorem's sizes for it. A private helper of ``agl17-thm31`` and ``agl17-equilibrium``,
so that neither claim imports the other.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ganlimits.constructions import GaussianMixtureTarget, digits, grid
from ganlimits.theory import agl17_thm31_samples
from ganlimits.theory.agl17 import AGL17_REPORTED_C

from ..._results import Estimate
from ...estimators import MLPFamily, train_attacker
from ...estimators.intervals import bonferroni_max
from .._common import CONFIDENCE

DELTA_PHI = 0.5  # half-range of phi = identity, centred
JITTER = 0.05  # digits: per-pixel kernel std (pixels in [0, 1])


def make_target(name: str) -> GaussianMixtureTarget:
    """The targets of the claim: ``grid()`` (25 Gaussians, std 0.05) and ``digits(jitter=0.05)``."""
    if name == "grid":
        return grid()
    if name == "digits":
        return digits(jitter=JITTER)
    raise ValueError(f"target must be 'grid' or 'digits', got {name!r}")


def input_radius(target: GaussianMixtureTarget) -> float:
    """R of the class: the largest mean norm plus 6 times the norm of the per-coordinate std vector. Rarer
    points are radially clipped by the family (part of its definition), so L stays fixed before any data."""
    return float(target.means.norm(dim=1).max() + 6.0 * target.std.norm())


def support_text(target) -> str | int:
    """The target's support for the JSON (strict JSON has no infinity): an integer, or ``"unbounded"``."""
    return "unbounded" if math.isinf(target.support) else int(target.support)


def family_spec(target: GaussianMixtureTarget, hidden, s) -> dict:
    """The class of the claim for ``target``: ``hidden`` widths; ``s`` holds ``weight_norm`` and ``bias_bound``."""
    return dict(in_dim=target.dim, hidden=tuple(hidden), weight_norm=s.weight_norm, bias_bound=s.bias_bound,
                input_radius=input_radius(target))


def theorem_sizes(spec: dict, *, eps: float) -> dict:
    """Theorem 3.1's m for the class ``spec`` in every form (C = 1), with the class constants."""
    probe = MLPFamily(K=1, generator=torch.Generator().manual_seed(0), **spec)
    L, r = probe.lipschitz_in_parameters(), probe.parameter_radius()
    paper = agl17_thm31_samples(p=probe.capacity, eps=eps, lipschitz=L * r, phi_range=DELTA_PHI, lphi=1.0)
    spec_form = agl17_thm31_samples(p=probe.capacity, eps=eps, lipschitz=L, phi_range=DELTA_PHI, lphi=1.0,
                                    radius=r)
    return {"p": probe.capacity, "L_theta": L, "parameter_radius": r, "C": AGL17_REPORTED_C,
            "paper": paper["paper"], "blog": paper["blog"], "spec": spec_form["spec"],
            "class": probe.name.replace("K=1, ", "")}


def draw_atoms(target: GaussianMixtureTarget, m: int, seed: int) -> torch.Tensor:
    """The m points of an empirical measure μ̂_m of ``target``, drawn from ``torch.Generator().manual_seed(seed)``."""
    points, _ = target.sample(int(m), generator=torch.Generator().manual_seed(int(seed)))
    return points


def distance_to_atoms(atoms: torch.Tensor, target: GaussianMixtureTarget, *, n: int, hidden, K: int, steps: int,
                      lr: float, weight_norm: float, bias_bound: float, input_radius: float,
                      generator: torch.Generator, weights: torch.Tensor | None = None,
                      batch_size: int | None = None) -> tuple[Estimate, dict]:
    r"""The neural-net distance between the law on ``atoms`` (m, d) and ``target``, with the atoms' side exact.

    .. math:: \hat d = \max_{k \le K}\ \sum_i w_i D_k(x_i) - \frac{1}{n}\sum_{j \le n} D_k(y_j),
              \quad y_j \sim \mu \text{ fresh}

    K members of the class (one hidden layer, spectral-norm bounded) are trained (:func:`train_attacker`, nnd
    objective, phi = identity; minibatches of ``batch_size`` rows, full batch when None) on at most n distinct
    atoms (with ``weights``: n draws from the weighted law) against n target draws; they are then scored on
    EVERY atom with its weight ``w_i`` (1/m by default: the law μ̂_m itself, no draws and so no repeats or
    near-duplicates) and on n fresh target draws. Only the target side is estimated: one-sided
    Bonferroni-Hoeffding limits over the K members (range 1). Returns the Estimate (``sides=1``) and details.
    Draw order from ``generator``: 2n target points, the training atoms' permutation, the members, the steps.
    """
    real, _ = target.sample(2 * int(n), generator=generator)
    m = atoms.shape[0]
    if weights is not None:  # training draws from the weighted law itself
        train = atoms[torch.multinomial(weights.to(torch.float64), int(n), replacement=True, generator=generator)]
    else:
        train = atoms if m <= n else atoms[torch.randperm(m, generator=generator)[:n]]
    family = MLPFamily(in_dim=target.dim, hidden=tuple(hidden), K=K, weight_norm=weight_norm, bias_bound=bias_bound,
                       input_radius=input_radius, generator=generator)
    family = train_attacker(family, real=train, fake=real[:n], phi="identity", steps=steps, lr=lr,
                            generator=generator, objective="nnd", sign="+", batch_size=batch_size)
    w = torch.full((m,), 1.0 / m, dtype=torch.float64) if weights is None else weights / weights.sum()
    on_atoms = torch.cat([family(atoms[i:i + 65536]).to(torch.float64) for i in range(0, m, 65536)], dim=1) @ w
    on_target = family(real[n:]).to(torch.float64).mean(dim=1)
    alpha = 1 - CONFIDENCE
    two = bonferroni_max(on_atoms - on_target, n=int(n), value_range=1.0, confidence=1 - 2 * alpha)
    est = Estimate(two.estimate, two.ci_low, two.ci_high, CONFIDENCE, int(n),
                   f"exact on the {m} atoms, one-sided Bonferroni-Hoeffding over K={K} on {n} fresh target draws",
                   int(generator.initial_seed()), sides=1)
    return est, {"p": family.capacity, "train_atoms": int(train.shape[0]), "distinct_training_atoms": True}


# ---- planted laws with a distance certified from both sides (the near-boundary controls of both claims) ----

OVER_FROM = 1.0
"""The planted laws move mass tau onto the grid's modes with first coordinate above this (the columns x1 = 2, 4)
from the others (x1 <= 0), uniformly within each side."""


def tilted_weights(target: GaussianMixtureTarget, tilt: float) -> torch.Tensor:
    """Mode weights of the planted law: the modes with ``x1 > OVER_FROM`` share ``tilt`` more mass, the others
    ``tilt`` less, uniformly within each side; ``(c,)`` float64. Total variation to the target's equal weights:
    exactly ``tilt`` when the modes do not overlap, at most ``tilt`` always (``sum |w' - w| / 2``)."""
    over = target.means[:, 0] > OVER_FROM
    w = torch.full((target.means.shape[0],), 1.0 / target.means.shape[0], dtype=torch.float64)
    if not 0 <= tilt <= float(w[~over].sum()):
        raise ValueError(f"tilt must lie in [0, {float(w[~over].sum()):.3g}] (the mass of the modes it moves), "
                         f"got {tilt!r}")
    return torch.where(over, w + tilt / int(over.sum()), w - tilt / int((~over).sum()))


def tilted_mixture(target: GaussianMixtureTarget, tilt: float) -> GaussianMixtureTarget:
    """The target's Gaussian components with the planted weights (:func:`tilted_weights`): the planted generator of
    ``agl17-equilibrium``."""
    return GaussianMixtureTarget(means=target.means, std=target.std, weights=tilted_weights(target, tilt),
                                 description=f"{target.description}, mass {tilt:g} moved onto x1 > {OVER_FROM:g}")


def normal_quantization(k: int) -> tuple[torch.Tensor, float]:
    r"""The ``k`` bin medians :math:`y_j = \Phi^{-1}((j - 1/2)/k)` of N(0, 1) cut into ``k`` bins of equal mass, and
    the exact Wasserstein-1 distance between N(0, 1) and the uniform law on them (the monotone coupling sends bin j
    to :math:`y_j`):

    .. math:: W_1 = \sum_j \int_{e_{j-1}}^{e_j} |x - y_j|\,\varphi(x)\,dx
              = \sum_j \bigl(2\varphi(y_j) - \varphi(e_{j-1}) - \varphi(e_j)\bigr)

    >>> y, w1 = normal_quantization(64)
    >>> y.shape, round(w1, 5)
    (torch.Size([64]), 0.0242)
    """
    from scipy import stats

    edges = stats.norm.ppf(np.arange(k + 1) / k)
    y = stats.norm.ppf((np.arange(k) + 0.5) / k)
    phi = stats.norm.pdf
    return torch.from_numpy(y), float(np.sum(2 * phi(y) - phi(edges[:-1]) - phi(edges[1:])))


def tilted_atoms(target: GaussianMixtureTarget, tilt: float, k: int) -> tuple[torch.Tensor, torch.Tensor, float]:
    """The planted law of ``agl17-thm31``: every component of the target replaced by its product quantization on
    ``k x k`` atoms (:func:`normal_quantization` per coordinate, scaled by the component's std), with the planted
    weights. Returns atoms ``(c k^2, d)``, their weights and an upper bound on the Wasserstein-1 distance between
    this law and the tilted mixture (per component, coordinate by coordinate: ``sum_j s_j W1_1D``)."""
    if target.dim != 2:
        raise ValueError(f"the quantized planted law is built for 2-D targets, got d = {target.dim}")
    y, w1 = normal_quantization(k)
    offsets = torch.cartesian_prod(y, y) * target.std[None, :]
    atoms = (target.means[:, None, :] + offsets[None]).reshape(-1, 2)
    weights = tilted_weights(target, tilt).repeat_interleave(k * k) / (k * k)
    return atoms, weights, float(target.std.sum()) * w1


def separating_member(spec: dict) -> MLPFamily:
    r"""One member of the class ``spec`` (one hidden layer) that separates the columns of the grid:

    .. math:: D^*(x) = \sigma\Bigl(\frac{s}{\sqrt2}\bigl(\mathrm{ReLU}(\tfrac{s}{\sqrt2}x_1 - \tfrac{\beta}{\sqrt2})
              - \mathrm{ReLU}(-\tfrac{s}{\sqrt2}x_1 + \tfrac{\beta}{\sqrt2})\bigr) - \beta\Bigr)
              = \sigma\bigl(\tfrac{s^2}2 x_1 - \tfrac{s\beta}2 - \beta\bigr)

    (two hidden units, the other weights 0: ``||W_1||_2 = ||W_2||_2 = s``, ``||b_1|| = ||b_2|| = beta``, each
    shrunk by 1e-9 to stay inside the class): on the grid it is about 1 on the columns x1 = 2, 4 and about 0 on
    x1 <= 0 (0.03 at x1 = 0 for s = 5, beta = 1)."""
    s, beta, width = spec["weight_norm"] * (1 - 1e-9), spec["bias_bound"] * (1 - 1e-9), spec["hidden"][0]
    if len(spec["hidden"]) != 1 or width < 2 or spec["in_dim"] != 2:
        raise ValueError("separating_member is built for one hidden layer of width >= 2 on 2-D inputs")
    a = s / math.sqrt(2)
    W1 = torch.zeros(1, 2, width, dtype=torch.float64)
    W1[0, 0, 0], W1[0, 0, 1] = a, -a
    b1 = torch.zeros(1, width, dtype=torch.float64)
    b1[0, 0], b1[0, 1] = -beta / math.sqrt(2), beta / math.sqrt(2)
    W2 = torch.zeros(1, width, 1, dtype=torch.float64)
    W2[0, 0, 0], W2[0, 1, 0] = a, -a
    b2 = torch.full((1, 1), -beta, dtype=torch.float64)
    member = MLPFamily(K=1, weights=[W1, W2], biases=[b1, b2], dtype=torch.float64, **spec)
    if not bool(member.in_class().all()):
        raise AssertionError("the separating member left the class")
    return member


def _sigmoid_expectation(slope: float, offset: float, scale: float, bins: int = 20_000) -> tuple[float, float]:
    r"""Rigorous bounds on :math:`E\,\sigma(\text{offset} + \text{slope}\cdot\text{scale}\cdot Z)`, Z ~ N(0, 1): the
    integrand is monotone in z, so on ``bins`` bins of equal Gaussian mass its values at the bin ends bracket it
    (the two outer bins by 0 and 1); the bracket is 1/bins wide."""
    from scipy import special, stats

    edges = stats.norm.ppf(np.arange(1, bins) / bins)  # interior edges; the outer bins reach -inf and inf
    f = special.expit(offset + slope * scale * edges)
    low = f.sum() / bins  # each bin at its lower value (the outer bin at 0)
    high = (f.sum() + 1.0) / bins  # each bin at its upper value (the outer bin at 1)
    return float(low), float(high)


def _clip_mass(target: GaussianMixtureTarget, weights: torch.Tensor, radius: float) -> float:
    """Mass of the mixture (isotropic components) outside the ball of ``radius``, bounded by the exact chi-square
    tail of each component beyond the distance from its mean to the sphere (the family's radial clip changes D only
    there, and D lies in [0, 1])."""
    if target.dim != 2:
        raise ValueError(f"the clip mass is bounded for 2-D isotropic targets, got d = {target.dim}")
    s = float(target.std.max())
    gap = (radius - target.means.norm(dim=1)).clamp(min=0.0)  # P(|x - a| > r) = exp(-r^2 / (2 s^2)) in 2-D
    return float((weights * torch.exp(-(gap**2) / (2 * s**2))).sum())


def member_expectation(target: GaussianMixtureTarget, weights: torch.Tensor, spec: dict) -> tuple[float, float]:
    """Rigorous bounds on the expectation of :func:`separating_member` under the mixture of ``target``'s components
    with ``weights``: exact per-column Gaussian integrals of the unclipped member (:func:`_sigmoid_expectation`)
    widened by the mass the radial clip can move (:func:`_clip_mass`)."""
    s, beta = spec["weight_norm"] * (1 - 1e-9), spec["bias_bound"] * (1 - 1e-9)
    slope, offset = s * s / 2, -s * beta / 2 - beta
    low = high = 0.0
    std = float(target.std[0])
    for mean, w in zip(target.means[:, 0].tolist(), weights.tolist(), strict=True):
        lo, hi = _sigmoid_expectation(slope, offset + slope * mean, std)
        low += w * lo
        high += w * hi
    clip = _clip_mass(target, weights, spec["input_radius"])
    return low - clip, high + clip


def certify_tilt(target: GaussianMixtureTarget, tilt: float, spec: dict, *, quantization: int | None = None) -> dict:
    r"""The neural-net distance (class ``spec``, φ = identity) between the planted law and the target, certified
    from both sides without any attack.

    Lower certificate: the explicit member :func:`separating_member` of the class, whose expectations are computed
    exactly (a finite sum over the atoms of the quantized law; rigorous Gaussian integrals for mixtures). Upper
    certificate: every member has values in [0, 1] and is ``s^2/4``-Lipschitz in its input, so

    .. math:: d_{\mathcal F}(\nu, \mu) \le \mathrm{TV}(\mu', \mu) + \tfrac{s^2}4 W_1(\nu, \mu')
              \le \tau + \tfrac{s^2}4 W_1(\nu, \mu'),

    with μ' the tilted mixture (total variation at most τ, the moved mass) and ν either μ' itself (``quantization``
    None: W1 = 0) or its quantization on ``k x k`` atoms per component (:func:`tilted_atoms`: W1 bounded exactly).
    """
    member = separating_member(spec)
    w0 = torch.full((target.means.shape[0],), 1.0 / target.means.shape[0], dtype=torch.float64)
    mu_low, mu_high = member_expectation(target, w0, spec)
    if quantization is None:
        nu_low, _ = member_expectation(target, tilted_weights(target, tilt), spec)
        w1, law = 0.0, "the tilted mixture"
    else:
        atoms, weights, w1 = tilted_atoms(target, tilt, quantization)
        nu_low = float(member(atoms)[0].to(torch.float64) @ weights)
        law = f"its quantization on {quantization}x{quantization} atoms per component"
    lip = spec["weight_norm"] ** 2 / 4
    low, high = nu_low - mu_high, tilt + lip * w1
    return {"tilt": tilt, "truth_low": low, "truth_high": high, "w1_to_mixture": w1,
            "lower_certificate": f"exact value of an explicit member of the class (sigmoid(s^2/2 x1 - s beta/2 - "
                                 f"beta), separating the columns x1 >= 2 from x1 <= 0) on {law} and the target: "
                                 f"{low:.4f}",
            "upper_certificate": f"total variation of the moved mass {tilt:g} (members lie in [0, 1]) plus the input "
                                 f"Lipschitz constant s^2/4 = {lip:g} times W1 <= {w1:.2e} to the tilted mixture: "
                                 f"{high:.4f}"}
