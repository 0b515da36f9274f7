"""The law of noised images of Arora, Risteski & Zhang 2017 (``docs/papers/arz17.md``, "The noise model"): a clean
target whose noise positions carry an independent Gaussian code. Same sampling interface as every target
(:mod:`ganlimits.constructions._targets`)."""

from __future__ import annotations

import math

import torch

from ganlimits.theory._validate import check_allocation, check_count, check_number

from ._checks import check_generator
from ._noise import NoiseModel
from ._targets import Target

__all__ = ["NoisedTarget"]


class NoisedTarget(Target):
    r"""The law μ of noised images of Arora, Risteski & Zhang 2017 (§3, "the precise noise model";
    ``docs/papers/arz17.md``, "The noise model").

    .. math::

        x = \tilde x \odot z, \qquad \tilde x \sim \tilde\mu \ (\text{``clean``}), \quad
        z \sim \mathcal N(0, \sigma^2 I_{d'}) \text{ independent},

    where :math:`\tilde x \odot z` puts the d' coordinates of z at the noise positions of ``noise`` (a
    :class:`NoiseModel`) and keeps :math:`\tilde x` elsewhere, via ``noise.noised(x_clean, z)``.

    Draw order inside a call (fixed, so results are reproducible): first the clean sample
    ``clean.sample(n, generator=generator)``, then ``z`` as one (n, d') float64 standard-normal block times σ.
    Labels are the clean target's labels.

    Parameters (keyword-only): ``clean`` a :class:`Target` of dimension d; ``noise`` a ``NoiseModel`` with
    ``noise.dim == d``; ``sigma`` > 0 the code std σ.
    """

    def __init__(self, *, clean: Target, noise: NoiseModel, sigma: float = 1.0) -> None:
        if not isinstance(clean, Target):
            raise ValueError(f"clean must be a Target (e.g. digits(jitter=...)), got {type(clean).__name__}")
        if not isinstance(noise, NoiseModel):
            raise ValueError(f"noise must be a NoiseModel(dim=, code_dim=), got {type(noise).__name__}")
        if int(noise.dim) != clean.dim:
            raise ValueError(
                f"noise must have dim equal to clean.dim = {clean.dim}, got noise.dim = {noise.dim}"
            )
        self.sigma = check_number("sigma", sigma, low=0, low_open=True)
        self.clean = clean
        self.noise = noise
        self.dim = clean.dim
        self.code_dim = int(noise.code_dim)
        self.n_classes = clean.n_classes
        self.support = math.inf
        self.description = (
            f"{clean.description}; {self.code_dim} of {self.dim} coordinates replaced by a "
            f"N(0, {self.sigma:g}^2) code"
        )

    def sample_with_codes(
        self, n: int, *, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Draw ``n`` noised points with their codes: ``(x, z, labels)``, x (n, d), z (n, d'), float64."""
        n = check_count("n", n, low=1)
        check_allocation("n", n, elements=n * self.dim)
        generator = check_generator(generator)
        x_clean, labels = self.clean.sample(n, generator=generator)
        z = self.sigma * torch.randn(n, self.code_dim, dtype=torch.float64, generator=generator)
        return self.noise.noised(x_clean, z), z, labels

    def _sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        x, _, labels = self.sample_with_codes(n, generator=generator)
        return x, labels
