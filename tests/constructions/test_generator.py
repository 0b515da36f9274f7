"""MemorizingGenerator (Theorem 3) against IdealGenerator: exact off the ramps, literal == fast, E(G(z)) == z
bit for bit, exact weight counts, the exact ramp probability against Monte Carlo, and negative controls."""

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import special

from ganlimits.constructions import (
    GaussianBlockPartition,
    IdealGenerator,
    MemorizingGenerator,
    NoiseExtractingEncoder,
    NoiseModel,
)
from ganlimits.constructions.strategies import witnesses
from ganlimits.theory.arz17 import arz_thm3_weight_counts
from ganlimits.verify import clopper_pearson


def _build(k, code_dim, dim, delta, *, seed=0, sigma=1.0, dtype=torch.float64, width=None):
    p = GaussianBlockPartition(k=k, code_dim=code_dim, sigma=sigma)
    noise = NoiseModel(dim=dim, code_dim=code_dim)
    g = torch.Generator().manual_seed(seed)
    mem = (torch.rand(p.m, dim, generator=g, dtype=torch.float64) + 0.5).to(dtype)  # no zero entry
    gen = MemorizingGenerator(memory=mem, partition=p, noise=noise, tv_budget=delta, width=width)
    return gen, IdealGenerator(memory=mem, partition=p, noise=noise), mem


def _codes(gen, n, seed):
    """Random codes, codes inside every block, and boundary codes: each coordinate exactly on a threshold,
    just below a ramp, mid-ramp, 0 and huge values, with signs."""
    p = gen.partition
    g = torch.Generator().manual_seed(seed)
    tau, w = gen.step_layer.thresholds.clone(), gen.width  # the network's (intended) thresholds
    special_values = torch.cat([
        tau, tau - w * (1 + 1e-9), tau - w / 2, torch.tensor([0.0, 5e-324, 1e6, 1e300], dtype=torch.float64)
    ]).clamp_min(0.0)
    pick = torch.randint(0, special_values.numel(), (n, p.code_dim), generator=g)
    sign = torch.where(torch.rand(n, p.code_dim, generator=g) < 0.5, -1.0, 1.0).double()
    boundary = sign * special_values[pick]
    in_blocks = p.sample_in_blocks(torch.arange(p.m).repeat(2), generator=g)
    return torch.cat([p.sample_codes(n, generator=g), in_blocks, boundary])


@st.composite
def setups(draw):
    code_dim = draw(st.integers(1, 3))
    k = draw(st.integers(2, 5))
    dim = draw(st.integers(code_dim + 1, code_dim + 5))
    delta = draw(st.floats(0.01, 0.99))
    seed = draw(st.integers(0, 2**31 - 1))
    return k, code_dim, dim, delta, seed


# ---- the identities ---------------------------------------------------------------------------------------


@given(setups())
def test_literal_equals_ideal_off_ramps_and_fast_everywhere(setup):
    k, code_dim, dim, delta, seed = setup
    gen, ideal, _ = _build(k, code_dim, dim, delta, seed=seed)
    z = _codes(gen, 200, seed)
    lit, fast, ref = gen(z), gen.fast(z), ideal(z)
    ramp = gen.ramp_mask(z)
    assert lit.dtype == fast.dtype == ref.dtype == torch.float64
    assert bool(torch.isfinite(lit).all())
    assert torch.equal(lit[~ramp], ref[~ramp])
    assert torch.equal(fast[~ramp], ref[~ramp])
    assert torch.equal(gen.target(z), ref)
    torch.testing.assert_close(lit, fast, rtol=0, atol=1e-9)


@given(witnesses(network=True, max_k=5, max_code_dim=3))
def test_encoder_recovers_code_bit_for_bit(w):
    for out in (w.generator(w.codes), w.generator.fast(w.codes), w.generator.target(w.codes)):
        assert torch.equal(w.encoder(out), w.codes)


@given(setups())
def test_encoder_recovers_extreme_codes_bit_for_bit(setup):
    # Codes the strategy does not draw: subnormal, 1e300, mid-ramp and just below a ramp.
    k, code_dim, dim, delta, seed = setup
    gen, ideal, _ = _build(k, code_dim, dim, delta, seed=seed)
    enc = NoiseExtractingEncoder(noise=gen.noise)
    z = _codes(gen, 100, seed)
    for out in (gen(z), gen.fast(z), ideal(z)):
        assert torch.equal(enc(out), z)


@given(setups())
def test_on_ramps_output_is_interpolation_of_neighbour_rows(setup):
    k, code_dim, dim, delta, seed = setup
    gen, _, mem = _build(k, code_dim, dim, delta, seed=seed)
    z = _codes(gen, 200, seed)
    num = gen.soft_index(z)
    ramp = gen.ramp_mask(z)
    assert torch.equal(num[~ramp], gen.partition.index(z)[~ramp].double())
    lo = num.floor().long()
    hi = (lo + 1).clamp(max=gen.m - 1)
    frac = (num - lo)[:, None]
    expected = gen.noise.noised((1 - frac) * mem[lo] + frac * mem[hi], z)
    torch.testing.assert_close(gen(z), expected, rtol=0, atol=1e-9)


def test_literal_equals_fast_at_m_1e4():
    # m = 10^4 (k = 10, d' = 4), d = 16: the literal network and the fast path agree to 1e-6 everywhere,
    # including codes on ramps (one coordinate placed mid-ramp).
    gen, ideal, _ = _build(10, 4, 16, 0.5, seed=3)
    g = torch.Generator().manual_seed(3)
    z = gen.partition.sample_codes(300, generator=g)
    tau = gen.partition.thresholds[1:10]
    z[:100, 1] = tau[torch.randint(0, 9, (100,), generator=g)] - gen.width / 3
    ramp = gen.ramp_mask(z)
    assert int(ramp.sum()) >= 100
    lit, fast = gen(z), gen.fast(z)
    assert float((lit - fast).abs().max()) <= 1e-6
    assert torch.equal(lit[~ramp], ideal(z)[~ramp])
    assert not torch.equal(lit[ramp], ideal(z)[ramp])  # the ramps are real: there the output interpolates


def test_chunked_literal_equals_single_chunk():
    gen, _, _ = _build(3, 2, 6, 0.4, seed=5)
    z = _codes(gen, 100, 5)
    whole = gen(z)
    gen._chunk = 7  # many chunks, the last one partial
    assert torch.equal(gen(z), whole)


def test_extreme_codes_are_finite_and_equal_the_reference():
    gen, ideal, _ = _build(4, 2, 5, 0.1, seed=2)
    tau = gen.partition.thresholds
    z = torch.tensor(
        [[1e6, -1e6], [0.0, 0.0], [-0.0, 0.0], [tau[1], -tau[2]], [tau[3], tau[1]], [1e300, -1e300],
         [5e-324, -5e-324], [-tau[3], 1e-6]],
        dtype=torch.float64,
    )
    assert not bool(gen.ramp_mask(z).any())
    for out in (gen(z), gen.fast(z)):
        assert bool(torch.isfinite(out).all())
        assert torch.equal(out, ideal(z))
    # on a threshold the code belongs to the upper interval (step is 1[t >= tau_j])
    assert gen.partition.digits(z[3:4]).tolist() == [[1, 2]]


def test_float32_memory_is_stored_as_float64():
    gen, ideal, mem = _build(3, 2, 5, 0.2, dtype=torch.float32)
    assert gen.memory.dtype == torch.float64 and torch.equal(gen.memory, mem.double())
    z = _codes(gen, 50, 0)
    ramp = gen.ramp_mask(z)
    assert torch.equal(gen(z)[~ramp], ideal(z)[~ramp])


# ---- weights ----------------------------------------------------------------------------------------------


@given(setups())
def test_weight_counts_equal_theory(setup):
    k, code_dim, dim, delta, seed = setup
    gen, _, _ = _build(k, code_dim, dim, delta, seed=seed)
    counts = arz_thm3_weight_counts(m=gen.m, dim=dim, code_dim=code_dim, k=k)
    for name, layer in gen.layers().items():
        assert layer.num_nonzero_weights() == counts[name], name
    assert gen.num_nonzero_weights() == counts["total"]
    assert counts["total"] == gen.m * dim + 6 * gen.m + dim + 4 * k * code_dim + 2 * code_dim
    expected_max = max(1 / gen.width, k ** (code_dim - 1), 2.0, float(gen.memory.abs().max()))
    assert gen.max_abs_weight() == pytest.approx(expected_max, rel=1e-15)
    assert gen.max_weight_bound() == pytest.approx(max(1 / gen.width, k ** (code_dim - 1), 2.0), rel=1e-15)
    assert gen.max_abs_circuit_weight() == pytest.approx(gen.max_weight_bound(), rel=1e-15)


# ---- total variation --------------------------------------------------------------------------------------


def _ramp_union_mass(gen) -> float:
    """Independent oracle: per coordinate, merge the intervals (tau_j - w, tau_j) clipped at 0 and add their
    masses under |z_i| with scipy's ndtr; then 1 - (1 - q)^d'."""
    tau = gen.partition.thresholds[1 : gen.k].tolist()
    ivs = sorted((max(0.0, t - gen.width), t) for t in tau)
    merged = []
    for a, b in ivs:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    F = lambda t: 2 * special.ndtr(t / gen.sigma) - 1
    q = sum(F(b) - F(a) for a, b in merged)
    return 1 - (1 - q) ** gen.code_dim


@given(setups(), st.sampled_from([0.5, 1.0, 2.0]))
def test_mismatch_probability_matches_interval_oracle(setup, sigma):
    k, code_dim, dim, delta, seed = setup
    gen, _, _ = _build(k, code_dim, dim, delta, seed=seed, sigma=sigma)
    assert gen.mismatch_probability() == pytest.approx(_ramp_union_mass(gen), rel=1e-9, abs=1e-13)
    assert gen.mismatch_probability() <= gen.tv_bound() * (1 + 1e-12)
    assert gen.tv_bound() == pytest.approx(delta, rel=1e-12)


def test_mismatch_probability_overlapping_ramps():
    # k = 3, d' = 1, delta = 0.9: w > tau_1 and w > tau_2 - tau_1, so the ramps cover [0, tau_2): exactly 2/3.
    gen, _, _ = _build(3, 1, 2, 0.9)
    assert gen.width > float(gen.partition.thresholds[2] - gen.partition.thresholds[1])
    assert gen.mismatch_probability() == pytest.approx(2 / 3, abs=1e-12)


def test_ramp_frequency_matches_exact_probability_and_is_below_tv():
    # Monte Carlo of the ramp set: n = 200,000 codes, seed 17, 99.9% Clopper-Pearson interval. The exact
    # probability must lie inside it and the frequency must be below the TV budget delta.
    gen, _, _ = _build(4, 3, 6, 0.3, seed=17)
    g = torch.Generator().manual_seed(17)
    n = 200_000
    hits = int(gen.ramp_mask(gen.partition.sample_codes(n, generator=g)).sum())
    est = clopper_pearson(hits, n, confidence=0.999, seed=17)
    exact = gen.mismatch_probability()
    assert est.ci_low <= exact <= est.ci_high, (est, exact)
    assert est.ci_high < gen.tv_budget
    # Negative control: the exact probability of a generator with a 10% wider ramp is outside the interval.
    wider, _, _ = _build(4, 3, 6, 0.3, seed=17, width=1.1 * gen.width)
    assert not est.ci_low <= wider.mismatch_probability() <= est.ci_high


def test_literal_differs_from_ideal_only_on_ramps_statistically():
    # On random codes (n = 5,000, seed 23) every mismatch literal != ideal lies in the ramp set, and the
    # mismatch frequency is at most delta.
    gen, ideal, _ = _build(3, 2, 5, 0.2, seed=23)
    g = torch.Generator().manual_seed(23)
    z = gen.partition.sample_codes(5000, generator=g)
    differs = (gen(z) != ideal(z)).any(dim=1)
    assert not bool((differs & ~gen.ramp_mask(z)).any())
    assert float(differs.double().mean()) <= gen.tv_budget


# ---- negative controls ------------------------------------------------------------------------------------


def test_negative_control_memory_row_perturbed_after_construction():
    gen, ideal, _ = _build(3, 2, 6, 0.2, seed=9)
    row, col = 4, int(gen.noise.clean_positions[0])
    gen.memory_layer.weight[row, col] += 1e-3
    z = gen.partition.sample_in_blocks(torch.full((20,), row), generator=torch.Generator().manual_seed(9))
    ramp = gen.ramp_mask(z)
    assert int((~ramp).sum()) > 0
    assert not torch.equal(gen(z)[~ramp], ideal(z)[~ramp])  # caught by the literal comparison
    assert not torch.equal(gen.fast(z)[~ramp], ideal(z)[~ramp])  # and by the fast one
    assert not torch.equal(gen(z)[~ramp], gen.target(z)[~ramp])  # target() keeps its own copy of the memory


def test_negative_control_network_threshold_shifted():
    for shift in (1e-3, -1e-3):
        gen, ideal, _ = _build(4, 2, 5, 0.3, seed=4)
        gen.step_layer.shift_bias[1, 0] -= shift  # tau_2 of coordinate 0 moves by `shift`
        z = _codes(gen, 50, 4)
        ramp = gen.ramp_mask(z)
        assert not torch.equal(gen(z)[~ramp], ideal(z)[~ramp]), shift


def test_negative_control_partition_threshold_shifted():
    # The reference partition's tau_2 shifted by 1e-3 after the network was built: the comparison fails.
    gen, _, mem = _build(4, 2, 5, 0.3, seed=4)
    gen.partition.thresholds[2] += 1e-3
    ideal = IdealGenerator(memory=mem, partition=gen.partition, noise=gen.noise)
    z = _codes(gen, 50, 4)
    ramp = gen.ramp_mask(z)
    assert not torch.equal(gen(z)[~ramp], ideal(z)[~ramp])


# ---- bad input --------------------------------------------------------------------------------------------


def test_bad_inputs():
    p = GaussianBlockPartition(k=3, code_dim=2)
    noise = NoiseModel(dim=5, code_dim=2)
    mem = torch.ones(9, 5)
    ok = dict(memory=mem, partition=p, noise=noise, tv_budget=0.1)
    for delta in (0.0, 1.0, -0.5, 2.0, math.nan):
        with pytest.raises(ValueError, match="tv_budget"):
            MemorizingGenerator(**{**ok, "tv_budget": delta})
    for bad in (torch.ones(8, 5), torch.ones(9, 4), torch.ones(9), torch.ones(10, 5)):
        with pytest.raises(ValueError, match="memory must have shape"):
            MemorizingGenerator(**{**ok, "memory": bad})
        with pytest.raises(ValueError, match="memory must have shape"):
            IdealGenerator(memory=bad, partition=p, noise=noise)
    for value in (math.nan, math.inf, -math.inf):
        bad = mem.clone()
        bad[3, 1] = value
        with pytest.raises(ValueError, match="memory must be finite"):
            MemorizingGenerator(**{**ok, "memory": bad})
    with pytest.raises(ValueError, match="code_dim"):
        MemorizingGenerator(**{**ok, "noise": NoiseModel(dim=5, code_dim=3)})
    with pytest.raises(ValueError, match="width"):
        MemorizingGenerator(**ok, width=0.0)
    gen = MemorizingGenerator(**ok)
    for f in (gen, gen.fast, gen.target, gen.ramp_mask, IdealGenerator(memory=mem, partition=p, noise=noise)):
        with pytest.raises(ValueError, match="z must have shape"):
            f(torch.zeros(3, 3))
        with pytest.raises(ValueError, match="finite"):
            f(torch.tensor([[0.0, math.nan]]))
        with pytest.raises(ValueError, match="finite"):
            f(torch.tensor([[math.inf, 0.0]]))
