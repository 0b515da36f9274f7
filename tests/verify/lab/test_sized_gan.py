"""The lab's GAN with a discriminator of its own size: only D changes with d_width, the parameter count is exact,
and a run is deterministic for a fixed seed."""

import pytest
import torch

from ganlimits.constructions import grid
from ganlimits.verify.lab import LabConfig
from ganlimits.verify.lab._sized_gan import SizedGAN, discriminator_parameters, train_sized_gan

CFG = LabConfig(width=16, batch_size=32)


@pytest.mark.parametrize(("width", "depth"), [(4, 1), (8, 2), (32, 3)])
def test_discriminator_has_the_requested_size_and_the_generator_does_not_change(width, depth):
    gan = SizedGAN(d_width=width, d_depth=depth, data_dim=2, config=CFG, generator=torch.Generator().manual_seed(0))
    assert sum(p.numel() for p in gan.D.parameters()) == discriminator_parameters(2, width, depth)
    ref = SizedGAN(d_width=4, d_depth=1, data_dim=2, config=CFG, generator=torch.Generator().manual_seed(0))
    for a, b in zip(gan.G.parameters(), ref.G.parameters(), strict=True):  # G drawn first from the same stream
        assert torch.equal(a, b)


def test_same_seed_gives_the_same_generator_and_another_seed_does_not():
    z = torch.randn(8, CFG.noise_dim, generator=torch.Generator().manual_seed(3))
    runs = [train_sized_gan(grid(), steps=30, seed=s, d_width=8, config=CFG, n_eval=100) for s in (5, 5, 6)]
    assert torch.equal(runs[0].generator(z), runs[1].generator(z))
    assert runs[0].final.to_dict() == runs[1].final.to_dict()
    assert not torch.equal(runs[0].generator(z), runs[2].generator(z))


@pytest.mark.parametrize(("kw", "name"), [({"steps": 0}, "steps"), ({"d_width": 0}, "d_width"),
                                          ({"d_depth": 0}, "d_depth"), ({"n_eval": 0}, "n_eval")])
def test_bad_arguments_name_the_parameter(kw, name):
    args = {"steps": 5, "seed": 0, "d_width": 4, "config": CFG} | kw
    with pytest.raises(ValueError, match=name):
        train_sized_gan(grid(), **args)


def test_settled_horizon_is_a_prefix_of_the_run_to_its_cap():
    """Constant rate: a run stopped by its settle rule (window 1, tolerances wide open: it holds at the first
    snapshot) is the first 10 steps of the run to the cap 30 — the generator after 10 steps of the long run equals the
    stopped run's (same streams) — and each records its horizon."""
    from ganlimits.verify.lab.regime import SettleRule

    loose = SettleRule(window=1, modes_tol=100, hq_tol=1.0, persist=1)
    short = train_sized_gan(grid(), steps=30, seed=4, d_width=8, config=CFG, n_eval=100, eval_every=10,
                            settle=loose)
    ten = train_sized_gan(grid(), steps=10, seed=4, d_width=8, config=CFG, n_eval=100, eval_every=10)
    z = torch.randn(8, CFG.noise_dim, generator=torch.Generator().manual_seed(3))
    assert short.steps == 10 and short.horizon.settled and short.horizon.stopped_early
    assert torch.equal(short.generator(z), ten.generator(z))
    assert short.to_dict()["snapshots"][-1]["step"] == 10 and ten.horizon.cap == 10
    with pytest.raises(ValueError, match="eval_every"):
        train_sized_gan(grid(), steps=10, seed=4, d_width=8, config=CFG, eval_every=0)
