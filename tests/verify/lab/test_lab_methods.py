"""The lab's methods against independent oracles: the unrolled inner steps are torch's own Adam, one-pass
discriminator evaluations equal two passes, VEEGAN's reconstructor learns from the autoencoder term only, PacGAN
packs, and the networks are seeded without global state."""

import copy

import pytest
import torch
from torch.nn import functional as F

from ganlimits.verify.lab import MODELS, LabConfig, build_method, lab_target, mlp

CFG = LabConfig(width=16, batch_size=32, noise_dim=4)


def _method(model, *, config=CFG, dim=2, seed=0):
    return build_method(model, data_dim=dim, config=config, generator=torch.Generator().manual_seed(seed))


def _batch(method, seed=1):
    t = lab_target("ring")
    return t.sample(method.reals_per_step, generator=torch.Generator().manual_seed(seed))[0].float()


def test_unrolled_inner_steps_are_torch_adam_steps():
    """Oracle: a deep copy of D with a deep copy of its optimiser, stepped K times by torch.optim.Adam on the same
    minibatch and the same (fixed) generated samples."""
    m = _method("unrolled", config=LabConfig(width=16, batch_size=32, noise_dim=4, unroll_steps=3))
    x = _batch(m)
    g = torch.Generator().manual_seed(2)
    for _ in range(3):  # give the optimiser some state
        m.step(x, g)
    fake = m.G(torch.randn(32, 4, generator=g)).detach()
    theta = m._unroll(x, fake)
    D = copy.deepcopy(m.D)
    opt = torch.optim.Adam(D.parameters(), lr=m.config.lr_d, betas=m.config.betas)
    opt.load_state_dict(copy.deepcopy(m.opt_d.state_dict()))
    for _ in range(3):
        loss = F.softplus(-D(x)).mean() + F.softplus(D(fake)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    for (name, p) in D.named_parameters():
        torch.testing.assert_close(theta[name].detach(), p.detach(), rtol=1e-5, atol=1e-7)  # float32 rounding


def test_unrolled_generator_gradient_flows_through_the_unrolled_discriminator():
    """The generator's gradient with K = 5 differs from the one through the current D (K steps matter) and is
    finite."""
    m = _method("unrolled")
    x = _batch(m)
    g = torch.Generator().manual_seed(3)
    m.step(x, g)
    fake = m.G(torch.randn(32, 4, generator=g))
    direct = torch.autograd.grad(F.softplus(-m.D(fake)).mean(), list(m.G.parameters()), retain_graph=True)
    from torch.func import functional_call

    unrolled = torch.autograd.grad(F.softplus(-functional_call(m.D, m._unroll(x, fake), (fake,))).mean(),
                                   list(m.G.parameters()))
    assert all(torch.isfinite(u).all() for u in unrolled)
    assert max(float((u - d).abs().max()) for u, d in zip(unrolled, direct, strict=True)) > 1e-6


@pytest.mark.parametrize("model", ["gan", "ali", "veegan", "pacgan2"])
def test_one_pass_logits_equal_two_passes(model):
    m = _method(model)
    a = torch.randn(32, m.D[0].in_features, generator=torch.Generator().manual_seed(4))
    b = torch.randn(32, m.D[0].in_features, generator=torch.Generator().manual_seed(5))
    ra, rb = m._logits(a, b)
    torch.testing.assert_close(ra, m.D(a), rtol=1e-5, atol=1e-6)  # one (64, .) product vs two (32, .) products
    torch.testing.assert_close(rb, m.D(b), rtol=1e-5, atol=1e-6)


def test_veegan_reconstructor_learns_from_the_autoencoder_term_only():
    """Algorithm 1: g_theta = grad_theta of the l2 loss on z. With recon_weight = 0 the reconstructor receives a
    zero gradient (Adam leaves it where it is); with weight 1 it moves. The generator moves in both cases."""
    for weight, moves in ((0.0, False), (1.0, True)):
        m = _method("veegan", config=LabConfig(width=16, batch_size=32, noise_dim=4, recon_weight=weight))
        f0 = [p.detach().clone() for p in m.F.parameters()]
        g0 = [p.detach().clone() for p in m.G.parameters()]
        m.step(_batch(m), torch.Generator().manual_seed(6))
        f_moved = any(not torch.equal(a, p) for a, p in zip(f0, m.F.parameters(), strict=True))
        g_moved = any(not torch.equal(a, p) for a, p in zip(g0, m.G.parameters(), strict=True))
        assert f_moved is moves and g_moved


def test_veegan_discriminator_labels_generator_pairs_as_one():
    """O_LR: -E log s(D(z, G(z))) - E log(1 - s(D(F(x), x))): after many D-only steps on a fixed pair of sets, D
    scores generator pairs above reconstructor pairs."""
    m = _method("veegan", config=LabConfig(width=16, batch_size=32, noise_dim=4, lr_g=0.0))
    x = _batch(m)
    for _ in range(60):
        m.step(x, torch.Generator().manual_seed(7))  # the same z every time: the same two sets of pairs
    z = torch.randn(32, 4, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        gen_pairs = m.D(torch.cat([z, m.G(z)], dim=1)).mean()
        rec_pairs = m.D(torch.cat([m.F(x), x], dim=1)).mean()
    assert gen_pairs > rec_pairs


@pytest.mark.parametrize(("model", "pack"), [("pacgan2", 2), ("pacgan4", 4)])
def test_pacgan_packs_m_samples(model, pack):
    m = _method(model)
    assert m.reals_per_step == 32 * pack and m.D[0].in_features == 2 * pack
    x = _batch(m)
    loss_d, loss_g = m.step(x, torch.Generator().manual_seed(8))
    assert torch.isfinite(loss_d) and torch.isfinite(loss_g)


def test_wgan_gp_one_pass_loss_equals_the_textbook_form():
    """The critic loss computed in one pass (real, fake, interpolates) equals three separate evaluations."""
    m = _method("wgan-gp")
    g = torch.Generator().manual_seed(9)
    real = _batch(m)[:32]
    fake = m.G(torch.randn(32, 4, generator=g)).detach()
    eps = torch.rand(32, 1, generator=g)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    f = m.D(torch.cat([real, fake, x_hat]))
    grad_one = torch.autograd.grad(f[64:].sum(), x_hat, create_graph=True)[0]
    x_hat2 = (eps * real + (1 - eps) * fake).requires_grad_(True)
    grad_sep = torch.autograd.grad(m.D(x_hat2).sum(), x_hat2, create_graph=True)[0]
    torch.testing.assert_close(grad_one, grad_sep, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(f[32:64].mean() - f[:32].mean(), m.D(fake).mean() - m.D(real).mean(),
                               rtol=1e-5, atol=1e-6)
    assert m.reals_per_step == 32 * m.config.n_critic


def test_mlp_draws_from_its_generator_only():
    torch.manual_seed(123)
    a = mlp(3, 2, CFG, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(456)
    b = mlp(3, 2, CFG, generator=torch.Generator().manual_seed(0))
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    bound = 1 / 3 ** 0.5
    assert float(a[0].weight.detach().abs().max()) <= bound


@pytest.mark.parametrize("model", MODELS)
def test_every_method_has_the_same_interface(model):
    m = _method(model)
    assert m.objective and m.label and m.reals_per_step >= 32
    loss_d, loss_g = m.step(_batch(m), torch.Generator().manual_seed(10))
    assert loss_d.shape == () and loss_g.shape == () and not loss_d.requires_grad
    assert set(m.networks()) >= {"generator", "discriminator"}
    assert (m.encoder_callable() is not None) == (model in ("ali", "veegan"))
