"""NoiseModel: the index rule of the noise positions (docs/papers/arz17.md, "The noise model"), exact replacement
of the noise coordinates, input checks."""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ganlimits.constructions import NoiseModel, noise_positions
from ganlimits.constructions.strategies import noise_models


def dims():
    """(dim, code_dim) of a valid noise model."""
    return noise_models(max_dim=26).map(lambda nm: (nm.dim, nm.code_dim))


def test_positions_known_values():
    # floor((j+1) d / d') - 1, written out by hand.
    assert NoiseModel(dim=10, code_dim=3).positions.tolist() == [2, 5, 9]
    assert NoiseModel(dim=12, code_dim=4).positions.tolist() == [2, 5, 8, 11]
    assert NoiseModel(dim=64, code_dim=1).positions.tolist() == [63]
    assert NoiseModel(dim=7, code_dim=6).positions.tolist() == [0, 1, 2, 3, 4, 6]


@given(dims())
def test_positions_rule(dc):
    dim, code_dim = dc
    nm = NoiseModel(dim=dim, code_dim=code_dim)
    pos = nm.positions
    assert pos.dtype == torch.long
    assert pos.tolist() == [(j + 1) * dim // code_dim - 1 for j in range(code_dim)]
    assert bool((pos[1:] > pos[:-1]).all()) and int(pos[0]) >= 0 and int(pos[-1]) == dim - 1
    assert sorted(pos.tolist() + nm.clean_positions.tolist()) == list(range(dim))
    if dim % code_dim == 0:  # every r-th coordinate
        r = dim // code_dim
        assert pos.tolist() == list(range(r - 1, dim, r))


@given(dims(), st.integers(0, 2**31 - 1))
def test_noised_replaces_exactly(dc, seed):
    dim, code_dim = dc
    nm = NoiseModel(dim=dim, code_dim=code_dim)
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(5, dim, generator=g, dtype=torch.float64)
    z = torch.randn(5, code_dim, generator=g, dtype=torch.float64) * 1e3
    out = nm.noised(x, z)
    assert out.dtype == torch.float64
    assert torch.equal(nm.extract(out), z)  # bit for bit
    assert torch.equal(out[:, nm.clean_positions], x[:, nm.clean_positions])
    assert torch.equal(x, x.clone())  # input not modified in place


def test_noised_negative_control_other_positions():
    # Control: reading the code back with a noise model of another code dimension must fail to recover z.
    nm, other = NoiseModel(dim=12, code_dim=4), NoiseModel(dim=12, code_dim=3)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(3, 12, generator=g, dtype=torch.float64)
    z = torch.randn(3, 4, generator=g, dtype=torch.float64)
    out = nm.noised(x, z)
    assert not torch.equal(other.extract(out), z[:, :3])
    # and a clean image perturbed at a clean position is not equal to the original there
    x2 = x.clone()
    x2[0, int(nm.clean_positions[0])] += 1e-3
    assert not torch.equal(nm.noised(x2, z), out)


def test_noised_float32_image_keeps_float64_code():
    nm = NoiseModel(dim=6, code_dim=2)
    z = torch.tensor([[0.1, 1e-300]], dtype=torch.float64)
    out = nm.noised(torch.zeros(1, 6, dtype=torch.float32), z)
    assert out.dtype == torch.float64 and torch.equal(nm.extract(out), z)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(dim=5, code_dim=5), "code_dim"),
        (dict(dim=5, code_dim=7), "code_dim"),
        (dict(dim=5, code_dim=0), "code_dim"),
        (dict(dim=1, code_dim=1), "dim"),
        (dict(dim=5.0, code_dim=2), "dim"),
        (dict(dim=5, code_dim=True), "code_dim"),
    ],
)
def test_bad_parameters(kwargs, name):
    with pytest.raises(ValueError, match=name):
        NoiseModel(**kwargs)
    code_dim = kwargs["code_dim"]
    if name == "code_dim" and isinstance(code_dim, int) and not isinstance(code_dim, bool):
        with pytest.raises(ValueError, match=name):
            noise_positions(**kwargs)


def test_bad_inputs():
    nm = NoiseModel(dim=6, code_dim=2)
    x, z = torch.zeros(2, 6), torch.zeros(2, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="z must have shape"):
        nm.noised(x, torch.zeros(2, 3))
    with pytest.raises(ValueError, match="x_clean must have shape"):
        nm.noised(torch.zeros(2, 5), z)
    with pytest.raises(ValueError, match="same number of rows"):
        nm.noised(torch.zeros(3, 6), z)
    with pytest.raises(ValueError, match="finite"):
        nm.noised(x, torch.tensor([[0.0, float("nan")], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="finite"):
        nm.noised(x, torch.tensor([[0.0, float("inf")], [0.0, 0.0]]))
    with pytest.raises(ValueError, match="x must have shape"):
        nm.extract(torch.zeros(2, 7))
