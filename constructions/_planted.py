"""Planted generators: cases whose relation to a claim is known by construction, used as the controls of its verdict
(Arora, Risteski & Zhang 2017, arXiv 1711.02651, Theorem 1; ``docs/papers/arz17.md``).

- :func:`memorizing_generator` — the theorem's own witness G(z) = x̃*_{ι(z)} ⊙ z with m = k^{d'} memorized images;
- :func:`support_one_generator` — every block memorizes the same image (support 1): the easiest violation;
- :class:`FreshGenerator` — a fresh clean draw for every code, so (G(z), z) has exactly the law of (x, E(x)):
  the gap is 0 and its measured value is the attack's noise floor.

Shape letters: ``n`` samples, ``d`` image dimension, ``d_code`` code dimension, ``k`` intervals per coordinate,
``m`` = k**d_code memorized images.
"""

from __future__ import annotations

import torch

from ganlimits.theory import check_number, check_positive

from ._generator import IdealGenerator
from ._noise import NoiseModel
from ._partition import GaussianBlockPartition

__all__ = ["memorizing_generator", "support_one_generator", "FreshGenerator"]


def memorizing_generator(target, noise: NoiseModel, *, k: int, generator: torch.Generator,
                         sigma: float = 1.0) -> IdealGenerator:
    """G of Theorem 1: m = k^{d_code} clean draws of ``target`` (drawn with ``generator``) on the equal-measure
    Gaussian partition of the code space.

    >>> from ganlimits.constructions import NoiseModel, ring
    >>> G = memorizing_generator(ring(), NoiseModel(dim=2, code_dim=1), k=5, generator=torch.Generator().manual_seed(0))
    >>> G.partition.m
    5
    """
    k = check_number("k", k, low=1, integer=True)
    partition = GaussianBlockPartition(k=k, code_dim=noise.code_dim, sigma=check_positive("sigma", sigma))
    memory, _ = target.sample(partition.m, generator=generator)
    return IdealGenerator(memory=memory, partition=partition, noise=noise)


def support_one_generator(target, noise: NoiseModel, *, generator: torch.Generator,
                          sigma: float = 1.0) -> IdealGenerator:
    """The support-1 control: every block of a k = 2 partition memorizes the same clean draw of ``target``."""
    partition = GaussianBlockPartition(k=2, code_dim=noise.code_dim, sigma=check_positive("sigma", sigma))
    row, _ = target.sample(1, generator=generator)
    return IdealGenerator(memory=row.expand(partition.m, -1).clone(), partition=partition, noise=noise)


class FreshGenerator:
    """The "perfect" generator x̃_fresh ⊙ z: a fresh clean draw of ``target`` (from ``generator``) for every code,
    so (G(z), z) has exactly the law of (x, E(x)); its measured gap is the noise floor of an attack."""

    name = "perfect generator (fresh clean draw for every code)"

    def __init__(self, target, noise: NoiseModel, generator: torch.Generator) -> None:
        self.target, self.noise, self.generator = target, noise, generator

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        clean, _ = self.target.sample(z.shape[0], generator=self.generator)
        return self.noise.noised(clean, z)
