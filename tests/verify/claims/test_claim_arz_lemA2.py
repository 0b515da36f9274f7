"""Claim arz-lemA2 (Arora, Risteski & Zhang 2017, Lemmas A.1 and A.2): the identity
E f = E_mu phi(D(x, E(x))), the tail test against McDiarmid, its power control, and the quick claim run
(verdict, determinism)."""

import math
from pathlib import Path

import numpy as np
import pytest
import sympy as sp
import torch

from ganlimits.constructions import (
    GaussianBlockPartition,
    IdealGenerator,
    NoisedTarget,
    NoiseExtractingEncoder,
    NoiseModel,
    digits,
)
from ganlimits.theory import MCDIARMID_TAIL
from ganlimits.theory._arz_lemA2 import (
    EMPIRICAL_BERNSTEIN_HALF_WIDTH,
    MCDIARMID_VARIANCE_PROXY,
    SUBGAUSSIAN_TAIL,
    SUBGAUSSIAN_VARIANCE_CEILING,
)
from ganlimits.verify import RunConfig, phi_log, run_claim
from ganlimits.verify.claims.arz_lemA2 import (
    KAPPA,
    control_kappa,
    identity_check,
    objective_draws,
    tail_test,
    target_mean,
)

CLIP = 0.1
PHI = phi_log(clip=CLIP)


def _setup(k=4, code_dim=2, jitter=0.05):
    clean = digits(jitter=jitter)
    noise = NoiseModel(dim=clean.dim, code_dim=code_dim)
    partition = GaussianBlockPartition(k=k, code_dim=code_dim)
    target = NoisedTarget(clean=clean, noise=noise)
    return clean, noise, partition, target, NoiseExtractingEncoder(noise=noise)


def _normal_cdf_of_code(x, code):
    """D(x, code) = Phi(code_0): for code ~ N(0, 1), D ~ Uniform(0, 1), so E log max(D, c) = c - 1 exactly."""
    return 0.5 * torch.erfc(-code[:, 0].to(torch.float64) / math.sqrt(2.0))


def _code_mismatch(x, code):
    """Reads the first noise position against the code: 1/2 on a noised image, spread out on a clean one."""
    return torch.sigmoid(4.0 * (x[:, 31].to(torch.float64) - code[:, 0].to(torch.float64)))


# ---- theory: one definition, checked symbolically -------------------------------------------------------


def test_mcdiarmid_tail_is_the_subgaussian_tail_with_the_lemma_proxy():
    s = sp.Symbol("s", positive=True)
    via_proxy = SUBGAUSSIAN_TAIL.expr.subs(s, sp.sqrt(MCDIARMID_VARIANCE_PROXY.expr))
    assert sp.simplify(via_proxy - MCDIARMID_TAIL.expr) == 0
    Delta, m = sp.symbols("phi_range m", positive=True)
    assert sp.simplify(MCDIARMID_VARIANCE_PROXY.expr - 2 * Delta**2 / m) == 0


def test_variance_ceiling_is_four_s_squared_so_kappa_nine_makes_the_control_false():
    s = sp.Symbol("s", positive=True)
    assert sp.simplify(SUBGAUSSIAN_VARIANCE_CEILING.expr - 4 * s**2) == 0
    assert control_kappa() == KAPPA > 4  # ceiling(sqrt(v / KAPPA)) = 4 v / KAPPA < v


def test_empirical_bernstein_half_width_matches_maurer_pontil_at_a_point():
    # n = 101, V = 0.04, r = 1, alpha = 0.05: sqrt(2 * 0.04 * log 40 / 101) + 7 log 40 / 300.
    expected = math.sqrt(2 * 0.04 * math.log(40) / 101) + 7 * math.log(40) / 300
    got = float(EMPIRICAL_BERNSTEIN_HALF_WIDTH(V=0.04, n=101, r=1.0, alpha=0.05))
    assert got == pytest.approx(expected, rel=1e-12)


# ---- the draws ------------------------------------------------------------------------------------------


def test_draws_use_one_code_per_block_and_the_memorizing_generator_image():
    clean, noise, partition, _, _ = _setup(k=3)
    m = partition.m
    seen = []

    def image_of(memory, z):
        seen.append((memory, z))
        return noise.noised(memory, z)

    objective_draws([_normal_cdf_of_code], clean=clean, partition=partition, noise=noise, phi=PHI, R=5,
                    generator=torch.Generator().manual_seed(1), image_of=image_of)
    memory, z = seen[0]
    assert torch.equal(partition.index(z).view(5, m), torch.arange(m).repeat(5, 1))  # non-colliding, exact
    for r in range(5):
        rows = slice(r * m, (r + 1) * m)
        G = IdealGenerator(memory=memory[rows], partition=partition, noise=noise)
        assert torch.equal(G(z[rows]), noise.noised(memory[rows], z[rows]))


def test_lemma_a1_identity_against_the_closed_form_expectation():
    # D = Phi(code_0) has E phi(D) = c - 1 under nu AND under the non-colliding draws (each block: mass 1/m).
    # Hoeffding intervals at 95% (R = 400, m = 16, n_mu = 20000, seed 2); the interval must cover c - 1.
    clean, noise, partition, target, encoder = _setup(k=4)
    f = objective_draws([_normal_cdf_of_code], clean=clean, partition=partition, noise=noise, phi=PHI, R=400,
                        generator=torch.Generator().manual_seed(2))[0]
    mean, var = target_mean([_normal_cdf_of_code], target=target, encoder=encoder, phi=PHI, n=20_000,
                            generator=torch.Generator().manual_seed(3))
    check = identity_check(f, float(mean[0]), m=partition.m, n_mu=20_000, value_range=PHI.value_range,
                           confidence=0.95)
    assert check["agree"], check["difference"]
    for key in ("E_f", "E_mu"):
        assert check[key].ci_low <= CLIP - 1 <= check[key].ci_high, (key, check[key])
    assert 0 < float(var[0]) < PHI.value_range**2 / 4


def test_lemma_a1_check_catches_images_without_the_code():
    # Negative control: a "generator" that returns the clean memorized image, ignoring the code, against a D
    # that compares the first noise position with the code. Hoeffding difference interval at 95%, R = 200,
    # m = 16, n_mu = 20000, seeds 4 and 5: it must exclude 0.
    clean, noise, partition, target, encoder = _setup(k=4)
    f = objective_draws([_code_mismatch], clean=clean, partition=partition, noise=noise, phi=PHI, R=200,
                        generator=torch.Generator().manual_seed(4), image_of=lambda memory, z: memory)[0]
    mean, _ = target_mean([_code_mismatch], target=target, encoder=encoder, phi=PHI, n=20_000,
                          generator=torch.Generator().manual_seed(5))
    assert float(mean[0]) == pytest.approx(math.log(0.5), abs=1e-12)  # on mu the code sits at position 31
    check = identity_check(f, float(mean[0]), m=partition.m, n_mu=20_000, value_range=PHI.value_range,
                           confidence=0.95)
    assert not check["agree"], check["difference"]


def test_discriminator_outside_unit_interval_or_nan_is_an_error_naming_it():
    clean, noise, partition, _, _ = _setup(k=2)

    def too_big(x, code):
        return torch.full((x.shape[0],), 1.5, dtype=torch.float64)

    def nan(x, code):
        return torch.full((x.shape[0],), float("nan"), dtype=torch.float64)

    for D in (too_big, nan):
        with pytest.raises(ValueError, match=D.__name__):
            objective_draws([D], clean=clean, partition=partition, noise=noise, phi=PHI, R=2,
                            generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="R must be"):
        objective_draws([too_big], clean=clean, partition=partition, noise=noise, phi=PHI, R=1,
                        generator=torch.Generator().manual_seed(0))


# ---- the tail test --------------------------------------------------------------------------------------


def test_tail_test_counts_are_exact_on_a_small_case():
    f = torch.tensor([0.0, 0.1, -0.2, 0.3, -0.05])
    out = tail_test(f, centre=0.0, centre_half_width=0.05, t_grid=[0.0, 0.1, 0.2], bound=[1.0, 1.0, 1.0],
                    confidence_each=0.95)
    # |f| >= t + 0.05: t = 0 -> {0.1, 0.2, 0.3, 0.05} = 4; t = 0.1 -> {0.2, 0.3} = 2; t = 0.2 -> {0.3} = 1.
    assert out["count"].tolist() == [4, 2, 1]
    assert out["raw_tail"].tolist() == [1.0, 0.6, 0.4]
    assert not out["violated"].any()


def test_tail_test_flags_a_bound_below_the_variance_ceiling_and_spares_a_valid_one():
    # Gaussian f with variance v (R = 200, seed 6), centre known exactly; 25 t points, Bonferroni level
    # 1 - 0.04/25 each. The valid bound 2 exp(-t^2/(2v)) (Gaussian tail <= it) must never be flagged; the
    # control 2 exp(-KAPPA t^2/(2v)) must be flagged at some t (it is false for every law of variance v).
    rng = np.random.default_rng(6)
    v = 1e-4
    f = torch.from_numpy(rng.normal(0.5, math.sqrt(v), size=200))
    grid = np.geomspace(0.5 * math.sqrt(v), 5 * math.sqrt(v), 25)
    valid = np.asarray(SUBGAUSSIAN_TAIL(t=grid, s=math.sqrt(v)))
    control = np.asarray(SUBGAUSSIAN_TAIL(t=grid, s=math.sqrt(v / KAPPA)))
    ok = tail_test(f, centre=0.5, centre_half_width=0.0, t_grid=grid, bound=valid,
                   confidence_each=1 - 0.04 / 25)
    assert not ok["violated"].any()
    caught = tail_test(f, centre=0.5, centre_half_width=0.0, t_grid=grid, bound=control,
                       confidence_each=1 - 0.04 / 25)
    assert caught["violated"].any()


def test_collapsed_memory_breaks_concentration_and_is_flagged():
    # Negative control for the refutation path: every replicate's m = 16 memorized samples are ONE image
    # repeated (support 1, arguments no longer independent). With D = 1[mean clean intensity > 0.3145] (the
    # median), f is log(0.1) or 0 per replicate, so Pr[|f - E f| >= 1] is about 1, far above McDiarmid's
    # 2 exp(-16/(4 * 1.151^2)) = 0.099 at t = 1. R = 200, seed 7, CP level 1 - 0.04/2.
    clean, noise, partition, _, _ = _setup(k=4)
    m = partition.m
    clean_pos = noise.clean_positions

    def bright(x, code):
        return (x[:, clean_pos].mean(dim=1) > 0.3145).to(torch.float64)

    def collapsed(memory, z):
        first = memory.view(-1, m, memory.shape[1])[:, :1].expand(-1, m, -1).reshape(memory.shape)
        return noise.noised(first, z)

    f = objective_draws([bright], clean=clean, partition=partition, noise=noise, phi=PHI, R=200,
                        generator=torch.Generator().manual_seed(7), image_of=collapsed)[0]
    grid = np.array([0.5, 1.0])
    Delta = PHI.value_range / 2
    bound = np.asarray(MCDIARMID_TAIL(m=m, t=grid, phi_range=Delta))
    out = tail_test(f, centre=float(f.mean()), centre_half_width=0.0, t_grid=grid, bound=bound,
                    confidence_each=1 - 0.04 / 2)
    assert out["violated"].any(), (out["cp_low"], bound)


# ---- the claim ------------------------------------------------------------------------------------------


def test_quick_claim_is_consistent_with_control_caught_and_deterministic(tmp_path: Path):
    config = RunConfig(quick=True, seed=0, out_dir=tmp_path, progress=False, figures=True)
    first = run_claim("arz-lemA2", config)
    assert first.verdict == "consistent", first.notes
    assert first.control_caught is True
    m = first.measurements
    for name in ("random", "trained"):
        assert m[name]["control_caught"], name
        assert not any(m[name]["violated"]), name
        assert m[name]["identity"]["agree"], name
    assert m["generator_matches_noised"] is True
    assert m["trained_member"]["in_class"] is True  # the trained attacker stayed inside the declared class
    assert m["eps_net"]["log_size"] > 0 and m["eps_net"]["union_bound_m"] > m["m"]
    assert (tmp_path / "arz-lemA2_tail.png").exists()
    second = run_claim("arz-lemA2", RunConfig(quick=True, seed=0, out_dir=tmp_path / "again", progress=False,
                                              figures=False))
    a, b = first.to_dict(), second.to_dict()
    for key in ("measured", "control", "bound", "measurements", "verdict", "params"):
        assert a[key] == b[key], key
