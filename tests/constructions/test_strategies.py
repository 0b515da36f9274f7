"""ganlimits.constructions.strategies: every drawn object is valid, the codes reach the block boundaries, a broken
generator is caught by the property the strategies serve, and the library imports without hypothesis."""

import subprocess
import sys

import pytest
import torch
from hypothesis import find, given

from ganlimits.constructions import IdealGenerator, MemorizingGenerator
from ganlimits.constructions.strategies import codes, memories, noise_models, partitions, witnesses


@given(noise_models(max_dim=9, max_code_dim=4))
def test_noise_models_are_valid(noise):
    assert 1 <= noise.code_dim <= 4 and noise.code_dim < noise.dim <= 9


@given(partitions(max_k=5, max_code_dim=3, max_blocks=60))
def test_partitions_respect_their_limits(p):
    assert 2 <= p.k <= 5 and 1 <= p.code_dim <= 3 and p.m == p.k**p.code_dim <= 60


@given(memories(5, 3))
def test_memories_are_finite_float64(mem):
    assert mem.shape == (5, 3) and mem.dtype == torch.float64 and bool(torch.isfinite(mem).all())


@given(witnesses(network=True))
def test_network_witnesses_satisfy_the_identity(w):
    assert isinstance(w.generator, MemorizingGenerator) and 0.01 <= w.tv_budget <= 0.99
    assert torch.equal(w.encoder(w.generator(w.codes)), w.codes)
    assert torch.equal(w.encoder(w.generator.fast(w.codes)), w.codes)


@given(witnesses())
def test_step_witnesses_satisfy_the_identity(w):
    assert isinstance(w.generator, IdealGenerator)
    assert w.codes.shape[1] == w.partition.code_dim == w.noise.code_dim
    assert torch.equal(w.encoder(w.generator(w.codes)), w.codes)


def test_codes_reach_thresholds_and_their_neighbours():
    # The cases where a block decision can go wrong must be drawn: |z_i| exactly on tau_1 and one ulp below it.
    from ganlimits.constructions import GaussianBlockPartition

    p = GaussianBlockPartition(k=3, code_dim=2)
    tau = p.thresholds[1]
    below = torch.nextafter(tau, torch.tensor(0.0, dtype=torch.float64))
    on = find(codes(p), lambda z: bool((z.abs() == tau).any()))
    near = find(codes(p), lambda z: bool((z.abs() == below).any()))
    assert bool((on.abs() == tau).any()) and bool((near.abs() == below).any())


def test_a_generator_that_rounds_the_code_is_caught():
    # Negative control of the identity E(G(z)) = z: writing the code through float32 breaks it on some witness.
    def broken(w):
        return w.noise.noised(w.memory[w.partition.index(w.codes)], w.codes.float().double())

    w = find(witnesses(), lambda w: not torch.equal(w.encoder(broken(w)), w.codes))
    assert not torch.equal(w.encoder(broken(w)), w.codes)


@pytest.mark.parametrize("call", [lambda: noise_models(max_dim=1), lambda: partitions(max_k=1),
                                  lambda: memories(0, 3), lambda: codes(None, max_n=0)])
def test_bad_parameters(call):
    with pytest.raises((ValueError, AttributeError)):
        call()


def test_constructions_import_without_hypothesis():
    # One fresh interpreter in which hypothesis cannot be imported: the library works, the strategies say why not.
    code = ("import sys; sys.modules['hypothesis'] = None; import ganlimits.constructions as c; "
            "c.NoiseModel(dim=3, code_dim=1); print(len(c.__all__))\n"
            "try:\n    import ganlimits.constructions.strategies\nexcept ImportError as e:\n    print('blocked', e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    count, blocked = out.stdout.strip().splitlines()
    assert int(count) > 10 and blocked.startswith("blocked") and "hypothesis" in blocked
