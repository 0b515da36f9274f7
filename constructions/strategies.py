"""Hypothesis strategies for property tests of the constructions of Arora, Risteski & Zhang 2017 (Theorems 1
and 3; ``docs/papers/arz17.md``), for this project's tests and for yours.

Needs the ``[testing]`` extra (``pip install "ganlimits[testing]"``, which brings ``hypothesis``);
``import ganlimits.constructions`` does not import this module, so the library works without hypothesis.

- :func:`noise_models` — valid :class:`~ganlimits.constructions.NoiseModel` (1 <= d' < d);
- :func:`partitions` — valid :class:`~ganlimits.constructions.GaussianBlockPartition` (k >= 2, m = k^{d'} small);
- :func:`memories` — finite float64 memories of shape (m, d), with zeros, signed zeros and large entries;
- :func:`codes` — codes for a partition: Gaussian draws plus coordinates exactly on a threshold, one ulp on either
  side of it, at 0 and far out (the cases where a block decision can go wrong);
- :func:`witnesses` — a built witness of Theorem 1: noise model, partition, memory, the memorizing generator
  (the step function, or with ``network=True`` the ReLU network of Theorem 3), the noise-extracting encoder and
  codes to evaluate them on.

Shape letters: ``n`` codes, ``d`` image dimension, ``d_code`` code dimension, ``k`` intervals per coordinate,
``m`` = k^{d_code} blocks.

Testing your own generator against the identity :math:`E(G(z)) = z` of Theorem 1 — it must hold bit for bit, for
every memory and every code, on block boundaries too:

>>> import torch
>>> from hypothesis import given, settings
>>> from ganlimits.constructions.strategies import witnesses
>>> def my_generator(memory, partition, noise):          # your construction: memory row of the block, code in
...     return lambda z: noise.noised(memory[partition.index(z)], z)
>>> @settings(max_examples=20, deadline=None, database=None, derandomize=True)
... @given(witnesses())
... def test_encoder_inverts_my_generator(w):
...     G = my_generator(w.memory, w.partition, w.noise)
...     assert torch.equal(w.encoder(G(w.codes)), w.codes)        # E(G(z)) = z exactly
...     assert torch.equal(G(w.codes), w.generator(w.codes))      # and G is the theorem's generator
>>> test_encoder_inverts_my_generator()

A property test must be able to fail. A generator that rounds the code it writes (float32) breaks the identity,
and the same test finds a witness where it does:

>>> def rounding_generator(memory, partition, noise):
...     return lambda z: noise.noised(memory[partition.index(z)], z.float().double())
>>> @settings(max_examples=50, deadline=None, database=None, derandomize=True)
... @given(witnesses())
... def test_encoder_inverts_rounding_generator(w):
...     G = rounding_generator(w.memory, w.partition, w.noise)
...     assert torch.equal(w.encoder(G(w.codes)), w.codes)
>>> try:
...     test_encoder_inverts_rounding_generator()
... except AssertionError:
...     print("caught")
caught
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from hypothesis import strategies as st

from ._encoder import NoiseExtractingEncoder
from ._generator import IdealGenerator, MemorizingGenerator
from ._noise import NoiseModel
from ._partition import GaussianBlockPartition

__all__ = ["noise_models", "partitions", "memories", "codes", "witnesses", "Witness"]

_SEEDS = st.integers(0, 2**32 - 1)
_SPECIAL_ENTRIES = (0.0, -0.0, 1.0, -1.0, 1e6, -1e6, 5e-324)


def noise_models(*, max_dim: int = 24, max_code_dim: int = 6) -> st.SearchStrategy[NoiseModel]:
    """Valid noise models: ``1 <= code_dim <= max_code_dim`` and ``code_dim < dim <= max_dim``.

    >>> from hypothesis import find
    >>> find(noise_models(), lambda nm: nm.code_dim >= 2)
    NoiseModel(dim=3, code_dim=2)
    """
    if max_dim < 2 or max_code_dim < 1:
        raise ValueError(f"need max_dim >= 2 and max_code_dim >= 1, got {max_dim} and {max_code_dim}")

    @st.composite
    def build(draw):
        code_dim = draw(st.integers(1, min(max_code_dim, max_dim - 1)))
        return NoiseModel(dim=draw(st.integers(code_dim + 1, max_dim)), code_dim=code_dim)

    return build()


def partitions(*, code_dim: int | None = None, max_k: int = 6, max_code_dim: int = 3, max_blocks: int = 512,
               sigmas=(0.5, 1.0, 1.7)) -> st.SearchStrategy[GaussianBlockPartition]:
    """Valid equal-measure partitions: ``2 <= k <= max_k``, ``code_dim`` fixed or in ``[1, max_code_dim]``,
    m = k**code_dim <= ``max_blocks``, sigma from ``sigmas``.

    >>> from hypothesis import find
    >>> p = find(partitions(code_dim=2), lambda p: p.k >= 3)
    >>> p.k, p.code_dim, p.m
    (3, 2, 9)
    """
    if max_k < 2 or max_blocks < 2:
        raise ValueError(f"need max_k >= 2 and max_blocks >= 2, got {max_k} and {max_blocks}")

    @st.composite
    def build(draw):
        dc = code_dim if code_dim is not None else draw(st.integers(1, max_code_dim))
        k_max = max_k
        while k_max > 2 and k_max**dc > max_blocks:
            k_max -= 1
        if 2**dc > max_blocks:
            raise ValueError(f"code_dim = {dc} gives at least 2**{dc} blocks, more than max_blocks = {max_blocks}")
        k = draw(st.integers(2, k_max))
        return GaussianBlockPartition(k=k, code_dim=dc, sigma=draw(st.sampled_from(tuple(sigmas))))

    return build()


def memories(m: int, dim: int, *, scale: float = 1.0) -> st.SearchStrategy[torch.Tensor]:
    """Finite float64 memories of shape ``(m, dim)``: seeded uniform values in [-scale, scale] with a few entries
    replaced by 0, -0, +-1, +-1e6 or the smallest subnormal (values shrink towards the seed 0 and no specials)."""
    if m < 1 or dim < 1:
        raise ValueError(f"need m >= 1 and dim >= 1, got {m} and {dim}")

    @st.composite
    def build(draw):
        g = torch.Generator().manual_seed(draw(_SEEDS))
        mem = scale * (2 * torch.rand(m, dim, generator=g, dtype=torch.float64) - 1)
        for row, col, value in draw(st.lists(st.tuples(st.integers(0, m - 1), st.integers(0, dim - 1),
                                                       st.sampled_from(_SPECIAL_ENTRIES)), max_size=4)):
            mem[row, col] = value
        return mem

    return build()


def codes(partition: GaussianBlockPartition, *, max_n: int = 32) -> st.SearchStrategy[torch.Tensor]:
    """Codes for ``partition``, float64 of shape ``(n, d_code)`` with ``1 <= n <= max_n``: draws of
    N(0, sigma^2 I) with some coordinates replaced by a threshold tau_j exactly, its float64 neighbours, 0, or
    +-1e6, with either sign (a value on tau_j belongs to the upper interval)."""
    if max_n < 1:
        raise ValueError(f"max_n must be >= 1, got {max_n}")
    tau = partition.thresholds[1 : partition.k]
    up = torch.full_like(tau, float("inf"))
    specials = torch.cat([tau, torch.nextafter(tau, -up), torch.nextafter(tau, up),
                          torch.tensor([0.0, 1e6], dtype=torch.float64)])

    @st.composite
    def build(draw):
        n = draw(st.integers(1, max_n))
        z = partition.sample_codes(n, generator=torch.Generator().manual_seed(draw(_SEEDS)))
        picks = st.tuples(st.integers(0, n - 1), st.integers(0, partition.code_dim - 1),
                          st.integers(0, specials.numel() - 1), st.booleans())
        for row, col, which, negative in draw(st.lists(picks, max_size=2 * n)):
            z[row, col] = -specials[which] if negative else specials[which]
        return z

    return build()


@dataclass(frozen=True)
class Witness:
    """A built witness of Theorem 1 with codes to evaluate it on.

    ``generator`` is the memorizing generator G(z) = x*_{iota(z)} ⊙ z (:class:`IdealGenerator`, or the ReLU
    network :class:`MemorizingGenerator` of Theorem 3 with TV budget ``tv_budget``); ``encoder`` the
    noise-extracting encoder E; ``codes`` float64 ``(n, d_code)``. ``encoder(generator(codes)) == codes`` exactly.
    """

    noise: NoiseModel
    partition: GaussianBlockPartition
    memory: torch.Tensor
    generator: IdealGenerator | MemorizingGenerator
    encoder: NoiseExtractingEncoder
    codes: torch.Tensor
    tv_budget: float | None = None


def witnesses(*, network: bool = False, max_k: int = 4, max_code_dim: int = 2, max_dim: int = 8,
              max_n: int = 32) -> st.SearchStrategy[Witness]:
    """Built witnesses of Theorem 1: a noise model with d <= ``max_dim``, a partition of its code space
    (k <= ``max_k``, d' <= ``max_code_dim``), a memory for it (:func:`memories`), the generator and the encoder,
    and codes (:func:`codes`). ``network=True`` builds the ReLU network of Theorem 3 (a TV budget in
    [0.01, 0.99]) instead of the step function.

    >>> from hypothesis import find
    >>> w = find(witnesses(network=True), lambda w: w.partition.m >= 4)
    >>> type(w.generator).__name__, w.partition.m, bool(torch.equal(w.encoder(w.generator(w.codes)), w.codes))
    ('MemorizingGenerator', 4, True)
    """

    @st.composite
    def build(draw):
        noise = draw(noise_models(max_dim=max_dim, max_code_dim=max_code_dim))
        partition = draw(partitions(code_dim=noise.code_dim, max_k=max_k, max_blocks=max_k**max_code_dim))
        memory = draw(memories(partition.m, noise.dim))
        tv_budget = None
        if network:
            tv_budget = draw(st.floats(0.01, 0.99))
            generator = MemorizingGenerator(memory=memory, partition=partition, noise=noise, tv_budget=tv_budget)
        else:
            generator = IdealGenerator(memory=memory, partition=partition, noise=noise)
        return Witness(noise=noise, partition=partition, memory=memory, generator=generator,
                       encoder=NoiseExtractingEncoder(noise=noise), codes=draw(codes(partition, max_n=max_n)),
                       tv_budget=tv_budget)

    return build()
