"""Target distributions: exact facts, reproducibility, statistical checks with stated error rates, controls.

Statistical tests use fixed seeds (so they cannot flake) and state their test, alpha and n; each has a
negative control that the same test must reject.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import special, stats
from sklearn.datasets import load_digits

from ganlimits.constructions import (
    NoisedTarget,
    NoiseModel,
    Target,
    digits,
    gaussian_mixture,
    grid,
    mixture_1200d,
    ring,
)

ALPHA = 1e-3  # error rate of every statistical test in this file
VEEGAN_MEANS = [-1.0, -0.5, 0.0, 0.5, -2.0, -2.5, 10.0, 0.25, -13.0, -5.5]


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def all_targets() -> list[tuple[str, Target]]:
    return [
        ("digits", digits()),
        ("digits-jitter", digits(jitter=0.05)),
        ("ring", ring()),
        ("grid", grid()),
        ("mixture_1200d", mixture_1200d()),
    ]


# ----------------------------------------------------------------------------------------------- interface


@pytest.mark.parametrize("name,target", all_targets())
def test_interface_shapes_dtypes_and_attributes(name, target):
    x, labels = target.sample(37, generator=gen(0))
    assert x.shape == (37, target.dim) and x.dtype == torch.float64
    assert labels.shape == (37,) and labels.dtype == torch.int64
    assert int(labels.min()) >= 0 and int(labels.max()) < target.n_classes
    assert isinstance(target.description, str) and "\n" not in target.description
    assert target.support == (1797 if name == "digits" else math.inf)
    expected_dim = {"digits": 64, "digits-jitter": 64, "ring": 2, "grid": 2, "mixture_1200d": 1200}[name]
    assert target.dim == expected_dim


@pytest.mark.parametrize("name,target", all_targets())
def test_same_seed_same_samples_other_seed_differs(name, target):
    x1, l1 = target.sample(50, generator=gen(7))
    x2, l2 = target.sample(50, generator=gen(7))
    x3, _ = target.sample(50, generator=gen(8))
    assert torch.equal(x1, x2) and torch.equal(l1, l2)
    assert not torch.equal(x1, x3), f"{name}: seeds 7 and 8 gave identical samples"


def test_descriptions_state_every_scale():
    assert "0.05" in digits(jitter=0.05).description and "/16" in digits(jitter=0.05).description
    d = ring(n_modes=6, radius=2.5, std=0.1).description
    assert "6" in d and "2.5" in d and "0.1" in d
    assert "0.3" in grid(std=0.3).description
    d = mixture_1200d(std=2.0).description
    assert "std 2" in d and "700" in d and "1200" in d


# -------------------------------------------------------------------------------------------------- digits


def test_digits_images_are_sklearn_digits_over_16():
    ref = load_digits()
    t = digits()
    images, labels = t.images, t.labels
    assert images.shape == (1797, 64) and images.dtype == torch.float64
    assert torch.equal(images, torch.from_numpy(ref.data / 16.0))
    assert torch.equal(labels, torch.from_numpy(ref.target.astype(np.int64)))
    assert float(images.max()) == 1.0 and float(images.min()) == 0.0
    assert torch.equal(images * 16, torch.round(images * 16)), "pixels must be exact multiples of 1/16"
    assert torch.unique(images, dim=0).shape[0] == 1797
    assert t.n_classes == 10 and t.dim == 64


def test_digits_without_jitter_draws_exact_images_with_their_labels():
    t = digits()
    images, labels = t.images, t.labels
    lookup = {tuple(row.tolist()): int(lab) for row, lab in zip(images, labels, strict=True)}
    x, lab = t.sample(500, generator=gen(1))
    for row, lb in zip(x, lab, strict=True):
        assert lookup[tuple(row.tolist())] == int(lb)


def test_digits_jitter_follows_documented_draw_order():
    """x = images[comp] + jitter * eps: comp from n float64 uniforms, then one (n, 64) normal block."""
    t = digits(jitter=0.07)
    x, lab = t.sample(300, generator=gen(2))
    g = gen(2)
    u = torch.rand(300, dtype=torch.float64, generator=g)
    comp = torch.clamp(torch.floor(u * 1797).to(torch.int64), max=1796)
    eps = torch.randn(300, 64, dtype=torch.float64, generator=g)
    assert torch.equal(lab, t.labels[comp])
    torch.testing.assert_close(x, t.images[comp] + 0.07 * eps, rtol=0, atol=1e-15)


def test_digits_jitter_residual_std_chi_square_interval():
    """Residuals x - images[comp] are N(0, h^2): two-sided chi-square interval on the sum of squares (known
    mean), alpha = 1e-3, n = 2000 x 64, seed 3; control: h = 0.053 checked as 0.05 is rejected."""
    def sum_sq_ok(h_true: float, h_claimed: float) -> bool:
        t = digits(jitter=h_true)
        g = gen(3)
        x, _ = t.sample(2000, generator=g)
        comp = t.sample_components(2000, generator=gen(3))
        r = (x - t.images[comp]).flatten()
        dof = r.numel()
        stat = float((r * r).sum()) / h_claimed**2
        return stats.chi2.ppf(ALPHA / 2, dof) <= stat <= stats.chi2.ppf(1 - ALPHA / 2, dof)

    assert sum_sq_ok(0.05, 0.05)
    assert not sum_sq_ok(0.053, 0.05), "control: a 6% error in the jitter must be caught"


# -------------------------------------------------------------------------------------------- mixtures


def test_grid_means_exact():
    t = grid()
    pairs = [[-4 + 2 * i, -4 + 2 * j] for i in range(5) for j in range(5)]
    expected = torch.tensor(pairs, dtype=torch.float64)
    assert torch.equal(t.means, expected)
    assert torch.equal(t.std, torch.full((2,), 0.05, dtype=torch.float64))
    assert torch.equal(t.weights, torch.full((25,), 1 / 25, dtype=torch.float64))


def test_ring_means_on_the_circle():
    t = ring(n_modes=8, radius=1.0, std=0.02)
    mu = t.means
    assert mu.shape == (8, 2)
    torch.testing.assert_close(mu.norm(dim=1), torch.ones(8, dtype=torch.float64), rtol=0, atol=1e-15)
    angles = torch.atan2(mu[:, 1], mu[:, 0]) % (2 * math.pi)
    torch.testing.assert_close(angles, torch.arange(8, dtype=torch.float64) * math.pi / 4, rtol=0, atol=1e-14)


def test_mixture_1200d_means_and_degenerate_coordinates_exact():
    t = mixture_1200d(std=1.5)
    b = torch.tensor(VEEGAN_MEANS, dtype=torch.float64)
    assert torch.equal(t.means, b[:, None].expand(10, 1200))
    assert torch.equal(t.std[:700], torch.full((700,), 1.5, dtype=torch.float64))
    assert torch.equal(t.std[700:], torch.zeros(500, dtype=torch.float64))
    x, lab = t.sample(400, generator=gen(4))
    assert torch.equal(x[:, 700:], b[lab][:, None].expand(400, 500)), "coords 700..1199 must equal the mean"


def _moment_failures(x, labels, means, std, *, alpha):
    """Per component and coordinate: sample mean in the exact normal interval mean +- z sigma / sqrt(n_c), and
    (n_c - 1) s^2 / sigma^2 in the two-sided chi-square(n_c - 1) interval; Bonferroni over all 2 K checks."""
    c, d = means.shape
    k_checks = 2 * c * d
    z = stats.norm.ppf(1 - alpha / (2 * k_checks))
    fails = []
    for i in range(c):
        xi = x[labels == i]
        n_i = xi.shape[0]
        a = alpha / (2 * k_checks)
        lo_v, hi_v = stats.chi2.ppf(a, n_i - 1), stats.chi2.ppf(1 - a, n_i - 1)
        for j in range(d):
            if abs(float(xi[:, j].mean()) - float(means[i, j])) > z * std / math.sqrt(n_i):
                fails.append((i, j, "mean"))
            v = (n_i - 1) * float(xi[:, j].var()) / std**2
            if not lo_v <= v <= hi_v:
                fails.append((i, j, "std"))
    return fails


@pytest.mark.parametrize("factory,std", [(ring, 0.02), (grid, 0.05)])
def test_component_means_and_stds(factory, std):
    """Exact normal / chi-square intervals per component and coordinate, Bonferroni at alpha = 1e-3 overall,
    n = 20000, seed 5; controls: a 15% larger std, and means shifted by 0.2 std, are caught by the same
    check."""
    t = factory(std=std)
    x, lab = t.sample(20000, generator=gen(5))
    assert _moment_failures(x, lab, t.means, std, alpha=ALPHA) == []
    wide = factory(std=std * 1.15)
    x, lab = wide.sample(20000, generator=gen(5))
    assert _moment_failures(x, lab, t.means, std, alpha=ALPHA), "control: a 15% wider std must be caught"
    x, lab = t.sample(20000, generator=gen(5))
    shifted = _moment_failures(x + 0.2 * std, lab, t.means, std, alpha=ALPHA)
    assert shifted, "control: means shifted by 0.2 std must be caught"


def test_mixture_1200d_active_coordinates_moments():
    """Per component, the n_c x 700 residuals are i.i.d. N(0, s^2): their mean in the exact normal interval
    and their sum of squares in the chi-square(700 n_c) interval; Bonferroni over 20 checks at alpha = 1e-3,
    n = 2000, seed 6; control: s = 1.01 checked as 1 is rejected."""
    def failures(s_true: float) -> int:
        t = mixture_1200d(std=s_true)
        x, lab = t.sample(2000, generator=gen(6))
        b = torch.tensor(VEEGAN_MEANS, dtype=torch.float64)
        r_all = x[:, :700] - b[lab][:, None]
        z = stats.norm.ppf(1 - ALPHA / 40)
        bad = 0
        for i in range(10):
            r = r_all[lab == i].flatten()
            dof = r.numel()
            bad += abs(float(r.mean())) > z / math.sqrt(dof)
            ss = float((r * r).sum())
            bad += not stats.chi2.ppf(ALPHA / 40, dof) <= ss <= stats.chi2.ppf(1 - ALPHA / 40, dof)
        return bad

    assert failures(1.0) == 0
    assert failures(1.01) > 0, "control: a 1% error in the std must be caught"


def _chi_square_p(labels: torch.Tensor, probs: np.ndarray) -> float:
    counts = np.bincount(labels.numpy(), minlength=probs.size)
    return float(stats.chisquare(counts, probs * counts.sum()).pvalue)


@pytest.mark.parametrize(
    "name,target,n",
    [("ring", ring(), 20000), ("grid", grid(), 20000), ("mixture_1200d", mixture_1200d(), 4000),
     ("digits", digits(), 20000), ("digits-jitter", digits(jitter=0.05), 20000)],
)
def test_label_frequencies_chi_square(name, target, n):
    """Pearson chi-square goodness of fit of label counts to the target's class probabilities, alpha = 1e-3,
    seed 9 (n per case in the parametrisation). Digit classes have probability (class count) / 1797."""
    if name.startswith("digits"):
        probs = np.bincount(load_digits().target, minlength=10) / 1797
    else:
        probs = np.full(target.n_classes, 1 / target.n_classes)
    _, lab = target.sample(n, generator=gen(9))
    p = _chi_square_p(lab, probs)
    assert p > ALPHA, f"{name}: chi-square p = {p:.3g} <= alpha (seed 9, n = {n})"


def test_label_chi_square_rejects_skewed_sampler():
    """Control: a ring whose first mode has weight 1.15 (others 1) fails the same chi-square test against
    uniform frequencies at alpha = 1e-3, n = 20000, seed 9."""
    base = ring()
    skewed = gaussian_mixture(means=base.means, std=0.02, weights=[1.15] + [1.0] * 7)
    _, lab = skewed.sample(20000, generator=gen(9))
    assert _chi_square_p(lab, np.full(8, 1 / 8)) <= ALPHA


def test_weights_zero_component_never_drawn_and_finite_support():
    t = gaussian_mixture(means=[[0.0], [1.0], [2.0], [1.0]], std=0.0, weights=[0.5, 0.0, 0.5, 0.0])
    x, lab = t.sample(5000, generator=gen(10))
    assert set(lab.tolist()) == {0, 2}
    assert t.support == 2
    assert gaussian_mixture(means=[[0.0], [1.0], [1.0]], std=0.0).support == 2
    assert digits(jitter=0.0).support == 1797 and digits(jitter=1e-3).support == math.inf


# ---------------------------------------------------------------------------------------------- log density


def _oracle_log_density(x, means, std, weights):
    """Brute force with scipy: one multivariate normal per component, then logsumexp."""
    comps = [
        stats.multivariate_normal(mean=means[i], cov=np.diag(std**2)).logpdf(x) + math.log(weights[i])
        for i in range(means.shape[0])
    ]
    return special.logsumexp(np.stack(comps, axis=-1), axis=-1)


@given(
    c=st.integers(1, 5),
    d=st.integers(1, 4),
    seed=st.integers(0, 2**31 - 1),
)
def test_log_density_matches_scipy_oracle(c, d, seed):
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(c, d)) * 3
    std = rng.uniform(0.2, 2.0, size=d)
    weights = rng.uniform(0.1, 1.0, size=c)
    t = gaussian_mixture(means=means, std=std, weights=weights)
    x = rng.normal(size=(20, d)) * 4
    ours = t.log_density(torch.from_numpy(x)).numpy()
    oracle = np.atleast_1d(_oracle_log_density(x, means, std, weights / weights.sum()))
    np.testing.assert_allclose(ours, oracle, rtol=1e-12, atol=1e-10)


def test_log_density_comparison_catches_shifted_mean():
    """Control for the oracle comparison: moving one mean by 1e-3 moves the log-density beyond tolerance."""
    means = np.array([[0.0, 0.0], [1.0, 2.0]])
    x = np.array([[0.3, -0.2], [1.1, 2.1], [0.5, 1.0]])
    moved = gaussian_mixture(means=means + np.array([[1e-3, 0.0], [0.0, 0.0]]), std=0.5)
    oracle = _oracle_log_density(x, means, np.array([0.5, 0.5]), [0.5, 0.5])
    diff = np.abs(moved.log_density(torch.from_numpy(x)).numpy() - oracle)
    assert diff.max() > 1e-6


def test_digits_kernel_density_matches_loop():
    t = digits(jitter=0.1)
    x, _ = t.sample(4, generator=gen(11))
    images = t.images.numpy()
    ours = t.log_density(x).numpy()
    for row, value in zip(x.numpy(), ours, strict=True):
        per_image = stats.norm.logpdf(row[None, :], loc=images, scale=0.1).sum(axis=1) - math.log(1797)
        assert value == pytest.approx(special.logsumexp(per_image), rel=1e-12)


def test_log_density_integrates_to_one_on_the_plane():
    """Midpoint sum of exp(log_density) of a ring (std 0.3) over [-4, 4]^2 with step 0.02 (tails outside the
    square < 1e-20; the midpoint rule on a smooth rapidly decaying density is accurate far beyond 1e-6)."""
    t = ring(std=0.3)
    ticks = torch.arange(-4.0, 4.0, 0.02, dtype=torch.float64) + 0.01
    pts = torch.cartesian_prod(ticks, ticks)
    total = float(torch.exp(t.log_density(pts)).sum()) * 0.02**2
    assert total == pytest.approx(1.0, abs=1e-6)


def test_log_density_degenerate_coordinates():
    t = mixture_1200d()
    x, _ = t.sample(5, generator=gen(12))
    assert torch.isfinite(t.log_density(x)).all()
    x[0, 900] += 1e-9
    ld = t.log_density(x)
    assert ld[0] == -math.inf and torch.isfinite(ld[1:]).all()
    finite = gaussian_mixture(means=[[0.0], [1.0], [1.0]], std=0.0)
    mass = torch.exp(finite.log_density(torch.tensor([[0.0], [1.0], [0.5]], dtype=torch.float64)))
    expected = torch.tensor([1 / 3, 2 / 3, 0.0], dtype=torch.float64)
    torch.testing.assert_close(mass, expected, rtol=1e-15, atol=0)


# -------------------------------------------------------------------------------------------- noised target


def test_noised_target_puts_codes_at_noise_positions_and_keeps_the_rest():
    clean = digits(jitter=0.05)
    noise = NoiseModel(dim=64, code_dim=8)
    t = NoisedTarget(clean=clean, noise=noise, sigma=2.0)
    x, z, lab = t.sample_with_codes(200, generator=gen(13))
    assert x.shape == (200, 64) and z.shape == (200, 8) and x.dtype == z.dtype == torch.float64
    pos = torch.as_tensor(noise.positions)
    assert torch.equal(x[:, pos], z)
    # documented draw order: the clean sample first, then z as one (n, d') block of N(0, sigma^2)
    g = gen(13)
    x_clean, lab_clean = clean.sample(200, generator=g)
    z_ref = 2.0 * torch.randn(200, 8, dtype=torch.float64, generator=g)
    assert torch.equal(z, z_ref) and torch.equal(lab, lab_clean)
    keep = torch.ones(64, dtype=torch.bool)
    keep[pos] = False
    assert torch.equal(x[:, keep], x_clean[:, keep])
    x2, lab2 = t.sample(200, generator=gen(13))
    assert torch.equal(x2, x) and torch.equal(lab2, lab)
    assert t.support == math.inf and t.dim == 64 and t.n_classes == 10 and "2^2" in t.description


def test_noised_target_code_std_chi_square():
    """Sum of squares of z / sigma^2 in the two-sided chi-square(n d') interval, alpha = 1e-3, n = 32000,
    d' = 1, seed 14; control: codes drawn with sigma = 2.05 checked as sigma = 2 are rejected."""
    def ok(sigma_true: float) -> bool:
        t = NoisedTarget(clean=ring(), noise=NoiseModel(dim=2, code_dim=1), sigma=sigma_true)
        _, z, _ = t.sample_with_codes(32000, generator=gen(14))
        dof = z.numel()
        ss = float((z * z).sum()) / 2.0**2
        return stats.chi2.ppf(ALPHA / 2, dof) <= ss <= stats.chi2.ppf(1 - ALPHA / 2, dof)

    assert ok(2.0)
    assert not ok(2.05), "control: a 2.5% error in sigma must be caught"


# -------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "make,param",
    [
        (lambda: digits(jitter=-0.1), "jitter"),
        (lambda: digits(jitter=float("nan")), "jitter"),
        (lambda: ring(n_modes=0), "n_modes"),
        (lambda: ring(n_modes=2.5), "n_modes"),
        (lambda: ring(radius=0.0), "radius"),
        (lambda: ring(std=-1.0), "std"),
        (lambda: grid(std=float("inf")), "std"),
        (lambda: mixture_1200d(std=0.0), "std"),
        (lambda: gaussian_mixture(means=[1.0, 2.0], std=1.0), "means"),
        (lambda: gaussian_mixture(means=[[float("nan")]], std=1.0), "means"),
        (lambda: gaussian_mixture(means=[[0.0, 1.0]], std=[1.0, 2.0, 3.0]), "std"),
        (lambda: gaussian_mixture(means=[[0.0], [1.0]], std=1.0, weights=[1.0]), "weights"),
        (lambda: gaussian_mixture(means=[[0.0], [1.0]], std=1.0, weights=[1.0, -0.5]), "weights"),
        (lambda: gaussian_mixture(means=[[0.0], [1.0]], std=1.0, weights=[0.0, 0.0]), "weights"),
        (lambda: ring().sample(0, generator=gen(0)), "n"),
        (lambda: ring().sample(10, generator=None), "generator"),
        (lambda: ring().log_density(torch.zeros(3, 3)), "x"),
        (lambda: ring().log_density(torch.full((3, 2), float("nan"))), "x"),
        (lambda: NoisedTarget(clean=ring(), noise=NoiseModel(dim=64, code_dim=8)), "noise"),
        (lambda: NoisedTarget(clean=digits(), noise=NoiseModel(dim=64, code_dim=8), sigma=0.0), "sigma"),
        (lambda: NoisedTarget(clean="digits", noise=NoiseModel(dim=64, code_dim=8)), "clean"),
    ],
)
def test_bad_parameters_raise_value_error_naming_them(make, param):
    with pytest.raises(ValueError, match=rf"^{param}\b"):
        make()
