"""The circuits of Theorem 3 (step, abs, index, hat, memory, merge) and the selector of Lemma 3: exact
equality with their references off the ramps, the paper's formulas on the ramps (docs/papers/arz17.md, Theorem 3),
and exact non-zero weight counts."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ganlimits.constructions import GaussianBlockPartition, NoiseModel, Selector
from ganlimits.constructions.circuits import (
    AbsLayer,
    HatLayer,
    IndexLayer,
    MemoryLayer,
    MergeLayer,
    StepLayer,
    width_for_tv,
)
from ganlimits.theory.arz17 import GENERATOR_LAYER_WEIGHTS, SELECTOR_NUM_WEIGHTS


def _count(stage: str, **values) -> int:
    expr = GENERATOR_LAYER_WEIGHTS[stage]
    return int(expr.subs({s: values[s.name] for s in expr.free_symbols}))


def _boundary_points(tau: torch.Tensor, w: float) -> torch.Tensor:
    """Exactly on each threshold, just below each ramp, mid-ramp, between thresholds, 0 and huge values."""
    zero = torch.zeros((), dtype=torch.float64)
    pts = [tau, tau - w * (1 + 1e-9), tau - w / 2, torch.nextafter(tau, tau + 1)]
    pts.append(torch.tensor([0.0, 1e-300, 5e-324, 1e6, 1e300], dtype=torch.float64))
    mids = (tau[1:] + tau[:-1]) / 2 if tau.numel() > 1 else tau[:0]
    pts.append(mids)
    return torch.cat(pts).clamp_min(zero)


@st.composite
def step_setups(draw):
    k = draw(st.integers(2, 6))
    code_dim = draw(st.integers(1, 3))
    delta = draw(st.floats(0.01, 0.99))
    p = GaussianBlockPartition(k=k, code_dim=code_dim)
    w = width_for_tv(delta, k=k, code_dim=code_dim)
    return p, StepLayer(thresholds=p.thresholds[1:k], width=w, code_dim=code_dim), w


# ---- width ------------------------------------------------------------------------------------------------


@given(st.floats(1e-6, 0.999), st.integers(2, 50), st.integers(1, 8), st.floats(0.1, 10))
def test_width_for_tv_closed_form(delta, k, code_dim, sigma):
    w = width_for_tv(delta, k=k, code_dim=code_dim, sigma=sigma)
    expected = delta * sigma * math.sqrt(math.pi / 2) / (code_dim * (k - 1))
    assert w == pytest.approx(expected, rel=1e-14)


@pytest.mark.parametrize("delta", [0.0, -0.1, 1.0, 1.5, float("nan")])
def test_width_for_tv_rejects_a_bad_tv_budget(delta):
    with pytest.raises(ValueError, match="tv_budget"):
        width_for_tv(delta, k=3, code_dim=2)


# ---- step layer -------------------------------------------------------------------------------------------


@given(step_setups(), st.integers(0, 2**31 - 1))
def test_step_layer_exact_off_ramps(setup, seed):
    p, layer, w = setup
    g = torch.Generator().manual_seed(seed)
    a = torch.cat([
        p.sample_codes(300, generator=g).abs(),
        _boundary_points(p.thresholds[1 : p.k], w)[:, None].repeat(1, p.code_dim),
    ])
    out, ref, ramp = layer(a), layer.target(a), layer.ramp_mask(a)
    assert out.dtype == torch.float64
    assert torch.equal(out[~ramp], ref[~ramp])
    assert torch.equal(ref.to(torch.int64), p.digits(a))  # the reference is the partition's digit
    assert bool(((out >= 0) & (out <= p.k - 1)).all())


@given(step_setups())
def test_step_layer_on_ramps_is_the_math_formula(setup):
    # Theorem 3 (docs/papers/arz17.md): step_j(t) = (ReLU(t - tau_j + w) - ReLU(t - tau_j)) / w; the clamp is the same
    # function (difference only float64 rounding, hence the 1e-9 tolerance).
    p, layer, w = setup
    tau = p.thresholds[1 : p.k]
    a = torch.linspace(0, float(tau[-1]) + 1, 2001, dtype=torch.float64)[:, None].repeat(1, p.code_dim)
    u = a[:, :, None] - tau
    formula = ((torch.relu(u + w) - torch.relu(u)) / w).sum(dim=2)
    torch.testing.assert_close(layer(a), formula, rtol=0, atol=1e-9)
    steps = layer.steps(a)
    assert steps.shape == (2001, p.code_dim, p.k - 1)
    torch.testing.assert_close(steps.sum(dim=2), layer(a), rtol=0, atol=1e-12)


def test_step_layer_ramp_is_left_of_threshold():
    tau = torch.tensor([1.0, 2.0], dtype=torch.float64)
    layer = StepLayer(thresholds=tau, width=0.25, code_dim=1)
    t = torch.tensor([0.74, 0.75, 0.875, 1.0, 1.5, 1.875, 2.0, 3.0], dtype=torch.float64)[:, None]
    assert layer.ramp_mask(t)[:, 0].tolist() == [False, False, True, False, False, True, False, False]
    expected = torch.tensor([0, 0, 0.5, 1, 1, 1.5, 2, 2], dtype=torch.float64)
    torch.testing.assert_close(layer(t)[:, 0], expected)


@given(step_setups())
def test_step_layer_weights(setup):
    p, layer, w = setup
    assert layer.num_nonzero_weights() == _count("step", d_code=p.code_dim, k=p.k)
    assert layer.max_abs_weight() == pytest.approx(max(1.0, 1.0 / w), rel=1e-15)


def test_step_layer_negative_control_shifted_threshold():
    # Control: a threshold of the network shifted by 1e-3 (either way) is caught by the off-ramp comparison on
    # the boundary points (on-threshold values and values just below the ramp).
    p = GaussianBlockPartition(k=5, code_dim=2)
    for w in (width_for_tv(0.5, k=5, code_dim=2), 1e-4):
        for shift in (1e-3, -1e-3):
            layer = StepLayer(thresholds=p.thresholds[1:5], width=w, code_dim=2)
            layer.shift_bias[2, 1] -= shift  # tau_3 of coordinate 1 moves by +shift
            a = _boundary_points(p.thresholds[1:5], w)[:, None].repeat(1, 2)
            ramp = layer.ramp_mask(a)
            assert not torch.equal(layer(a)[~ramp], layer.target(a)[~ramp]), (w, shift)


# ---- selector (Lemma 3) ----------------------------------------------------------------------------------


@st.composite
def selectors(draw):
    q = draw(st.integers(1, 6))
    gaps = draw(st.lists(st.floats(0.05, 2.0), min_size=q, max_size=q))
    start = draw(st.floats(-3, 3))
    z = torch.tensor([start + sum(gaps[:i]) for i in range(q)], dtype=torch.float64)
    min_gap = float((z[1:] - z[:-1]).min()) if q > 1 else 1.0
    w = draw(st.floats(0.01, 0.99)) * min_gap
    return Selector(thresholds=z, width=w)


def _selector_points(sel: Selector) -> torch.Tensor:
    z, w = sel.thresholds, sel.width
    grid = torch.linspace(float(z[0]) - 2, float(z[-1]) + 2, 1001, dtype=torch.float64)
    edges = torch.cat([z, z + w / 2 * (1 + 1e-9), z - w / 2 * (1 + 1e-9), z + w / 4, z - w / 4])
    return torch.cat([grid, edges, torch.tensor([1e6, -1e6], dtype=torch.float64)])


@given(selectors())
def test_selector_one_hot_off_ramps(sel):
    t = _selector_points(sel)
    out, ref, ramp = sel(t), sel.target(t), sel.ramp_mask(t)
    assert out.shape == (t.numel(), sel.q + 1) and out.dtype == torch.float64
    assert torch.equal(out[~ramp], ref[~ramp])
    assert torch.equal(out[~ramp].sum(dim=1), torch.ones(int((~ramp).sum()), dtype=torch.float64))
    torch.testing.assert_close(out.sum(dim=1), torch.ones(t.numel(), dtype=torch.float64), rtol=0, atol=1e-12)
    assert bool((out >= -1e-15).all())
    assert torch.equal(sel(t[:, None]), out)  # (n, 1) input accepted


@given(selectors())
def test_selector_on_ramps_is_lemma3(sel):
    # Lemma 3: f(t; z_i) = ReLU((t - z_i)/w + 1/2) - ReLU((t - z_i)/w - 1/2); S_1 = 1 - f_1,
    # S_i = f_{i-1} - f_i, S_{q+1} = f_q (tolerance: float64 rounding of two arrangements).
    t = _selector_points(sel)
    x = (t[:, None] - sel.thresholds) / sel.width
    f = torch.relu(x + 0.5) - torch.relu(x - 0.5)
    ones = torch.ones(t.numel(), 1, dtype=torch.float64)
    S = torch.cat([ones, f], dim=1) - torch.cat([f, 0 * ones], dim=1)
    torch.testing.assert_close(sel(t), S, rtol=0, atol=1e-9)
    # the ramp set has length q w: on a fine grid its frequency is q w / length up to the grid step
    grid = torch.linspace(float(sel.thresholds[0]) - 2, float(sel.thresholds[-1]) + 2, 20_001,
                          dtype=torch.float64)
    length = float(grid[-1] - grid[0])
    frac = float(sel.ramp_mask(grid).double().mean())
    assert abs(frac - sel.q * sel.width / length) <= 2 * sel.q / 20_000 + 1e-12


@given(selectors())
def test_selector_weights(sel):
    assert sel.num_nonzero_weights() == int(SELECTOR_NUM_WEIGHTS.subs({"q": sel.q}))
    assert sel.hidden(torch.zeros(3, dtype=torch.float64)).shape == (3, sel.q)  # q units per hidden layer: 2q
    assert sel.max_abs_weight() == pytest.approx(max(1.0, 1.0 / sel.width), rel=1e-15)


def test_selector_negative_control_shifted_threshold():
    # Control: a selector threshold shifted by 1e-3 in the network is caught off the (intended) ramps.
    for w in (0.2, 1e-4):
        sel = Selector(thresholds=torch.tensor([-1.0, 0.0, 1.5], dtype=torch.float64), width=w)
        sel.shift_bias[1] -= 1e-3
        t = _selector_points(sel)
        ramp = sel.ramp_mask(t)
        assert not torch.equal(sel(t)[~ramp], sel.target(t)[~ramp]), w


def test_selector_bad_input():
    with pytest.raises(ValueError, match="width"):
        Selector(thresholds=[0.0, 1.0], width=1.0)
    with pytest.raises(ValueError, match="width"):
        Selector(thresholds=[0.0, 1.0], width=0.0)
    with pytest.raises(ValueError, match="increasing"):
        Selector(thresholds=[0.0, 0.0], width=0.1)
    with pytest.raises(ValueError, match="finite"):
        Selector(thresholds=[0.0, float("inf")], width=0.1)
    sel = Selector(thresholds=[0.0], width=5.0)  # q = 1: any width
    with pytest.raises(ValueError, match="shape"):
        sel(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="finite"):
        sel(torch.tensor([float("nan")]))


# ---- abs, index, hat, memory, merge -----------------------------------------------------------------------


@given(st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_abs_layer(code_dim, seed):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(50, code_dim, generator=g, dtype=torch.float64) * 10.0 ** torch.randint(
        -300, 300, (50, code_dim), generator=g).double()
    layer = AbsLayer(code_dim=code_dim)
    pos, neg, a = layer(z)
    assert torch.equal(pos - neg, z) and torch.equal(a, layer.target(z))
    assert layer.num_nonzero_weights() == _count("abs", d_code=code_dim)


@given(st.integers(2, 9), st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_index_layer(k, code_dim, seed):
    g = torch.Generator().manual_seed(seed)
    digits = torch.randint(0, k, (100, code_dim), generator=g).double()
    layer = IndexLayer(k=k, code_dim=code_dim)
    num = layer(digits)
    assert torch.equal(num, layer.target(digits).double())
    assert layer.num_nonzero_weights() == _count("index", d_code=code_dim)
    assert layer.max_abs_weight() == float(k ** (code_dim - 1))


def test_index_layer_exact_at_2_pow_53():
    layer = IndexLayer(k=2, code_dim=53)
    top = torch.ones(1, 53, dtype=torch.float64)
    assert int(layer(top)) == 2**53 - 1 == int(layer.target(top))


@given(st.integers(1, 40), st.integers(0, 2**31 - 1))
def test_hat_layer(m, seed):
    g = torch.Generator().manual_seed(seed)
    layer = HatLayer(m=m)
    ints = torch.randint(0, m, (60,), generator=g).double()
    assert torch.equal(layer(ints), layer.target(ints))
    assert not bool(layer.ramp_mask(ints).any())
    frac = torch.rand(60, generator=g, dtype=torch.float64) * (m - 1)
    ell = torch.arange(m, dtype=torch.float64)
    expected = torch.clamp(1 - (frac[:, None] - ell).abs(), min=0)  # e_l = max(0, 1 - |num - l|)
    torch.testing.assert_close(layer(frac), expected, rtol=0, atol=1e-12)
    assert layer.num_nonzero_weights() == _count("hat", m=m)


def test_hat_layer_negative_control():
    # Control: a wrong out-weight (-1.9 instead of -2) breaks the exact one-hot output.
    layer = HatLayer(m=5)
    layer.out_weight[1, 2] = -1.9  # the -2 edge of indicator l = 2
    ints = torch.arange(5, dtype=torch.float64)
    assert not torch.equal(layer(ints), layer.target(ints))


@given(st.integers(1, 20), st.integers(1, 10), st.integers(0, 2**31 - 1))
def test_memory_layer(m, d, seed):
    g = torch.Generator().manual_seed(seed)
    mem = torch.rand(m, d, generator=g, dtype=torch.float64) + 0.5  # no zero entry
    layer = MemoryLayer(memory=mem)
    idx = torch.randint(0, m, (30,), generator=g)
    e = torch.nn.functional.one_hot(idx, m).double()
    assert torch.equal(layer(e), layer.target(idx))
    assert torch.equal(layer.target(idx), mem[idx])
    assert layer.num_nonzero_weights() == _count("memory", m=m, d=d)


def test_memory_layer_counts_zero_entries():
    # Documented rule: a memory with Z zero entries has m d - Z non-zero weights.
    mem = torch.ones(4, 3, dtype=torch.float64)
    mem[1, 2] = 0.0
    mem[3, 0] = -0.0
    assert MemoryLayer(memory=mem).num_nonzero_weights() == 4 * 3 - 2


@given(st.integers(1, 5), st.integers(1, 8), st.integers(0, 2**31 - 1))
def test_merge_layer(code_dim, extra, seed):
    noise = NoiseModel(dim=code_dim + extra, code_dim=code_dim)
    g = torch.Generator().manual_seed(seed)
    A = torch.rand(20, noise.dim, generator=g, dtype=torch.float64)
    z = torch.randn(20, code_dim, generator=g, dtype=torch.float64)
    pos, neg, _ = AbsLayer(code_dim=code_dim)(z)
    layer = MergeLayer(noise=noise)
    out = layer(A, pos, neg)
    assert torch.equal(out, layer.target(A, z))
    assert torch.equal(noise.extract(out), z)
    assert layer.num_nonzero_weights() == _count("merge", d=noise.dim, d_code=code_dim)
