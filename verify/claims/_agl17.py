"""What the two claims of Arora, Ge, Liang, Ma & Zhang 2017 share (``docs/papers/agl17.md``): their targets, the
discriminator class and the theorem's sizes for it. A private helper of ``agl17-thm31`` and ``agl17-equilibrium``,
so that neither claim imports the other.
"""

from __future__ import annotations

import math

import torch

from ganlimits.constructions import GaussianMixtureTarget, digits, grid
from ganlimits.theory import AGL17_REPORTED_C, agl17_thm31_samples

from .._results import Estimate
from ..estimators import MLPFamily, bonferroni_max, train_attacker
from ._common import CONFIDENCE

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
