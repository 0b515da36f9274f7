"""MIX+GAN in the lab: k = 1 is the plain GAN bit for bit, the mixture weights are a distribution, the mixture
samples its components by its weights, runs are deterministic, the equal-parameter budget holds, bad input is caught
before training, and the empirical equilibrium gap sees a collapsed generator and not the target itself."""

import dataclasses
import math

import pytest
import torch

from ganlimits.verify.claims._paired import planted_samples
from ganlimits.verify.lab import (
    LabConfig,
    LabGenerator,
    MixGAN,
    MixtureLabGenerator,
    component_width,
    equilibrium_gap,
    lab_target,
    mix_entropy,
    mlp,
    train_gan,
    train_mixgan,
)
from ganlimits.verify.lab._mixgan import _mlp_params

TINY = LabConfig(width=16, batch_size=32)


def _scores(snapshots):
    return [(s.step, s.modes, s.high_quality, None if math.isnan(s.reverse_kl) else s.reverse_kl) for s in snapshots]


@pytest.mark.parametrize("target", ["grid", "mixture_1200d"])
def test_k1_is_the_plain_gan_step_bit_for_bit(target):
    """Same seed: train_mixgan(k=1) and train_gan("gan") give identical generators and identical scores (the
    weights are exactly 1 and the regulariser a constant)."""
    a = train_gan("gan", target, steps=12, seed=3, config=TINY, eval_every=4, n_eval=300)
    b = train_mixgan(target, k=1, steps=12, seed=3, config=TINY, eval_every=4, n_eval=300)
    z = torch.randn(64, 16, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    h = torch.randn(64, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert torch.equal(a.generator(z), b.generator(torch.cat([z, h], 1)))
    assert _scores(a.snapshots) == _scores(b.snapshots)
    assert b.weights_g == (1.0,) and b.weights_d == (1.0,) and b.component_width == TINY.width


def test_mixture_weights_are_a_distribution_and_move():
    torch.manual_seed(0)  # no global randomness is used; set only so that a leak would be deterministic
    method = MixGAN(k=3, entropy_weight=0.1, data_dim=2, config=TINY, generator=torch.Generator().manual_seed(2))
    t = lab_target("grid")
    gen, data = torch.Generator().manual_seed(3), torch.Generator().manual_seed(4)
    for _ in range(15):
        method.step(t.sample(32, generator=data)[0].float(), gen)
    for w in (method.weights_g, method.weights_d):
        assert w.dtype == torch.float64 and bool((w > 0).all())
        assert float(w.sum()) == pytest.approx(1.0, abs=1e-12)
    assert not torch.equal(method.weights_g, torch.full((3,), 1 / 3, dtype=torch.float64))  # logits are trained


def test_entropy_regulariser_is_minimal_at_uniform_weights():
    k = 5
    uniform = torch.full((k,), 1 / k, dtype=torch.float64)
    skewed = torch.tensor([0.6, 0.1, 0.1, 0.1, 0.1], dtype=torch.float64)
    assert float(mix_entropy(uniform)) == pytest.approx(-math.log(1 / k + 1e-6), rel=1e-12)
    assert float(mix_entropy(skewed)) > float(mix_entropy(uniform))


def test_mixture_generator_selects_components_by_weight():
    """Selection seeds at the midpoints of the weight intervals pick exactly the intervals' components, and each
    row of the mixture is its component's output."""
    cfg = LabConfig(width=8, depth=1, noise_dim=3)
    gens = [LabGenerator(mlp(3, 2, cfg, generator=torch.Generator().manual_seed(i)), noise_dim=3) for i in range(3)]
    mix = MixtureLabGenerator(gens, [0.2, 0.5, 0.3])
    u = torch.tensor([0.1, 0.45, 0.85, 0.05, 0.69], dtype=torch.float64)
    h = torch.special.ndtri(u)
    assert mix.select(h).tolist() == [0, 1, 2, 0, 1]
    z = torch.randn(5, 3, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    x = mix(torch.cat([z, h[:, None]], 1))
    for row, comp in enumerate([0, 1, 2, 0, 1]):  # float32 networks: a row's value may differ in the last bit
        torch.testing.assert_close(x[row], gens[comp](z[row:row + 1])[0], rtol=1e-6, atol=1e-6)  # between batches
    # 20,000 draws (seed 0): component shares within 5 binomial standard errors of the weights
    idx = mix.select(torch.randn(20_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    share = torch.bincount(idx, minlength=3).double() / 20_000
    for p, q in zip([0.2, 0.5, 0.3], share.tolist(), strict=True):
        assert abs(q - p) < 5 * math.sqrt(p * (1 - p) / 20_000)
    with pytest.raises(ValueError, match="weights"):
        MixtureLabGenerator(gens, [0.5, 0.6, -0.1])


def test_same_seed_same_mixture_different_seed_different_mixture():
    a = train_mixgan("grid", k=2, steps=10, seed=7, config=TINY, eval_every=5, n_eval=200)
    b = train_mixgan("grid", k=2, steps=10, seed=7, config=TINY, eval_every=5, n_eval=200)
    c = train_mixgan("grid", k=2, steps=10, seed=8, config=TINY, eval_every=5, n_eval=200)
    z = torch.randn(100, 17, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert torch.equal(a.generator(z), b.generator(z)) and a.weights_g == b.weights_g
    assert [s.to_dict() for s in a.snapshots[1:]] == [s.to_dict() for s in b.snapshots[1:]]
    assert not torch.equal(a.generator(z), c.generator(z))


@pytest.mark.parametrize(("k", "dim"), [(2, 2), (5, 2), (5, 1200), (3, 7)])
def test_equal_parameter_budget(k, dim):
    cfg = LabConfig()
    w = component_width(cfg, k, dim)
    one = _mlp_params(cfg.noise_dim, dim, cfg.width, cfg.depth)
    assert k * _mlp_params(cfg.noise_dim, dim, w, cfg.depth) <= one < k * _mlp_params(cfg.noise_dim, dim, w + 1,
                                                                                      cfg.depth)
    assert component_width(cfg, k, dim, equal_params=False) == cfg.width
    r = train_mixgan("grid", k=k, steps=1, seed=0, config=TINY, n_eval=100) if dim == 2 else None
    if r is not None:
        assert r.n_params["generator"] <= _mlp_params(16, 2, TINY.width, TINY.depth)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"k": 0}, "k"), ({"k": 2.5}, "k"), ({"steps": 0}, "steps"), ({"entropy_weight": -0.1}, "entropy_weight"),
    ({"equal_params": "yes"}, "equal_params"), ({"target": "moons"}, "target"), ({"device": "nodevice"}, "device"),
    ({"config": {}}, "config")])
def test_bad_arguments_name_the_parameter(kwargs, name):
    args = {"target": "grid", "k": 2, "steps": 5, "seed": 0, "config": TINY} | kwargs
    target = args.pop("target")
    with pytest.raises(ValueError, match=name):
        train_mixgan(target, **args)


def test_equilibrium_gap_sees_a_collapsed_generator_and_not_the_target():
    """Grid, n_fresh = 4,000 per side, 95% two-sample Hoeffding (seed 0): a generator on one of the 25 means has a
    gap whose lower limit exceeds 1 (log payoff; max 2 log 2); the target against itself has an interval
    containing 0 (the best response cannot gain on fresh samples)."""
    t = lab_target("grid")

    class OneMode:
        def sample(self, n, *, generator):
            return planted_samples(t, [12], n), None

    cfg = LabConfig(width=32)
    collapsed = equilibrium_gap(OneMode(), t, seed=0, steps=150, n_train=1024, n_fresh=4000, config=cfg)
    itself = equilibrium_gap(t, t, seed=0, steps=150, n_train=1024, n_fresh=4000, config=cfg)
    assert collapsed.log_payoff.ci_low > 1.0 and collapsed.identity.ci_low > 0.5
    assert itself.log_payoff.ci_low < 0 < itself.log_payoff.ci_high
    assert itself.identity.ci_low < 0 < itself.identity.ci_high
    with pytest.raises(ValueError, match="n_fresh"):
        equilibrium_gap(t, t, seed=0, n_fresh=1)


def test_stacked_step_computes_the_block_payoff_of_its_components():
    """k = 3, width 16, batch 32 (c = 11): the stacked step's discriminator loss equals the module docstring's sum
    over (i, j) blocks computed one component at a time with the members taken out of the stacks (rtol 1e-5: float32
    batched products), and every member's output equals the stack's row (the same networks)."""
    k, cfg = 3, LabConfig(width=16, batch_size=32)
    m = MixGAN(k=k, entropy_weight=0.1, data_dim=2, config=cfg, generator=torch.Generator().manual_seed(5))
    x = lab_target("grid").sample(32, generator=torch.Generator().manual_seed(6))[0].float()
    Gs = [m.G_stack.member(i) for i in range(k)]
    Ds = [m.D_stack.member(j) for j in range(k)]
    c = m.block
    z = torch.randn(k * k * c, 16, generator=torch.Generator().manual_seed(7))
    fakes = [G(z[i * k * c:(i + 1) * k * c]) for i, G in enumerate(Gs)]
    torch.testing.assert_close(m.G_stack(z.view(k, k * c, 16))[1], fakes[1], rtol=1e-5, atol=1e-6)
    wg = wd = torch.full((k,), 1 / k)
    want = 0.1 * mix_entropy(wd)
    for j, D in enumerate(Ds):
        real = torch.nn.functional.softplus(-D(x)).mean()
        fake = sum(wg[i] * torch.nn.functional.softplus(D(fakes[i][j * c:(j + 1) * c])).mean() for i in range(k))
        want = want + wd[j] * (real + fake)
    loss_d, _ = m.step(x, torch.Generator().manual_seed(7))  # draws the same z from the same seed
    torch.testing.assert_close(loss_d, want.detach(), rtol=1e-5, atol=1e-6)
    assert c == math.ceil(32 / k) and m.networks()["generator"].k == k


def test_a_mixture_trains_to_a_settled_horizon_and_records_it():
    """With a SettleRule the run stops at the first snapshot where the rule holds (a rule that holds at once: window
    1, tolerances wide open), and the horizon says so; without one it trains to the cap and is assessed by the
    default rule."""
    from ganlimits.verify.lab.regime import SettleRule

    loose = SettleRule(window=1, modes_tol=100, hq_tol=1.0, persist=1)
    r = train_mixgan("grid", k=2, steps=40, seed=1, config=dataclasses.replace(TINY, lr_schedule="constant"),
                     eval_every=10, n_eval=100, settle=loose)
    assert r.steps == 10 and r.horizon.settled and r.horizon.stopped_early and r.snapshots[-1].step == 10
    full = train_mixgan("grid", k=2, steps=40, seed=1, config=TINY, eval_every=10, n_eval=100)
    assert full.steps == 40 and full.horizon.cap == 40 and not full.horizon.stopped_early
    with pytest.raises(ValueError, match="lr_schedule"):
        train_mixgan("grid", k=2, steps=40, seed=1, config=dataclasses.replace(TINY, lr_schedule="linear"),
                     settle=loose)
