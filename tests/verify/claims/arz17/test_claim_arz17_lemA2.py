"""Claim arz-lemA2 (Arora, Risteski & Zhang 2017, Lemmas A.1 and A.2): the draws, the identity check and its
biased-sampler control, the tail test and its near-boundary control and power, the spread discriminator, the
variance fit, and the run's records. Procedure, not outcome: no assertion on the verdict string."""

import dataclasses
import math

import numpy as np
import pytest
import sympy as sp
import torch

from ganlimits.constructions import (
    ContaminatedTarget,
    GaussianBlockPartition,
    IdealGenerator,
    NoisedTarget,
    NoiseExtractingEncoder,
    NoiseModel,
    digits,
)
from ganlimits.theory._arz_lemA2 import MCDIARMID_VARIANCE_PROXY, SUBGAUSSIAN_TAIL, SUBGAUSSIAN_VARIANCE_CEILING
from ganlimits.theory.arz17 import MCDIARMID_TAIL
from ganlimits.verify import Estimate, MLPFamily, RunConfig, run_claim
from ganlimits.verify.claims._common import (
    NEAR_BOUNDARY,
    NearBoundaryControl,
    PowerCurve,
    check_decision_inputs,
    decide,
)
from ganlimits.verify.claims.arz17._lemA2 import max_variance_member, planted_tail_sd, solve_t, tail_trial
from ganlimits.verify.claims.arz17.lemA2 import Settings, identity_check, objective_draws, tail_test, target_mean
from ganlimits.verify.estimators import phi_log

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


def _brightness(x, code):
    """Mean clean intensity through a steep sigmoid: a discriminator whose phi spreads with the content."""
    return torch.sigmoid(20.0 * (x[:, :31].mean(dim=1).to(torch.float64) - 0.3))


# ---- theory: one definition, checked symbolically -------------------------------------------------------


def test_mcdiarmid_tail_is_the_subgaussian_tail_with_the_lemma_proxy():
    s = sp.Symbol("s", positive=True)
    via_proxy = SUBGAUSSIAN_TAIL.expr.subs(s, sp.sqrt(MCDIARMID_VARIANCE_PROXY.expr))
    assert sp.simplify(via_proxy - MCDIARMID_TAIL.expr) == 0
    Delta, m = sp.symbols("phi_range m", positive=True)
    assert sp.simplify(MCDIARMID_VARIANCE_PROXY.expr - 2 * Delta**2 / m) == 0
    assert sp.simplify(SUBGAUSSIAN_VARIANCE_CEILING.expr - 4 * s**2) == 0


# ---- the draws and Lemma A.1 ---------------------------------------------------------------------------


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
    # Normal-approximation intervals at 95% (R = 400, m = 16, n_mu = 20000, seeds 2, 3) must cover c - 1.
    clean, noise, partition, target, encoder = _setup(k=4)
    f = objective_draws([_normal_cdf_of_code], clean=clean, partition=partition, noise=noise, phi=PHI, R=400,
                        generator=torch.Generator().manual_seed(2))[0]
    mean, var = target_mean([_normal_cdf_of_code], target=target, encoder=encoder, phi=PHI, n=20_000,
                            generator=torch.Generator().manual_seed(3))
    check = identity_check(f, float(mean[0]), float(var[0]), n_mu=20_000, confidence=0.95)
    assert check["agree"], check["difference"]
    for key in ("E_f", "E_mu"):
        assert check[key].ci_low <= CLIP - 1 <= check[key].ci_high, (key, check[key])


def test_lemma_a1_check_catches_images_without_the_code():
    # Negative control: a "generator" that returns the clean memorized image, ignoring the code, against a D that
    # compares the first noise position with the code. R = 200, m = 16, n_mu = 20000, seeds 4, 5: excludes 0.
    clean, noise, partition, target, encoder = _setup(k=4)
    f = objective_draws([_code_mismatch], clean=clean, partition=partition, noise=noise, phi=PHI, R=200,
                        generator=torch.Generator().manual_seed(4), image_of=lambda memory, z: memory)[0]
    mean, var = target_mean([_code_mismatch], target=target, encoder=encoder, phi=PHI, n=20_000,
                            generator=torch.Generator().manual_seed(5))
    assert float(mean[0]) == pytest.approx(math.log(0.5), abs=1e-12)  # on mu the code sits at position 31
    assert not identity_check(f, float(mean[0]), float(var[0]), n_mu=20_000, confidence=0.95)["agree"]


def test_biased_sampler_of_known_bias_is_caught_and_an_unbiased_one_is_not():
    # Memorized samples replaced by one fixed image at rate 0.3: E f moves by exactly 0.3 (h(x0) - E_mu) for any D.
    # With the brightness D (R = 400, m = 16, n_mu = 20000, seeds 6-9) the bias is many half-widths: caught; the
    # same check on the unbiased sampler agrees (95%).
    clean, noise, partition, target, encoder = _setup(k=4)
    image = torch.zeros(64, dtype=torch.float64)
    mean, var = target_mean([_brightness], target=target, encoder=encoder, phi=PHI, n=20_000,
                            generator=torch.Generator().manual_seed(6))
    for rate, caught in ((0.3, True), (0.0, False)):
        f = objective_draws([_brightness], clean=ContaminatedTarget(clean, rate=rate, image=image),
                            partition=partition, noise=noise, phi=PHI, R=400,
                            generator=torch.Generator().manual_seed(7))[0]
        check = identity_check(f, float(mean[0]), float(var[0]), n_mu=20_000, confidence=0.95)
        assert check["agree"] is not caught, (rate, check["difference"])
    z = torch.randn(20_000, 2, generator=torch.Generator().manual_seed(8), dtype=torch.float64)
    h0 = float(PHI(_brightness(noise.noised(image.expand(20_000, -1), z), z)).mean())
    assert h0 == pytest.approx(math.log(CLIP), abs=1e-6)  # a black image: D ~ 0, phi = log c


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


# ---- the tail test, its control and its power -------------------------------------------------------------


def test_tail_test_counts_are_exact_on_a_small_case():
    f = torch.tensor([0.0, 0.1, -0.2, 0.3, -0.05])
    out = tail_test(f, centre=0.0, centre_half_width=0.05, t_grid=[0.0, 0.1, 0.2], bound=[1.0, 1.0, 1.0],
                    confidence_each=0.95)
    # |f| >= t + 0.05: t = 0 -> {0.1, 0.2, 0.3, 0.05} = 4; t = 0.1 -> {0.2, 0.3} = 2; t = 0.2 -> {0.3} = 1.
    # |f| >= t - 0.05: t = 0 -> all 5; t = 0.1 -> {0.1, 0.2, 0.3, 0.05} = 4; t = 0.2 -> {0.2, 0.3} = 2.
    assert out["count"].tolist() == [4, 2, 1]
    assert out["count_upper"].tolist() == [5, 4, 2]
    assert out["raw_tail"].tolist() == [1.0, 0.6, 0.4]
    assert not out["violated"].any() and all(e.sides == 1 for e in out["estimates"])
    from ganlimits.verify import clopper_pearson

    for e, c, cu in zip(out["estimates"], [4, 2, 1], [5, 4, 2], strict=True):
        assert e.ci_low == clopper_pearson(c, 5, confidence=0.95, sides=1).ci_low
        assert e.ci_high == clopper_pearson(cu, 5, confidence=0.95, sides=1).ci_high


def test_tail_limits_hold_whatever_the_centre_error_within_h():
    """Coverage of both one-sided limits of the tail at the stated level when the centre is off by h (the worst case
    the centring interval allows). f ~ N(0, 1), t = 1.6 (true tail 2 Phi(-1.6) = 0.1096), h = 0.2, centre = +h.
    Statistical test: R = 400 draws per repeat, 300 repeats, per-limit level 95% (alpha = 0.05), numpy seed 31;
    misses of each limit must stay <= the 0.999 quantile of Binomial(300, 0.05). Negative control: the upper limit
    taken from the +h count (the interval before this fix) misses far more often than that."""
    from scipy import stats as st

    rng = np.random.default_rng(31)
    t, h, truth = 1.6, 0.2, float(2 * st.norm.sf(1.6))
    low_miss = high_miss = wrong_miss = 0
    for _ in range(300):
        f = torch.from_numpy(rng.normal(size=400))
        out = tail_test(f, centre=h, centre_half_width=h, t_grid=[t], bound=[1.0], confidence_each=0.95)
        est = out["estimates"][0]
        low_miss += est.ci_low > truth
        high_miss += est.ci_high < truth
        wrong_miss += clopper_pearson_high(int(out["count"][0]), 400) < truth
    threshold = int(st.binom.ppf(0.999, 300, 0.05))
    assert low_miss <= threshold and high_miss <= threshold, (low_miss, high_miss, threshold)
    assert wrong_miss > 3 * threshold, wrong_miss


def clopper_pearson_high(count: int, n: int) -> float:
    from ganlimits.verify import clopper_pearson

    return clopper_pearson(count, n, confidence=0.95, sides=1).ci_high


def test_planted_tail_law_is_exact_and_its_power_grows_with_the_tail():
    # Pr[|N(0, s^2)| >= t] = tail for s = planted_tail_sd(t, tail); then the verdict's count flags tails 3x the
    # bound far more often than 1.25x (200 repeats each, R = 400, per-test level 1 - 0.04/75; seeds 0..399).
    from scipy import stats

    sd = planted_tail_sd(t=0.02, tail=0.1)
    assert 2 * stats.norm.sf(0.02 / sd) == pytest.approx(0.1, rel=1e-12)
    cfg = {"R": 400, "t95": 0.02, "h": 0.0, "confidence_each": 1 - 0.04 / 75, "bound": 0.05}
    rate = {f: sum(tail_trial({**cfg, "sd": planted_tail_sd(t=0.02, tail=f * 0.05)}, seed)["detected"]
                   for seed in range(200)) / 200 for f in (1.25, 3.0)}
    assert rate[3.0] >= 0.95 and rate[1.25] <= 0.2, rate


def test_collapsed_memory_breaks_concentration_and_is_flagged():
    # Negative control for the refutation path: every replicate's m = 16 memorized samples are ONE image repeated
    # (support 1, arguments no longer independent). With D = 1[mean clean intensity > 0.3145] (the median), f is
    # log(0.1) or 0 per replicate, so Pr[|f - E f| >= 1] is about 1, far above McDiarmid's 0.099 at t = 1.
    # R = 200, seed 7, one-sided CP at level 1 - 0.04/2.
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
    bound = np.asarray(MCDIARMID_TAIL(m=m, t=grid, phi_range=PHI.value_range / 2))
    out = tail_test(f, centre=float(f.mean()), centre_half_width=0.0, t_grid=grid, bound=bound,
                    confidence_each=1 - 0.04 / 2)
    assert out["violated"].any(), (out["cp_low"], bound)


def test_solve_t_inverts_mcdiarmid():
    t = solve_t(m=64, phi_range=1.15, level=0.05)
    assert float(MCDIARMID_TAIL(m=64, t=t, phi_range=1.15)) == pytest.approx(0.05, rel=1e-10)


# ---- the spread discriminator ------------------------------------------------------------------------------


def test_max_variance_member_spreads_far_more_than_a_random_member():
    # Same class (hidden (64, 64), spectral norms <= 1); 60 steps on 2000 draws of mu (seed 10); variance of
    # phi(D(x, E(x))) on 5000 fresh draws (seed 11).
    _, _, _, target, encoder = _setup()
    kw = {"in_dim": 66, "hidden": (64, 64), "weight_norm": 1.0, "bias_bound": 1.0, "dtype": torch.float64}
    D, info = max_variance_member(kw, target=target, encoder=encoder, phi=PHI, K=2, steps=60, lr=0.01, n=2000,
                                  generator=torch.Generator().manual_seed(10))
    assert info["in_class"]
    rnd = MLPFamily(**kw, K=1, generator=torch.Generator().manual_seed(12)).member(0)
    x, _ = target.sample(5000, generator=torch.Generator().manual_seed(11))
    code = encoder(x)
    assert float(PHI(D(x, code)).var()) > 100 * float(PHI(rnd(x, code)).var())


# ---- the claim ---------------------------------------------------------------------------------------------


def _small() -> Settings:
    return dataclasses.replace(Settings.quick(), n_mu=50_000, var_k=(2, 4, 8, 16), R_var=100,
                               power_factors=(1.5, 3.0), power_repeats=20)


@pytest.fixture(scope="module")
def small_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("arz-lemA2")
    return run_claim("arz-lemA2", RunConfig(quick=True, seed=0, out_dir=out, progress=False), settings=_small())


def test_the_run_records_the_controls_and_the_spread(small_result):
    r, m = small_result, small_result.measurements
    assert m["generator_matches_noised"] is True
    assert m["trained_member"]["in_class"] and m["max_variance_member"]["in_class"]
    # The spread discriminator's f really spreads: far more than the random member's.
    assert m["max-variance"]["std_f"] > 10 * m["random"]["std_f"]
    ctrl = m["near_boundary_control"]
    assert ctrl["ratio_interval"] == [_small().control_factor] * 2 and ctrl["truth_low"] == ctrl["truth_high"]
    assert NEAR_BOUNDARY[0] <= _small().control_factor <= NEAR_BOUNDARY[1] and ctrl["measured"]["n"] == _small().R
    assert r.control_caught == (r.control.ci_low > r.bound["value"])
    # The control and the curve serve the measurement (the tail at t95, its per-limit level, R draws), and the
    # verdict follows the rule from the recorded numbers unless a refutation or the identity check overrides it.
    control, curve = _rebuild(r)
    check_decision_inputs(r.measured, r.bound["value"], control=control, resolution=curve, direction="upper")
    assert r.measured.confidence == r.resolution["confidence"] == r.measurements["tail_confidence_each"]
    for bad in (dict(resolution=dataclasses.replace(curve, confidence=0.95)),
                dict(resolution=dataclasses.replace(curve, n=curve.n + 1)),
                dict(control=dataclasses.replace(control, measured=dataclasses.replace(control.measured, sides=2)))):
        with pytest.raises(ValueError):
            decide(r.measured, r.bound["value"], direction="upper", **(dict(control=control, resolution=curve) | bad))
    if not any(any(m[nm]["violated"]) for nm in ("random", "trained", "max-variance")) and \
            m["identity_control"]["caught"]:
        assert r.verdict == decide(r.measured, r.bound["value"], control=control, resolution=curve)[0]
    # At this R the tail test catches a tail twice McDiarmid's (seed 0), and the identity check the biased sampler.
    assert r.control_caught and m["identity_control"]["caught"]
    assert m["identity_control"]["bias"]["ci_low"] * m["identity_control"]["bias"]["ci_high"] > 0  # known sign
    assert len(m["variance_vs_m"]["m"]) >= 4 and m["variance_vs_m"]["slope"]["n"] == 4 * _small().R_var
    assert r.resolution["n"] == _small().R and r.verdict_reason
    assert r.figures == ["arz-lemA2_tail.png", "arz-lemA2_power.png", "arz-lemA2_variance.png"]


def _rebuild(r) -> tuple[NearBoundaryControl, PowerCurve]:
    c = r.measurements["near_boundary_control"]
    control = NearBoundaryControl(**{k: c[k] for k in ("name", "truth_low", "truth_high", "lower_certificate",
                                                       "upper_certificate", "bound", "baseline", "direction")},
                                  measured=Estimate(**c["measured"]))
    keep = ("strengths", "detected", "repeats", "n", "bound", "baseline", "label", "confidence", "direction")
    res = {k: v for k, v in r.resolution.items() if k in keep}
    return control, PowerCurve(**{**res, "strengths": tuple(res["strengths"]), "detected": tuple(res["detected"])})


@pytest.mark.parametrize("change,match", [
    ({"R": 30}, "R"),  # the near-boundary control could not be caught at this many draws
    ({"var_k": (4, 8, 16)}, "var_k"),
    ({"power_factors": (1.5, 1.2)}, "power_factors"),
    ({"control_factor": 4.0}, "control_factor"),
])
def test_impossible_settings_fail_before_any_computation(change, match):
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(Settings.quick(), **change)
