"""The stacked trainer against the one-by-one trainer at matched seeds: one stacked step gives every run its own
gradient (a mean over the stack is caught), a few training steps give every run its one-by-one numbers (float32 and
float64), the sized GAN and MIX+GAN too, each run draws from its own streams, the device path, bad input; slow: a
longer horizon in float64.

Tolerances. float32: the stack's batched products (``torch.bmm``) may round differently from the one-run products
(``addmm``, and a matrix-vector product for a one-unit output) in the last bit; over a dozen Adam steps the
difference stays at a few float32 ulps of the outputs (measured <= 6e-8 after 20 steps on every method), so
``rtol=1e-4, atol=1e-5`` has a margin of ~100 and is still far below what a wrong stream or a shared optimiser
makes (O(1), checked below). float64: the same computation in float64 agrees to ~1e-15 per step (measured <= 2e-13
after 300 steps), so ``rtol=1e-9, atol=1e-10`` — the float32 differences are rounding, not a different algorithm.
The discrete scores of a snapshot (modes, high-quality share of ``n_eval`` samples) may differ by one sample in
float32 (a sample within rounding of a threshold), never in float64 at these tolerances.
"""

import pytest
import torch

from ganlimits.constructions import grid
from ganlimits.verify.lab import (
    MODELS,
    LabConfig,
    build_method,
    lab_target,
    mlp,
    run_steps,
    train_gan,
    train_mixgan,
    train_sized_gan,
)
from ganlimits.verify.lab._gan_steps import LabMethod
from ganlimits.verify.lab._mixgan import MixGAN
from ganlimits.verify.lab.regime import SettleRule
from ganlimits.verify.lab.stacked import StackedMLP, train_mixgan_stacked, train_sized_stacked, train_stacked
from ganlimits.verify.runs import Streams

METHODS = (*MODELS, "bigan")  # every method train_gan takes
TINY = LabConfig(width=16, batch_size=32, noise_dim=4, unroll_steps=2, n_critic=2)
SEEDS = (3, 8)
F32 = {"rtol": 1e-4, "atol": 1e-5}  # float32 rounding, amplified over a dozen steps (module docstring)
F64 = {"rtol": 1e-9, "atol": 1e-10}  # float64 rounding (module docstring)


@pytest.fixture
def float64():
    """Networks, noise and data in float64 for the test's duration (the oracle for float32 rounding)."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def _z(noise_dim: int, n: int = 200) -> torch.Tensor:
    return torch.randn(n, noise_dim, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def _assert_same_run(stacked, one, tol, *, n_eval: int, slack: int = 1) -> None:
    """One run of a stack against the same seed trained alone: the trained callables on fixed inputs, every
    snapshot's losses and scores (``slack`` samples of the discrete scores), parameter counts, seed, steps and
    horizon."""
    assert (stacked.seed, stacked.steps, stacked.n_params) == (one.seed, one.steps, one.n_params)
    if one.horizon is not None:
        assert stacked.horizon == one.horizon
    z = _z(one.generator.noise_dim)
    torch.testing.assert_close(stacked.generator(z), one.generator(z), **tol)
    if one.encoder is not None:
        x = one.generator(z)
        torch.testing.assert_close(stacked.encoder(x), one.encoder(x), **tol)
    assert [s.step for s in stacked.snapshots] == [s.step for s in one.snapshots]
    for a, b in zip(stacked.snapshots[1:], one.snapshots[1:], strict=True):
        torch.testing.assert_close(torch.tensor([a.loss_d, a.loss_g]), torch.tensor([b.loss_d, b.loss_g]), **tol)
    for a, b in zip(stacked.snapshots, one.snapshots, strict=True):
        assert abs(a.modes - b.modes) <= slack and abs(a.high_quality - b.high_quality) <= slack / n_eval + 1e-12


# ---- one step: every run gets its own gradient ----------------------------------------------------------------


def _stacked_and_alone(model, seeds=SEEDS, config=TINY, dim=2):
    """A stack built from each seed's stream "init" and one method per seed built from the same stream; each run's
    real minibatch from its stream "data" (the stack's is their stack)."""
    t = lab_target("grid")
    streams = [Streams(s) for s in seeds]
    stack = build_method(model, data_dim=dim, config=config, generator=[s.torch("init") for s in streams])
    alone = [build_method(model, data_dim=dim, config=config, generator=s.torch("init")) for s in streams]
    xs = [t.sample(stack.reals_per_step, generator=s.torch("data"))[0].float() for s in streams]
    return stack, alone, xs, streams


def _grads_by_run(stack: LabMethod, s: int) -> list[torch.Tensor]:
    return [p.grad[s].reshape(-1) for net in stack.networks().values() for p in net.parameters()]


def _grads(method: LabMethod) -> list[torch.Tensor]:
    return [p.grad.reshape(-1) for net in method.networks().values() for p in net.parameters()]


@pytest.mark.parametrize("model", METHODS)
def test_one_stacked_step_gives_each_run_its_own_gradient(model):
    """After one step, every parameter gradient (the generator's, and the discriminator's of its last update) and
    every updated parameter of run s equal those of seed s stepped alone, to float32 rounding."""
    stack, alone, xs, streams = _stacked_and_alone(model)
    stack.step(torch.stack(xs), [s.torch("noise") for s in streams])
    for s, (one, x, st) in enumerate(zip(alone, xs, streams, strict=True)):
        one.step(x, st.torch("noise"))
        for a, b in zip(_grads_by_run(stack, s), _grads(one), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)  # one step: float32 rounding of bmm vs addmm
        view = stack.unstack(s)
        for role, net in one.networks().items():
            for a, b in zip(view.networks()[role].parameters(), net.parameters(), strict=True):
                torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_a_mean_over_the_stack_is_caught(monkeypatch):
    """Negative control: reducing the losses by one mean over the whole stack divides every run's gradient by S
    (here 2); the comparison above sees it."""
    monkeypatch.setattr(LabMethod, "_mean", lambda self, t: t.mean())
    stack, alone, xs, streams = _stacked_and_alone("gan")
    stack.step(torch.stack(xs), [s.torch("noise") for s in streams])
    alone[0].step(xs[0], streams[0].torch("noise"))
    ratios = [float(a.norm() / b.norm()) for a, b in zip(_grads_by_run(stack, 0), _grads(alone[0]), strict=True)
              if b.norm() > 0]
    assert max(abs(r - 0.5) for r in ratios) < 1e-4  # every gradient halved: caught by the tolerance above


# ---- a few steps: every run's numbers are its one-by-one numbers ----------------------------------------------


@pytest.mark.parametrize("model", METHODS)
def test_stacked_training_equals_one_by_one_float32(model):
    rs = train_stacked(model, "grid", steps=12, seeds=SEEDS, config=TINY, eval_every=4, n_eval=200)
    assert [r.seed for r in rs] == list(SEEDS)
    for r in rs:
        _assert_same_run(r, train_gan(model, "grid", steps=12, seed=r.seed, config=TINY, eval_every=4, n_eval=200),
                         F32, n_eval=200)
        assert r.to_dict()["stack"] == {"seeds": list(SEEDS), "size": 2, "train_s": r.stack_train_s}
        assert r.train_s == pytest.approx(r.stack_train_s / 2)


@pytest.mark.parametrize("model", METHODS)
def test_stacked_training_equals_one_by_one_float64(float64, model):
    rs = train_stacked(model, "ring", steps=12, seeds=SEEDS, config=TINY, eval_every=6, n_eval=200)
    for r in rs:
        one = train_gan(model, "ring", steps=12, seed=r.seed, config=TINY, eval_every=6, n_eval=200)
        assert next(one.generator._net.parameters()).dtype == torch.float64
        _assert_same_run(r, one, F64, n_eval=200, slack=0)


@pytest.mark.parametrize("persist", [1, 2])
def test_each_run_stops_where_it_settles_alone(persist):
    """With a settle rule every run of the stack stops at the snapshot where it stops alone (with persist 1 at steps
    28 and 40, the third at the cap of 60), with the networks and snapshots it has there."""
    rule = SettleRule(window=1, hq_tol=1.0, modes_tol=100, hq_floor=0.1, persist=persist)
    kw = {"steps": 60, "config": TINY, "eval_every": 4, "n_eval": 200, "threshold": 30, "settle": rule}
    rs = train_stacked("gan", "ring", seeds=[0, 3, 5], **kw)
    if persist == 1:
        assert [(r.steps, r.horizon.stopped_early) for r in rs] == [(28, True), (40, True), (60, False)]
    for r in rs:
        _assert_same_run(r, train_gan("gan", "ring", seed=r.seed, **kw), F32, n_eval=200)


def test_sized_gan_stack_equals_one_by_one():
    t = grid()
    cfg = LabConfig(width=16, batch_size=32)
    rs = train_sized_stacked(t, steps=15, seeds=SEEDS, d_width=6, d_depth=1, config=cfg, n_eval=300)
    for r in rs:
        one = train_sized_gan(t, steps=15, seed=r.seed, d_width=6, d_depth=1, config=cfg, n_eval=300)
        assert (r.d_params, r.g_params, r.d_width, r.d_depth) == (one.d_params, one.g_params, 6, 1)
        z = _z(16)
        torch.testing.assert_close(r.generator(z), one.generator(z), **F32)
        assert abs(r.final.high_quality - one.final.high_quality) <= 1 / 300 + 1e-12
        assert r.to_dict()["stack"]["seeds"] == list(SEEDS)


@pytest.mark.parametrize("k", [1, 3])
def test_mixgan_stack_equals_one_by_one(k):
    cfg = LabConfig(width=16, batch_size=32)
    rs = train_mixgan_stacked("grid", k=k, steps=12, seeds=SEEDS, config=cfg, eval_every=6, n_eval=200)
    for r in rs:
        one = train_mixgan("grid", k=k, steps=12, seed=r.seed, config=cfg, eval_every=6, n_eval=200)
        _assert_same_run(r, one, F32, n_eval=200)
        torch.testing.assert_close(torch.tensor(r.weights_g), torch.tensor(one.weights_g), **F32)
        torch.testing.assert_close(torch.tensor(r.weights_d), torch.tensor(one.weights_d), **F32)
        assert (r.budget, r.component_width, r.k) == (one.budget, one.component_width, k)


def test_each_run_draws_from_its_own_streams():
    """A run's numbers do not depend on its stack-mates or its place in the stack, and two seeds differ by far more
    than the tolerance (so the comparisons above could fail)."""
    ab = train_stacked("gan", "grid", steps=8, seeds=[3, 8], config=TINY, n_eval=100)
    ba = train_stacked("gan", "grid", steps=8, seeds=[8, 3, 5], config=TINY, n_eval=100)
    alone = train_stacked("gan", "grid", steps=8, seeds=[3], config=TINY, n_eval=100)
    z = _z(4)
    torch.testing.assert_close(ab[0].generator(z), ba[1].generator(z), **F32)
    torch.testing.assert_close(ab[0].generator(z), alone[0].generator(z), **F32)
    torch.testing.assert_close(ab[1].generator(z), ba[0].generator(z), **F32)
    assert float((ab[0].generator(z) - ab[1].generator(z)).abs().max()) > 1e-2


# ---- the stack's network --------------------------------------------------------------------------------------


def test_stacked_mlp_is_its_networks():
    cfg = LabConfig(width=8, depth=2, activation="tanh")
    nets = [mlp(3, 2, cfg, generator=torch.Generator().manual_seed(s)) for s in range(4)]
    stack = StackedMLP(nets)
    assert sum(p.numel() for p in stack.parameters()) == 4 * sum(p.numel() for p in nets[0].parameters())
    x = torch.randn(4, 5, 3, generator=torch.Generator().manual_seed(9))
    out = stack(x)
    for s, net in enumerate(nets):
        torch.testing.assert_close(out[s], net(x[s]), rtol=1e-6, atol=1e-6)  # bmm vs addmm rounding
        back = stack.unstack(s)
        assert all(torch.equal(p, q) for p, q in zip(back.parameters(), net.parameters(), strict=True))
    with pytest.raises(ValueError, match="one shape"):
        StackedMLP([mlp(3, 2, cfg, generator=torch.Generator()), mlp(4, 2, cfg, generator=torch.Generator())])
    with pytest.raises(ValueError, match="s must"):
        stack.unstack(4)
    with pytest.raises(ValueError, match="unstack"):
        build_method("gan", data_dim=2, config=TINY, generator=torch.Generator()).unstack(0)


# ---- the device path ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", [*METHODS, "mixgan"])
def test_every_tensor_of_a_stacked_step_lives_on_the_device(monkeypatch, model):
    """The device path, tested on PyTorch's ``meta`` device (shapes without data; this machine has no GPU): a
    stacked step of every method runs there, and a tensor left on the CPU by mistake would raise ("Tensor on device
    cpu is not on the expected device meta"). Torch's fused Adam has no meta kernel, so the test steps with its
    plain Adam (same update), whose step counters torch keeps on the CPU by design."""
    monkeypatch.setattr(LabMethod, "_adam", lambda self, params, lr: torch.optim.Adam(params, lr=lr,
                                                                                     betas=self.config.betas))
    streams = [Streams(s) for s in SEEDS]
    gens = [s.torch("init") for s in streams]
    if model == "mixgan":
        m = MixGAN(k=2, data_dim=2, config=TINY, generator=gens, device="meta")
    else:
        m = build_method(model, data_dim=2, config=TINY, generator=gens, device="meta")
    run_steps(m, lab_target("grid"), steps=2, config=TINY, data_gen=[s.torch("data") for s in streams],
              noise_gen=[s.torch("noise") for s in streams], device="meta")
    params = [p for net in m.networks().values() for p in net.parameters()]
    assert params and {p.device.type for p in params} == {"meta"}
    states = [v for opt in m.optimizers() for st in opt.state.values() for k, v in st.items() if k != "step"]
    assert states and {v.device.type for v in states} == {"meta"}


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present: the comparison below runs instead")
def test_cuda_is_refused_by_name_where_there_is_none():
    with pytest.raises(ValueError, match="device"):
        train_stacked("gan", "ring", steps=2, seeds=[0], device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none where this was written)")
@pytest.mark.parametrize("model", METHODS)
def test_stacked_on_cuda_equals_one_by_one_on_cpu(model):
    rs = train_stacked(model, "grid", steps=12, seeds=SEEDS, config=TINY, eval_every=4, n_eval=200, device="cuda")
    for r in rs:
        one = train_gan(model, "grid", steps=12, seed=r.seed, config=TINY, eval_every=4, n_eval=200)
        _assert_same_run(r, one, {"rtol": 1e-3, "atol": 1e-4}, n_eval=200)  # GPU kernels round differently again


# ---- bad input --------------------------------------------------------------------------------------------------


@pytest.fixture
def no_training(monkeypatch):
    """Any attempt to build a model fails loudly: the checks must come first."""
    import ganlimits.verify.lab._stacked as stacked

    def refuse(*args, **kwargs):
        raise AssertionError("training started before the arguments were checked")

    for name in ("build_method", "SizedGAN", "MixGAN"):
        monkeypatch.setattr(stacked, name, refuse)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"seeds": []}, "seeds"),
        ({"seeds": [1, 1]}, "seeds"),
        ({"seeds": [-1]}, "seeds"),
        ({"seeds": 3}, "seeds"),
        ({"seeds": "01"}, "seeds"),
        ({"model": "dcgan"}, "model"),
        ({"target": "moons"}, "target"),
        ({"steps": 0}, "steps"),
        ({"config": {"width": 8}}, "config"),
        ({"eval_every": 0}, "eval_every"),
        ({"n_eval": 0}, "n_eval"),
        ({"device": "not-a-device"}, "device"),
        ({"seeds": range(10**4), "config": LabConfig(batch_size=4096)}, "seeds"),  # beyond the memory budget
    ],
)
def test_bad_input_is_refused_before_training(no_training, kwargs, name):
    args = {"model": "gan", "target": "ring", "steps": 10, "seeds": [0, 1]} | kwargs
    with pytest.raises(ValueError, match=name):
        train_stacked(args.pop("model"), args.pop("target"), **args)


@pytest.mark.parametrize(("kwargs", "name"), [({"seeds": []}, "seeds"), ({"d_width": 0}, "d_width"),
                                              ({"target": "grid"}, "target")])
def test_sized_stack_bad_input(no_training, kwargs, name):
    args = {"target": grid(), "steps": 5, "seeds": [0], "d_width": 4} | kwargs
    with pytest.raises(ValueError, match=name):
        train_sized_stacked(args.pop("target"), **args)


@pytest.mark.parametrize(("kwargs", "name"), [({"seeds": [2, 2]}, "seeds"), ({"k": 0}, "k"),
                                              ({"equal_params": 1}, "equal_params")])
def test_mixgan_stack_bad_input(no_training, kwargs, name):
    args = {"target": "grid", "k": 2, "steps": 5, "seeds": [0]} | kwargs
    with pytest.raises(ValueError, match=name):
        train_mixgan_stacked(args.pop("target"), **args)


# ---- slow: a longer horizon -----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("model", METHODS)
def test_a_long_stacked_run_equals_the_loop_in_float64(float64, model):
    """300 steps at width 32, three seeds, constant learning rate: in float64 every run of the stack keeps the
    one-by-one numbers to 1e-9 (measured <= 2e-13). In float32 the same runs drift apart on some seeds (a unit
    within rounding of its threshold, then Adam's normalised step), up to a few percent of the output by 300 steps
    (``_stacked`` module docstring): that drift is rounding, as this test shows, so no float32 test runs this long."""
    cfg = LabConfig(width=32, batch_size=64, noise_dim=8, lr_schedule="constant")
    rs = train_stacked(model, "grid", steps=300, seeds=[0, 1, 2], config=cfg, eval_every=100, n_eval=1000)
    for r in rs:
        one = train_gan(model, "grid", steps=300, seed=r.seed, config=cfg, eval_every=100, n_eval=1000)
        _assert_same_run(r, one, F64, n_eval=1000, slack=0)
