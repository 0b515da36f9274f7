"""Claim arz-thm1: the procedure behind the verdict, not its outcome.

The verdict attack must catch the joint-law-breaking (code-dependent) generator; the logistic class it replaced must
be blind to it (why the class changed); the near-boundary control must be caught by the verdict's own attack; the
quick run must record the theorem's m, the collapse detector, the coverage, the control, the power curve and the m
grid; bad settings fail before any computation. Every gap is the best member's |gap| with one-sided Bonferroni
two-sample Hoeffding limits at 95% (alpha = 0.05); every test fixes its seeds, so none can flake.
"""

import dataclasses
import math

import pytest
import torch

from ganlimits.constructions import (
    CodeDependentGenerator,
    FreshGenerator,
    HashedMemoryGenerator,
    PlantedMixture,
)
from ganlimits.verify import Estimate, MLPFamily, RunConfig, run_claim
from ganlimits.verify.claims._arz import World, certify_gap, mixture_value, rate_for
from ganlimits.verify.claims._common import NEAR_BOUNDARY, NearBoundaryControl, PowerCurve, decide
from ganlimits.verify.claims.arz_thm1 import AttackSettings, Settings, theorem_support, verdict_attack

EPS = Settings.quick().eps
MID = AttackSettings(hidden=(8,), weight_norm=8.0, bias_bound=2.0, K_random=16, K_trained=8, n_train=6000,
                     n_test=6000, steps=200, lr=0.02, batch_size=1000, init_norm=2.0)


@pytest.fixture(scope="module")
def world():
    return World.build("digits", code_dim=2, sigma=1.0)


def _cd(world, seed):
    return CodeDependentGenerator(world.clean, world.noise, generator=torch.Generator().manual_seed(seed))


def test_verdict_attack_catches_the_code_dependent_generator_and_the_linear_class_is_blind(world):
    """The generator of the issue: right image marginal, content chosen by |z_1| (digits 0-4 below the quantile,
    5-9 above). One hidden ReLU layer computes |z_1| and sees it (lower limit above eps); the logistic class (linear
    in (x, code), the verdict class before) cannot: its upper limit stays below eps on the same kind of data,
    although the pair's joint law is at total variation about 1/2 from the real one. Seeds 1-4."""
    seen, detail = verdict_attack(_cd(world, 1), world.encoder, world.mu, settings=MID,
                                  rng=torch.Generator().manual_seed(2))
    assert seen.ci_low > EPS, seen
    assert detail["best_member_trained"] and detail["p"] == 66 * 8 + 8 + 8 + 1
    assert seen.estimate == max(abs(g) for g in detail["member_gaps"]) and seen.sides == 1
    blind = dataclasses.replace(MID, hidden=())
    missed, detail = verdict_attack(_cd(world, 3), world.encoder, world.mu, settings=blind,
                                    rng=torch.Generator().manual_seed(4))
    assert missed.ci_high < EPS, missed
    assert detail["p"] == 66 + 1
    assert seen.estimate > 4 * missed.estimate


def test_verdict_attack_does_not_flag_a_perfect_generator(world):
    """The other side of the same attack: x_fresh ⊙ z has exactly the law of (x, E(x)), gap 0 (seeds 5, 6)."""
    est, _ = verdict_attack(FreshGenerator(world.clean, world.noise, torch.Generator().manual_seed(5)),
                            world.encoder, world.mu, settings=MID, rng=torch.Generator().manual_seed(6))
    assert est.ci_high < EPS and est.sides == 1, est


def test_near_boundary_control_is_caught_by_the_verdict_attack(world):
    """The control of the full setting at the verdict's n: the memorizing generator at m = 64^2 mixed with the
    code-dependent one at the rate where the certified gap is 2.2 eps (certifier: 8 members, 300 steps, 8000 pairs,
    scored on 100,000 pairs per side); the full setting's trained members, at its n, must see it (lower limit >
    eps). Seeds 7-11."""
    G = HashedMemoryGenerator(world.clean, world.noise, k=64, seed=7)
    cert = certify_gap(_cd(world, 8), G, world.encoder, world.mu, settings=Settings.quick().certify, n_score=100_000,
                       rng=torch.Generator().manual_seed(9), confidence=0.999)
    rate = rate_for(cert, 2.2 * EPS)
    truth = mixture_value(cert, rate)
    assert 0 < rate <= 1 and NEAR_BOUNDARY[0] * EPS <= truth.ci_low <= truth.ci_high <= NEAR_BOUNDARY[1] * EPS
    mix = PlantedMixture(G, _cd(world, 10), rate=rate, generator=torch.Generator().manual_seed(10))
    attack = dataclasses.replace(Settings.full().attack, K_random=0)  # the random members never find it
    est, _ = verdict_attack(mix, world.encoder, world.mu, settings=attack, rng=torch.Generator().manual_seed(11))
    assert est.ci_low > EPS, (est, truth)


def _small() -> Settings:
    """The quick setting with a one-point power curve of one repeat and a coarse m grid (fast tests)."""
    return dataclasses.replace(Settings.quick(), power_factors=(2.5,), power_repeats=1, grid_factor=32.0)


@pytest.fixture(scope="module")
def small_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("arz-thm1")
    return run_claim("arz-thm1", RunConfig(quick=True, seed=0, out_dir=out, progress=False), settings=_small())


def test_the_run_records_everything_the_verdict_rests_on_and_follows_the_rule(small_result):
    r, s = small_result, _small()
    need = r.measurements["digits"]["theorem_support"]
    assert r.params["m"] >= max(need["paper"], need["spec"])  # the theorem's own m is reached
    assert r.params["p"] == need["p"] == 66 * 8 + 8 + 8 + 1
    assert r.measurements["digits"]["encoder_inverts"] is True  # E(G(z)) == z, bit for bit
    # The measurement is the verdict attack's: one-sided Bonferroni limits over all its members, at its n.
    assert r.measured.sides == 1 and r.measured.n == s.attack.n_test
    assert r.measured.method.startswith(f"one-sided bonferroni-hoeffding-two-sample(K={s.attack.K_random + 4})")
    # Collapse at the verdict's m: the memory-row detector sees a gap near 1 on the verdict's own test pairs.
    assert r.measurements["collapse"]["memory_row_gap"]["ci_low"] > 0.95
    cov = r.params["memory_coverage"]
    assert r.params["target_support"] == "unbounded" and cov["m"] == r.params["m"] and cov["components"] == 1797
    assert cov["covered"] == 1797 and cov["mean_copies"] > 100  # every base image memorized hundreds of times
    # The near-boundary control's true value lies in [1.5, 3] eps and was attacked at the verdict's n.
    ctrl = r.measurements["near_boundary_control"]
    assert NEAR_BOUNDARY[0] <= ctrl["ratio"] <= NEAR_BOUNDARY[1] and r.control_true_value == ctrl["true_value"]
    assert ctrl["measured"]["n"] == s.attack.n_test and r.control_caught == (r.control.ci_low > s.eps)
    # The power curve and the m grid, from 16 up to the theorem's m.
    assert r.resolution["n"] == s.attack.n_test and len(r.resolution["strengths"]) == 1
    grid = r.measurements["support_resolution"]["grid"]
    assert grid[0]["m"] == 16 and grid[-1]["m"] == r.params["m"]
    first = r.measurements["support_resolution"]["smallest_consistent_m"]
    if first is not None:
        assert all(row["consistent"] for row in grid if row["m"] >= first)
        assert math.isclose(r.measurements["support_resolution"]["ratio_paper"], need["paper"] / first)
    assert grid[0]["gap"]["ci_low"] > s.eps  # m = 16 memorized images are seen at once
    # The verdict follows the rule of docs/design.md from the recorded numbers (whatever it is).
    c = r.measurements["near_boundary_control"]
    control = NearBoundaryControl(c["name"], true_value=c["true_value"], truth=c["truth"], bound=c["bound"],
                                  measured=Estimate(**c["measured"]))
    res = {k: v for k, v in r.resolution.items() if k in ("strengths", "detected", "repeats", "n", "bound")}
    curve = PowerCurve(**{**res, "strengths": tuple(res["strengths"]), "detected": tuple(res["detected"])})
    assert (r.verdict, r.verdict_reason.split("; ")[0]) == decide(r.measured, r.bound["value"], control=control,
                                                                  resolution=curve)
    assert r.figures == ["arz-thm1_gap_vs_m.png", "arz-thm1_power.png"]


def test_same_seed_gives_identical_numbers_and_another_seed_does_not(world):
    def once(seed):
        G = HashedMemoryGenerator(world.clean, world.noise, k=32, seed=seed)
        return verdict_attack(G, world.encoder, world.mu, settings=dataclasses.replace(MID, steps=20, K_trained=2),
                              rng=torch.Generator().manual_seed(seed))

    (a, da), (b, db), (c, _) = once(12), once(12), once(13)
    assert a == b and da == db
    assert a != c


@pytest.mark.parametrize("change,match", [
    ({"max_support": 1000}, "eps"),  # the theorem's m unreachable
    ({"eps": 0.3}, "eps"),  # the control would need a gap above the TV of the planted generator
    ({"control_factor": 3.5}, "control_factor"),
    ({"power_factors": (2.0, 1.5)}, "power_factors"),
])
def test_impossible_settings_fail_before_any_computation(change, match):
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(Settings.quick(), **change)


def test_the_verdict_class_must_be_non_linear_and_certified_in_its_own_class():
    quick = Settings.quick()
    with pytest.raises(ValueError, match="attack.hidden"):
        dataclasses.replace(quick, attack=dataclasses.replace(quick.attack, hidden=()))
    with pytest.raises(ValueError, match="certify"):
        dataclasses.replace(quick, certify=dataclasses.replace(quick.certify, weight_norm=4.0))
    with pytest.raises(ValueError, match="init_norm"):
        dataclasses.replace(quick.attack, init_norm=10.0)


def test_theorem_support_uses_the_unit_ball_lipschitz_constant():
    s, beta = 8.0, 2.0
    fam = MLPFamily(in_dim=66, hidden=(8,), K=1, weight_norm=s, bias_bound=beta,
                    generator=torch.Generator().manual_seed(0))
    need = theorem_support(fam, eps=0.08)
    # One hidden layer: B_0 = R = sqrt(66), B_1 = s B_0 + beta; L = sqrt(s^2 (B_0^2 + 1) + B_1^2 + 1) / 4; the
    # class lies in a ball of radius sqrt(8 s^2 + beta^2 + s^2 + beta^2) (||W||_F <= sqrt(rank) s).
    b0 = math.sqrt(66)
    b1 = s * b0 + beta
    L = math.sqrt(s**2 * (b0**2 + 1) + b1**2 + 1) / 4
    assert math.isclose(need["L_theta"], L, rel_tol=1e-12)
    assert math.isclose(need["L_unit_ball"], L * math.sqrt(9 * s**2 + 2 * beta**2), rel_tol=1e-12)
    assert need["p"] == 545 and need["paper"] > 1e6 and need["spec"] > 1e6
