"""What the two claims of Arora, Ge, Liang, Ma & Zhang 2017 share (``docs/papers/agl17.md``): their targets, the
discriminator class and the theorem's sizes for it. A private helper of ``agl17-thm31`` and ``agl17-equilibrium``,
so that neither claim imports the other.
"""

from __future__ import annotations

import math

import torch

from ganlimits.constructions import GaussianMixtureTarget, digits, grid
from ganlimits.theory import AGL17_REPORTED_C, agl17_thm31_samples

from ..estimators import MLPFamily

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
