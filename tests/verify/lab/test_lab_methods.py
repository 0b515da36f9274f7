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


# ---- fidelity to the papers' algorithms ---------------------------------------------------------------------------


def _copies(m, *names):
    return [copy.deepcopy(getattr(m, n)) for n in names]


@pytest.mark.parametrize("sigma", [1.0, 0.3])
def test_veegan_step_is_algorithm_1_with_a_stochastic_reconstructor(sigma):
    """Oracle: the step written out by hand from copies of the networks and the same noise stream: z ~ N(0, I),
    z_g = F(x) + sigma eps (a draw of p_theta(z | x)), O_LR on (z, G(z)) vs (z_g, x), then
    O_hat = mean D(z, G(z)) (with the updated D) + lambda |z - F(G(z))|^2 / (2 sigma^2)."""
    cfg = LabConfig(width=16, batch_size=32, noise_dim=4, recon_std=sigma, recon_weight=0.7)
    m = _method("veegan", config=cfg)
    x = _batch(m)
    G0, F0, D0 = _copies(m, "G", "F", "D")
    loss_d, loss_g = m.step(x, torch.Generator().manual_seed(12))
    g = torch.Generator().manual_seed(12)
    z = torch.randn(32, 4, generator=g)
    eps = torch.randn(32, 4, generator=g)
    with torch.no_grad():
        gen_pair = torch.cat([z, G0(z)], 1)
        rec_pair = torch.cat([F0(x) + sigma * eps, x], 1)
        want_d = F.softplus(-D0(gen_pair)).mean() + F.softplus(D0(rec_pair)).mean()
        want_g = m.D(gen_pair).mean() + 0.7 * (z - F0(G0(z))).pow(2).sum(1).mean() / (2 * sigma ** 2)
    torch.testing.assert_close(loss_d, want_d, rtol=1e-5, atol=1e-6)  # one-pass vs two-pass float32 sums
    torch.testing.assert_close(loss_g, want_g, rtol=1e-5, atol=1e-6)


def test_veegan_real_pairs_are_spread_like_the_reconstructor_law():
    """z_g - F(x) over the step's real pairs has standard deviation sigma: D sees pairs drawn from p_theta(z | x),
    not the deterministic map (32 x 4 draws of N(0, sigma^2), sigma = 0.5, seed 13: within 25% of sigma)."""
    m = _method("veegan", config=LabConfig(width=16, batch_size=32, noise_dim=4, recon_std=0.5))
    seen = {}
    original = m._logits

    def spy(a, b):
        seen["rec"] = b.detach().clone()
        return original(a, b)

    m._logits = spy
    x = _batch(m)
    with torch.no_grad():
        fx = m.F(x)
    m.step(x, torch.Generator().manual_seed(13))
    spread = float((seen["rec"][:, :4] - fx).std())
    assert 0.375 < spread < 0.625, spread


def test_ali_encoder_is_reparametrised_and_hands_back_its_mean():
    """ALI: z_hat = mu(x) + softplus(s(x)) eps with the encoder's two output halves; the oracle is the hand-written
    D loss from copies and the same noise stream; the returned encoder is mu alone. BiGAN keeps the deterministic
    encoder (d_code outputs)."""
    m = _method("ali")
    assert m.E[-1].out_features == 8 and _method("bigan").E[-1].out_features == 4
    x = _batch(m)
    G0, E0, D0 = _copies(m, "G", "E", "D")
    loss_d, _ = m.step(x, torch.Generator().manual_seed(14))
    g = torch.Generator().manual_seed(14)
    z = torch.randn(32, 4, generator=g)
    with torch.no_grad():
        out = E0(x)
        z_hat = out[:, :4] + F.softplus(out[:, 4:]) * torch.randn(32, 4, generator=g)
        want = (F.softplus(-D0(torch.cat([x, z_hat], 1))).mean()
                + F.softplus(D0(torch.cat([G0(z), z], 1))).mean())
    torch.testing.assert_close(loss_d, want, rtol=1e-5, atol=1e-6)
    enc = m.encoder_callable()
    with torch.no_grad():
        torch.testing.assert_close(enc(x), m.E(x)[:, :4].double(), rtol=0, atol=0)


def test_unrolled_generator_and_discriminator_step_from_the_same_discriminator():
    """Metz et al.'s simultaneous update: the first unrolled step taken from theta_D before the step is the step D
    then takes (same minibatch, same generated samples)."""
    m = _method("unrolled", config=LabConfig(width=16, batch_size=32, noise_dim=4, unroll_steps=1))
    x = _batch(m)
    g = torch.Generator().manual_seed(15)
    for _ in range(2):
        m.step(x, g)
    state = g.get_state()
    with torch.no_grad():
        fake = m.G(torch.randn(32, 4, generator=g))
    theta_1 = m._unroll(x, fake)
    g.set_state(state)
    m.step(x, g)
    for name, p in m.D.named_parameters():
        torch.testing.assert_close(p.detach(), theta_1[name].detach(), rtol=1e-5, atol=1e-7)  # fused Adam rounding


def test_unrolled_generator_minimises_the_value_function():
    """The paper's surrogate f_K is the GAN value function: the generator's loss is E log(1 - s(D_K(G(z)))) <= 0."""
    m = _method("unrolled")
    _, loss_g = m.step(_batch(m), torch.Generator().manual_seed(16))
    assert float(loss_g) < 0
