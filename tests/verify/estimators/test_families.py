"""Discriminator families: the class (exact spectral norms), the Lipschitz constant in the parameters, the
stacked evaluation against a loop over nn.Sequential modules, and projected training."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st
from torch.testing import assert_close

import ganlimits.verify.estimators._families as disc
from ganlimits.verify import MLPFamily
from ganlimits.verify.estimators import DEFAULT_LOG_CLIP, Phi, as_phi, phi_identity, phi_log, train_attacker


def _family(seed: int = 0, **kw) -> MLPFamily:
    spec = dict(in_dim=5, hidden=(7, 6), K=4, weight_norm=1.0, bias_bound=1.0, input_radius=2.0)
    spec.update(kw)
    return MLPFamily(**spec, generator=torch.Generator().manual_seed(seed))


# ----- measuring functions ----------------------------------------------------------------------------
def test_phi_constants_are_exact():
    ident = phi_identity()
    assert (ident.phi_range, ident.lipschitz, ident.value_range) == (1.0, 1.0, 1.0)
    lg = phi_log(clip=0.05)
    assert lg.phi_range == math.log(20.0) and lg.value_range == math.log(20.0) and lg.lipschitz == 20.0
    v = torch.tensor([0.0, 0.01, 0.05, 0.5, 1.0], dtype=torch.float64)
    assert_close(lg(v), torch.log(torch.tensor([0.05, 0.05, 0.05, 0.5, 1.0], dtype=torch.float64)),
                 rtol=0, atol=0)
    assert torch.equal(ident(v), v)
    assert as_phi("log") == phi_log(clip=DEFAULT_LOG_CLIP) and as_phi("identity") == ident


def test_phi_log_range_and_slope_match_the_declared_constants():
    # Oracle: a fine grid of D in [0, 1]; the range of phi is sup - inf and its largest slope is <= 1/c
    # (attained just above c).
    lg = phi_log(clip=0.1)
    grid = torch.linspace(0, 1, 200_001, dtype=torch.float64)
    vals = lg(grid)
    assert_close(float(vals.max() - vals.min()), lg.value_range, rtol=1e-12, atol=0)
    assert float(vals.abs().max()) <= lg.phi_range
    slopes = (vals[1:] - vals[:-1]) / (grid[1:] - grid[:-1])
    assert float(slopes.max()) <= lg.lipschitz * (1 + 1e-9)
    assert float(slopes.max()) >= 0.999 * lg.lipschitz


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, float("nan"), None])
def test_phi_log_bad_clip_is_named(bad):
    with pytest.raises(ValueError, match="clip"):
        Phi("log", bad)


def test_unknown_phi_is_named():
    with pytest.raises(ValueError, match="phi"):
        as_phi("tanh")


# ----- the class ------------------------------------------------------------------------------------------
def test_capacity_counts_the_parameters_of_one_member():
    fam = _family(in_dim=80, hidden=(64, 64))
    module = fam.to_modules()[0]
    assert fam.capacity == sum(p.numel() for p in module.parameters()) == 80 * 64 + 64 + 64 * 64 + 64 + 64 + 1
    assert fam.flat_parameters().shape == (fam.K, fam.capacity)


def test_random_members_are_in_the_class_and_seeded():
    fam = _family(seed=3, K=16, weight_norm=1.5, bias_bound=0.7)
    for W, b in zip(fam.weights, fam.biases, strict=True):
        assert bool((torch.linalg.svdvals(W.double())[:, 0] <= 1.5).all())
        assert bool((torch.linalg.vector_norm(b.double(), dim=1) <= 0.7).all())
    assert bool(fam.in_class().all())
    again = _family(seed=3, K=16, weight_norm=1.5, bias_bound=0.7)
    other = _family(seed=4, K=16, weight_norm=1.5, bias_bound=0.7)
    assert torch.equal(fam.flat_parameters(), again.flat_parameters())
    assert not torch.equal(fam.flat_parameters(), other.flat_parameters())


@given(scale=st.floats(1.01, 50.0), seed=st.integers(0, 2**16), width=st.integers(1, 9),
       dtype=st.sampled_from([torch.float32, torch.float64]))
@example(scale=9.0, seed=15527, width=8, dtype=torch.float64)  # float64 SVD error exceeded a margin of ulps
def test_projection_maps_back_into_the_class(scale, seed, width, dtype):
    # Exact check: float64 singular values of the stored matrices are <= weight_norm after project_().
    fam = _family(seed=seed, hidden=(width, 3), dtype=dtype, weight_norm=0.8, bias_bound=0.5)
    inside = fam.flat_parameters()
    out = fam.with_flat_parameters(inside * scale)
    assert not bool(out.in_class().any())  # negative control: scaled past the norm, every member is outside
    out.project_()
    assert bool(out.in_class().all())
    for W in out.weights:
        assert float(torch.linalg.svdvals(W.double()).max()) <= 0.8
    # members already inside are left unchanged
    kept = fam.clone().project_()
    assert torch.equal(kept.flat_parameters(), inside)


def test_lipschitz_constant_formula():
    # B_0 = R, B_l = s B_{l-1} + beta; L = 1/4 sqrt(sum_l s^{2(L-l)} (B_{l-1}^2 + 1)), by hand for 3 layers.
    fam = _family(weight_norm=2.0, bias_bound=0.5, input_radius=3.0)
    B = [3.0, 2 * 3.0 + 0.5, 2 * (2 * 3.0 + 0.5) + 0.5]
    expected = 0.25 * math.sqrt(16 * (B[0] ** 2 + 1) + 4 * (B[1] ** 2 + 1) + (B[2] ** 2 + 1))
    assert fam.lipschitz_in_parameters() == pytest.approx(expected, rel=1e-15)


def _ratios(base: MLPFamily, other: MLPFamily, x: torch.Tensor) -> torch.Tensor:
    diff = (base(x) - other(x)).abs()  # (K, n)
    dist = torch.linalg.vector_norm(base.flat_parameters() - other.flat_parameters(), dim=1)  # (K,)
    return diff / dist[:, None]


def _gradient_pairs(fam: MLPFamily, x: torch.Tensor, step: float) -> MLPFamily:
    """theta' = theta + step * grad_theta D(x_0) / ||grad||: the locally steepest direction."""
    f = fam.clone()
    for t in (*f.weights, *f.biases):
        t.requires_grad_(True)
    f.forward(x[:1]).sum().backward()
    pairs = zip(f.weights, f.biases, strict=True)
    grad = torch.cat([t.grad.reshape(f.K, -1) for pair in pairs for t in pair], dim=1)
    theta = fam.flat_parameters()
    return fam.with_flat_parameters(theta + step * grad / torch.linalg.vector_norm(grad, dim=1, keepdim=True))


@pytest.mark.parametrize("hidden", [(7, 6), (), (9,)])
def test_lipschitz_in_parameters_holds_on_random_and_steepest_pairs(hidden):
    # Random pairs inside the class, inputs inside and outside the input ball (outside rows are clipped), and
    # pairs along the gradient (projected back into the class):
    # |D_theta(x) - D_theta'(x)| <= L ||theta - theta'||.
    g = torch.Generator().manual_seed(11)
    fam = _family(seed=1, K=64, dtype=torch.float64, weight_norm=1.3, bias_bound=0.8, input_radius=2.5,
                  hidden=hidden)
    L = fam.lipschitz_in_parameters()
    x = torch.randn(300, 5, generator=g, dtype=torch.float64) * 2.0
    worst = 0.0
    for seed in range(5):
        other = fam.random(64, generator=torch.Generator().manual_seed(100 + seed))
        worst = max(worst, float(_ratios(fam, other, x).max()))
        close = fam.with_flat_parameters(fam.flat_parameters() + 1e-3 * (other.flat_parameters()
                                                                          - fam.flat_parameters()))
        worst = max(worst, float(_ratios(fam, close.project_(), x).max()))
    for step in (1e-4, 1e-2, 0.3):
        steep = _gradient_pairs(fam, x, step).project_()
        worst = max(worst, float(_ratios(fam, steep, x[:1]).max()))
    assert worst <= L, f"ratio {worst} exceeds L = {L}"
    assert worst > 0.05 * L  # the bound is not vacuous by orders of magnitude on these members


def test_lipschitz_bound_breaks_outside_the_class():
    # Negative control: hidden weights scaled past the spectral bound (x10) and a zero output layer (sigmoid
    # at its steepest); moving theta along the gradient changes D by far more than L ||theta - theta'||.
    fam = _family(seed=2, K=8, dtype=torch.float64, input_radius=2.0)
    L = fam.lipschitz_in_parameters()
    broken = fam.clone()
    for W in broken.weights[:-1]:
        W.mul_(10.0)
    broken.weights[-1].zero_()
    broken.biases[-1].zero_()
    assert not bool(broken.in_class().any())
    x = torch.full((1, 5), 2.0 / math.sqrt(5), dtype=torch.float64)
    steep = _gradient_pairs(broken, x, 1e-4)
    assert float(_ratios(broken, steep, x).max()) > 2 * L


# ----- evaluation -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [3, disc._SMALL_N, disc._SMALL_N + 1, 2 * disc._CHUNK + 17])
@pytest.mark.parametrize("dtype,atol", [(torch.float32, 2e-6), (torch.float64, 1e-13)])
@pytest.mark.parametrize("hidden", [(16, 8), ()])
def test_stacked_evaluation_matches_a_loop_over_modules(n, dtype, atol, hidden):
    # Oracle: K independent nn.Sequential modules on the clipped input. Tolerance: float32 sums of up to 16
    # products in a different order (sigmoid output, |error| ~ 1e-7).
    g = torch.Generator().manual_seed(5)
    fam = MLPFamily(in_dim=12, hidden=hidden, K=6, input_radius=3.0, dtype=dtype, generator=g)
    x = torch.randn(n, 12, generator=g, dtype=dtype)
    with torch.no_grad():
        ref = torch.stack([m(fam.clip_inputs(x)).squeeze(1) for m in fam.to_modules()])
    assert_close(fam(x), ref, rtol=0, atol=atol)
    for t in fam.weights:  # the differentiable path computes the same numbers
        t.requires_grad_(True)
    assert_close(fam.forward(x).detach(), ref, rtol=0, atol=atol)
    assert_close(fam.member(4)(x), ref[4], rtol=0, atol=atol)


def test_joint_input_and_member_callable():
    g = torch.Generator().manual_seed(6)
    fam = MLPFamily(in_dim=5, hidden=(4,), K=3, generator=g)
    x, code = torch.randn(10, 3, generator=g), torch.randn(10, 2, generator=g)
    assert torch.equal(fam(x, code), fam(torch.cat([x, code], dim=1)))
    assert torch.equal(fam((x, code)), fam(torch.cat([x, code], dim=1)))
    assert torch.equal(fam.member(1)(x, code), fam(x, code)[1])
    v = fam(x, code)
    assert v.shape == (3, 10) and float(v.min()) >= 0 and float(v.max()) <= 1


def test_radial_clip_keeps_the_ball_and_moves_only_outside_rows():
    fam = _family(input_radius=2.0, dtype=torch.float64)
    x = torch.tensor([[0.5, 0, 0, 0, 0], [3.0, 4.0, 0, 0, 0]], dtype=torch.float64)
    u = fam.clip_inputs(x)
    assert torch.equal(u[0], x[0])
    assert_close(u[1], torch.tensor([1.2, 1.6, 0, 0, 0], dtype=torch.float64), rtol=0, atol=1e-15)


@pytest.mark.parametrize("kwargs,name", [
    (dict(in_dim=0), "in_dim"), (dict(K=0), "K"), (dict(weight_norm=0.0), "weight_norm"),
    (dict(bias_bound=-1.0), "bias_bound"), (dict(input_radius=float("inf")), "input_radius"),
    (dict(hidden=(4, 0)), "hidden"),
])
def test_bad_family_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        _family(**kwargs)


def test_wrong_input_width_is_an_error():
    with pytest.raises(ValueError, match=r"\(n, 5\)"):
        _family()(torch.zeros(4, 6))


# ----- trained attackers ----------------------------------------------------------------------------------
def _two_clouds(seed: int, n: int = 200):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 5, generator=g) + 1.0, torch.randn(n, 5, generator=g) - 1.0


def test_training_stays_in_the_class_after_every_step():
    # Deterministic training: the family after k steps is the state after step k; every one is in the class,
    # even with a learning rate that pushes far outside before projection.
    real, fake = _two_clouds(0)
    fam = _family(seed=0, K=6)
    for k in (1, 2, 3, 10):
        out = train_attacker(fam, real=real, fake=fake, phi="identity", steps=k, lr=5.0,
                             generator=torch.Generator().manual_seed(0))
        assert bool(out.in_class().all()), f"left the class after {k} steps"
    untouched = _family(seed=0, K=6).flat_parameters()
    assert bool(fam.in_class().all()) and torch.equal(fam.flat_parameters(), untouched)  # trained a copy


def test_training_ascends_both_signs_and_is_reproducible():
    real, fake = _two_clouds(1)
    fam = _family(seed=1, K=6)
    runs = [train_attacker(fam, real=real, fake=fake, phi="log", steps=60, lr=0.05,
                           generator=torch.Generator().manual_seed(9), batch_size=64) for _ in range(2)]
    assert torch.equal(runs[0].flat_parameters(), runs[1].flat_parameters())
    gap = (torch.log(runs[0](real).clamp(min=0.1)).mean(1) - torch.log(runs[0](fake).clamp(min=0.1)).mean(1))
    before = (torch.log(fam(real).clamp(min=0.1)).mean(1) - torch.log(fam(fake).clamp(min=0.1)).mean(1))
    assert bool((gap[:3] > 0.3).all()) and bool((gap[3:] < -0.3).all()), gap  # first half +, second half -
    assert float(gap.abs().min()) > float(before.abs().max())


def test_train_attacker_bad_arguments_are_named():
    real, fake = _two_clouds(2, n=10)
    g = torch.Generator().manual_seed(0)
    fam = _family()
    for kwargs, name in [(dict(steps=-1), "steps"), (dict(lr=0.0), "lr"), (dict(sign="x"), "sign"),
                         (dict(objective="w"), "objective"), (dict(phi="exp"), "phi"),
                         (dict(batch_size=0), "batch_size")]:
        with pytest.raises(ValueError, match=name):
            train_attacker(fam, real=real, fake=fake, generator=g, **kwargs)
    with pytest.raises(ValueError, match="real"):
        train_attacker(fam, real=real * float("nan"), fake=fake, generator=g)


@pytest.mark.parametrize(("in_dim", "hidden", "K"), [(1202, (4,), 8), (66, (8, 32), 4), (10, (), 16)])
def test_fused_training_path_equals_the_member_loop(in_dim, hidden, K):
    """The training path that computes every member's first layer in one product gives the per-member values
    (float32; tolerance 1e-4 because the two paths sum up to 1202 products in different orders)."""
    fam = MLPFamily(in_dim=in_dim, hidden=hidden, K=K, weight_norm=3.0, generator=torch.Generator().manual_seed(0))
    u = fam.clip_inputs(torch.randn(600, in_dim, generator=torch.Generator().manual_seed(1)))
    for t in (*fam.weights, *fam.biases):
        t.requires_grad_(True)
    fused = fam.forward(u, clipped=True, logits=True)  # K * width_1 is small: the fused path
    loop = torch.stack([fam._member_rows(k, u, inplace=False) for k in range(K)])
    assert fam.widths[1] <= disc._NARROW  # the case takes the fused path
    torch.testing.assert_close(fused, loop, rtol=1e-4, atol=1e-4)
    # and both agree with the no-gradient evaluation used for scoring
    with torch.no_grad():
        torch.testing.assert_close(fam.forward(u, logits=True), loop.detach(), rtol=1e-4, atol=1e-4)
