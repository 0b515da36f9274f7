"""NoiseExtractingEncoder (Theorem 1): E(x) = x at the noise positions, exactly d' non-zero weights of 1."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ganlimits.constructions import NoiseExtractingEncoder, NoiseModel
from ganlimits.constructions.strategies import noise_models
from ganlimits.theory.arz17 import ENCODER_NUM_WEIGHTS


@given(noise_models(), st.integers(0, 2**31 - 1))
def test_encoder_extracts_noise(noise, seed):
    enc = NoiseExtractingEncoder(noise=noise)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(30, noise.dim, generator=g, dtype=torch.float64)
    out = enc(x)
    assert out.shape == (30, noise.code_dim) and out.dtype == torch.float64
    assert torch.equal(out, x[:, noise.positions])
    assert torch.equal(out, enc.target(x))
    assert torch.equal(out, x @ enc.dense_weight().T)  # the same linear map as a dense matrix


@given(noise_models(), st.integers(0, 2**31 - 1))
def test_encoder_code_is_pure_noise(noise, seed):
    # E(x1 ⊙ z) == E(x2 ⊙ z) == z bit for bit, whatever the clean images.
    enc = NoiseExtractingEncoder(noise=noise)
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(10, noise.code_dim, generator=g, dtype=torch.float64)
    x1, x2 = torch.rand(10, noise.dim, generator=g), 100 * torch.rand(10, noise.dim, generator=g) - 50
    assert torch.equal(enc(noise.noised(x1, z)), z)
    assert torch.equal(enc(noise.noised(x2, z)), z)


@given(noise_models())
def test_encoder_weight_count(noise):
    enc = NoiseExtractingEncoder(noise=noise)
    formula = int(ENCODER_NUM_WEIGHTS.subs({"d_code": noise.code_dim}))
    assert enc.num_nonzero_weights() == noise.code_dim == formula
    W = enc.dense_weight()
    assert int(torch.count_nonzero(W)) == noise.code_dim
    assert torch.equal(W[W != 0], torch.ones(noise.code_dim, dtype=torch.float64))
    assert torch.equal(W.sum(dim=1), torch.ones(noise.code_dim, dtype=torch.float64))  # one edge per output


def test_encoder_negative_control():
    # Control: an encoder for another noise layout, or with a perturbed weight, does not recover the code.
    noise = NoiseModel(dim=12, code_dim=3)
    g = torch.Generator().manual_seed(0)
    z = torch.randn(5, 3, generator=g, dtype=torch.float64)
    x = noise.noised(torch.rand(5, 12, generator=g, dtype=torch.float64), z)
    other = NoiseExtractingEncoder(noise=NoiseModel(dim=12, code_dim=4))
    assert not torch.equal(other(x)[:, :3], z)
    enc = NoiseExtractingEncoder(noise=noise)
    enc.weight[1] = 1.0 + 2**-40
    assert not torch.equal(enc(x), z)


def test_encoder_bad_input():
    enc = NoiseExtractingEncoder(noise=NoiseModel(dim=6, code_dim=2))
    with pytest.raises(ValueError, match="x must have shape"):
        enc(torch.zeros(3, 5))
    with pytest.raises(ValueError, match="x must have shape"):
        enc(torch.zeros(6))
    with pytest.raises(ValueError, match="noise"):
        NoiseExtractingEncoder(noise=None)
