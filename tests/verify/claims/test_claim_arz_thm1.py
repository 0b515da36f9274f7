"""Claim arz-thm1: the verdict where the theorem's hypotheses hold, its power, and the issue's negative controls.

Every gap below is the best of the attack's members with a Bonferroni two-sample Hoeffding interval at 95%
(alpha = 0.05); each test fixes its seed, so none can flake.
"""

import math
from pathlib import Path

import pytest
import torch

from ganlimits.constructions import (
    FreshGenerator,
    NoisedTarget,
    NoiseExtractingEncoder,
    NoiseModel,
    digits,
    memorizing_generator,
    support_one_generator,
)
from ganlimits.verify import MLPFamily, RunConfig, as_phi, run_claim
from ganlimits.verify.claims.arz_thm1 import AttackSettings, Settings, attack, theorem_support

EPS = 0.25
SMALL = AttackSettings(K_random=16, K_trained=4, n_train=2000, n_test=4000, steps=100, lr=0.05)
TRAINED = AttackSettings(K_random=0, K_trained=4, n_train=2000, n_test=4000, steps=100, lr=0.02)


@pytest.fixture(scope="module")
def world():
    clean = digits(jitter=0.05)
    noise = NoiseModel(dim=clean.dim, code_dim=2)
    return clean, noise, NoisedTarget(clean=clean, noise=noise, sigma=1.0), NoiseExtractingEncoder(noise=noise)


def _spec(noise, hidden=()):
    weight_norm = 2.0 if not hidden else 3.0
    return dict(in_dim=noise.dim + noise.code_dim, hidden=hidden, weight_norm=weight_norm, bias_bound=1.0)


def _attack(gen, world, seed, encoder=None, hidden=()):
    """The verdict's attack (logistic class) or, with ``hidden``, trained MLP attackers of that shape."""
    clean, noise, mu, enc = world
    a = TRAINED if hidden else SMALL
    return attack(gen, encoder or enc, mu, family_spec=_spec(noise, hidden), a=a, phi=as_phi("identity"),
                  rng=torch.Generator().manual_seed(seed), seed=seed)[0]


@pytest.fixture(scope="module")
def quick_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("arz-thm1")
    return run_claim("arz-thm1", RunConfig(quick=True, seed=0, out_dir=out, progress=False, figures=False))


def test_quick_verdict_is_taken_where_the_hypotheses_hold(quick_result):
    r = quick_result
    s = Settings.quick()
    need = r.measurements["theorem_support"]
    assert r.params["m"] >= max(need["paper"], need["spec"])  # the theorem's own m is reached
    assert r.params["p"] == need["p"] == r.params["code_dim"] + 64 + 1
    assert r.measurements["encoder_inverts"] is True  # E(G(z)) == z, bit for bit
    assert r.control_caught is True and r.control.ci_low > s.eps  # the attack has power
    assert r.measured.ci_high <= s.eps
    assert r.verdict == "consistent"


def test_quick_sweep_measures_decay_and_both_controls(quick_result):
    sw = quick_result.measurements["sweep"]["digits"]
    assert sw["p"] > 1000  # a realistic capacity, thousands of parameters
    assert len(sw["rows"]) >= 4
    assert sw["support1"]["ci_low"] > sw["eps"]  # support 1 is caught by the realistic attacker too
    assert sw["perfect"]["ci_low"] == 0.0  # the noise floor's interval reaches 0
    assert sw["slope_log_gap_vs_log_m"] < -0.2  # the gap falls with m (fitted on the measured estimates)
    assert sw["smallest_m_upper_below_eps"] is not None
    # The theorem's m (either form) is far above what this attacker needs.
    assert sw["looseness_paper"] > 1 and sw["looseness_spec"] > 1


def test_same_seed_and_threads_give_identical_numbers(tmp_path, quick_result):
    again = run_claim("arz-thm1", RunConfig(quick=True, seed=0, out_dir=tmp_path, progress=False, figures=False))
    assert again.threads == quick_result.threads
    assert again.measured == quick_result.measured
    assert again.control == quick_result.control
    assert again.measurements["sweep"] == quick_result.measurements["sweep"]


def test_support_one_generator_is_caught(world):
    clean, noise, _, _ = world
    gap = _attack(support_one_generator(clean, noise, generator=torch.Generator().manual_seed(1)), world, seed=1)
    assert gap.ci_low > EPS, gap


def test_encoder_that_outputs_zeros_is_caught(world):
    """Negative control: with E(x) = 0 the code side of the real pair is constant while the fake side carries z.

    A logistic attacker is linear in the code and z is symmetric, so it cannot see this (its gap is second
    order); a trained ReLU attacker must.
    """
    clean, noise, _, _ = world
    gen = memorizing_generator(clean, noise, k=64, generator=torch.Generator().manual_seed(2))
    zero_encoder = lambda x: torch.zeros(x.shape[0], noise.code_dim, dtype=torch.float64)
    gap = _attack(gen, world, seed=2, encoder=zero_encoder, hidden=(32, 32))
    assert gap.ci_low > EPS, gap


def test_generator_without_the_code_in_the_noise_positions_is_caught(world):
    """Negative control: training images returned as they are (no z at the noise positions)."""
    clean, noise, _, _ = world
    rng = torch.Generator().manual_seed(3)
    images = lambda z: clean.sample(z.shape[0], generator=rng)[0]
    gap = _attack(images, world, seed=3, hidden=(32, 32))
    assert gap.ci_low > EPS, gap


def test_perfect_generator_is_not_flagged(world):
    """The other side of the same attack: x_fresh ⊙ z has exactly the law of (x, E(x)), so no gap > eps."""
    clean, noise, _, _ = world
    gap = _attack(FreshGenerator(clean, noise, torch.Generator().manual_seed(4)), world, seed=4)
    assert gap.ci_high < EPS, gap


def test_theorem_support_uses_the_unit_ball_lipschitz_constant():
    fam = MLPFamily(in_dim=66, hidden=(), K=1, weight_norm=2.0, bias_bound=1.0,
                    generator=torch.Generator().manual_seed(0))
    need = theorem_support(fam, eps=0.25)
    # One logistic layer: L_theta = sqrt(R^2 + 1) / 4 with R = sqrt(66); the class lies in a ball of radius
    # sqrt(s^2 + beta^2) = sqrt(5).
    assert math.isclose(need["L_theta"], math.sqrt(67) / 4, rel_tol=1e-12)
    assert math.isclose(need["L_unit_ball"], math.sqrt(67) / 4 * math.sqrt(5), rel_tol=1e-12)
    with pytest.raises(ValueError, match="phi_name"):
        theorem_support(fam, eps=0.25, phi_name="log")


def test_figure_is_written(tmp_path, quick_result):
    from ganlimits.verify.claims.arz_thm1 import _figure

    name = _figure(quick_result.measurements["sweep"], 0.25, tmp_path)
    assert (Path(tmp_path) / name).stat().st_size > 10_000
