"""The lab's trainer: determinism, the trained networks as callables, bad input caught before training, and every
method learning something on the ring in the claim's quick setting (a broken trainer is caught by the same test)."""

import dataclasses

import pytest
import torch

from ganlimits.verify.claims.veegan.benchmark import Settings
from ganlimits.verify.lab import (
    MODELS,
    LabConfig,
    check_device,
    lab_target,
    mode_metrics,
    train_gan,
)
from ganlimits.verify.runs import Streams

TINY = LabConfig(width=16, batch_size=32)


def test_same_seed_same_run_different_seed_different_run():
    a = train_gan("veegan", "ring", steps=30, seed=5, config=TINY, eval_every=10, n_eval=200)
    b = train_gan("veegan", "ring", steps=30, seed=5, config=TINY, eval_every=10, n_eval=200)
    c = train_gan("veegan", "ring", steps=30, seed=6, config=TINY, eval_every=10, n_eval=200)
    z = torch.randn(50, 16, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert [s.to_dict() for s in a.snapshots] == [s.to_dict() for s in b.snapshots]
    assert torch.equal(a.generator(z), b.generator(z)) and torch.equal(a.encoder(a.generator(z)),
                                                                        b.encoder(b.generator(z)))
    assert not torch.equal(a.generator(z), c.generator(z))


def test_a_longer_constant_schedule_run_passes_through_the_shorter_one():
    assert TINY.lr_schedule == "constant"  # the lab's default: the papers' schedule
    short = train_gan("pacgan2", "grid", steps=10, seed=1, config=TINY, eval_every=5, n_eval=200)
    long = train_gan("pacgan2", "grid", steps=20, seed=1, config=TINY, eval_every=5, n_eval=200)
    assert [s.to_dict() for s in short.snapshots] == [s.to_dict() for s in long.snapshots[:3]]
    linear = dataclasses.replace(TINY, lr_schedule="linear")
    decayed = train_gan("pacgan2", "grid", steps=20, seed=1, config=linear, eval_every=5, n_eval=200)
    assert decayed.snapshots[1].to_dict() != long.snapshots[1].to_dict()  # the schedule is applied


def test_the_callable_is_the_trained_generator():
    """Scoring the returned callable on the final snapshot's noise reproduces the final snapshot exactly."""
    t = lab_target("grid")
    r = train_gan("gan", t, steps=20, seed=3, config=TINY, eval_every=20, n_eval=500)
    z = torch.randn(500, 16, generator=Streams(3).torch("eval", 20))
    m = mode_metrics(r.generator(z), t)
    assert (m.modes, m.high_quality) == (r.final.modes, r.final.high_quality) == (r.snapshots[-1].modes,
                                                                                    r.snapshots[-1].high_quality)
    x, labels = r.generator.sample(7, generator=torch.Generator().manual_seed(1))
    assert x.shape == (7, 2) and x.dtype == torch.float64 and labels is None
    assert r.encoder is None
    ali = train_gan("ali", t, steps=5, seed=3, config=TINY, n_eval=100)
    assert ali.encoder(x).shape == (7, 16)


def test_the_returned_networks_are_copies():
    r = train_gan("gan", "ring", steps=5, seed=0, config=TINY, n_eval=100)
    z = torch.randn(4, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    before = r.generator(z)
    for p in r.generator._net.parameters():
        assert not p.requires_grad
    assert torch.equal(before, r.generator(z))


# ---- every model learns something on the ring (quick setting); a broken trainer is caught -----------------------


def learned(result) -> bool:
    """The stated criterion of "trained to something non-trivial": the median distance of the generator's samples to
    their nearest mode (in std) fell by at least a quarter from its value at step 0 (the untrained generator, whose
    samples sit near the ring's centre, ~90 std from every mode), on the 2,500 evaluation draws the snapshots use.
    Measured in the quick setting (100 steps): ratios 0.45-0.63 over the seven methods; a frozen generator keeps
    ratio 1."""
    t = lab_target("ring")
    z0 = torch.randn(2500, 16, generator=Streams(result.seed).torch("eval", 0))
    zT = torch.randn(2500, 16, generator=Streams(result.seed).torch("eval", result.steps))
    return mode_metrics(result.generator(zT), t).median_distance <= 0.75 * _initial_distance(result, z0)


def _initial_distance(result, z0):
    from ganlimits.verify.lab import build_method

    init = build_method(result.model, data_dim=2, config=result.config,
                        generator=Streams(result.seed).torch("init"))
    with torch.no_grad():
        return mode_metrics(init.G(z0), lab_target("ring")).median_distance


@pytest.fixture(scope="module")
def quick_runs():
    s = Settings.quick()
    return {m: train_gan(m, lab_target("ring", **s.constants()), steps=s.steps_2d, seed=Streams(0).seed("trial", m),
                         config=s.lab_config(), eval_every=s.steps_2d) for m in MODELS}


@pytest.mark.parametrize("model", MODELS)
def test_every_model_learns_on_the_ring_in_the_quick_setting(quick_runs, model):
    assert learned(quick_runs[model]), (model, [s.to_dict() for s in quick_runs[model].snapshots])


def test_at_least_one_model_captures_two_modes_in_the_quick_setting(quick_runs):
    assert max(r.final.modes for r in quick_runs.values()) >= 2


def test_a_broken_trainer_is_caught_by_the_same_criterion():
    """Generator learning rate 0: the generator never moves, so its samples stay where they started."""
    s = Settings.quick()
    broken = dataclasses.replace(s.lab_config(), lr_g=0.0)
    r = train_gan("gan", lab_target("ring", **s.constants()), steps=s.steps_2d, seed=Streams(0).seed("trial", "gan"),
                  config=broken, eval_every=s.steps_2d)
    assert not learned(r)


# ---- bad input: a clear ValueError naming the parameter, before training ---------------------------------------


@pytest.fixture
def no_training(monkeypatch):
    """Any attempt to build a model fails loudly: the checks must come first."""
    import ganlimits.verify.lab._trainer as trainer

    def refuse(*args, **kwargs):
        raise AssertionError("training started before the arguments were checked")

    monkeypatch.setattr(trainer, "build_method", refuse)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"model": "dcgan"}, "model"),
        ({"model": 3}, "model"),
        ({"target": "moons"}, "target"),
        ({"target": torch.zeros(3, 2)}, "target"),
        ({"steps": 0}, "steps"),
        ({"steps": -5}, "steps"),
        ({"steps": 2.5}, "steps"),
        ({"device": "cuda:7" if not torch.cuda.is_available() else "cuda:999"}, "device"),
        ({"device": "not-a-device"}, "device"),
        ({"eval_every": 0}, "eval_every"),
        ({"n_eval": 0}, "n_eval"),
        ({"seed": -1}, "seed"),
        ({"config": {"width": 8}}, "config"),
    ],
)
def test_bad_input_is_refused_before_training(no_training, kwargs, name):
    args = {"model": "gan", "target": "ring", "steps": 10, "seed": 0} | kwargs
    with pytest.raises(ValueError, match=name):
        train_gan(args.pop("model"), args.pop("target"), **args)


@pytest.mark.parametrize(
    ("field", "value"),
    [("batch_size", 0), ("batch_size", -128), ("width", 0), ("noise_dim", 1.5), ("lr_g", -1e-3), ("beta1", 1.0),
     ("activation", "gelu"), ("lr_schedule", "cosine"), ("unroll_steps", 0)],
)
def test_bad_config_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        LabConfig(**{field: value})


def test_device_check():
    assert check_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="device"):
        check_device("cuda:12345")
