"""The settled-horizon rule, training to a settled horizon, the regime gate and the planted generators that test it:
the rule on constructed snapshots, a stopped run is the prefix of the run to its cap, the reference rows against
analytic values, the gate on planted runs that fail the way trained runs fail."""

import dataclasses
import math

import pytest
import torch

from ganlimits.constructions import (
    DiffuseGenerator,
    OnModesGenerator,
    OutOfBoxGenerator,
    SamplerMixture,
    grid,
    mixture_box,
    ring,
)
from ganlimits.verify import clopper_pearson
from ganlimits.verify.lab import (
    LabConfig,
    Snapshot,
    build_method,
    lab_target,
    score_samples,
    train_gan,
    train_until_settled,
)
from ganlimits.verify.lab.regime import (
    REGIME_MARGIN,
    SettleRule,
    assess_horizon,
    comparison_gate,
    gate_controls,
    outside_box_share,
    run_regime,
    target_regime,
)
from ganlimits.verify.runs import Streams

TINY = LabConfig(width=16, batch_size=32)


# ---- the settle rule on constructed snapshots --------------------------------------------------------------------


def _snaps(values, every=250):
    return [(i * every, m, hq) for i, (m, hq) in enumerate(values)]


def test_the_rule_compares_window_means_and_tolerates_oscillation():
    """A share oscillating 0.47 / 0.61 around a flat mean settles; a steady climb of 8 points per window does not."""
    rule = SettleRule(window=4, hq_tol=0.05, persist=2)
    flat = _snaps([(15, 0.47), (16, 0.61)] * 5)
    assert rule.holds(flat[:9], n_modes=25) and rule.snapshots_needed == 9
    climb = _snaps([(15, 0.30 + 0.02 * i) for i in range(10)])
    assert not rule.holds(climb, n_modes=25)
    assert not rule.holds(flat[:8], n_modes=25)  # 2 W + persist - 1 snapshots are needed


def test_one_lucky_window_does_not_settle_a_rising_run():
    """A share rising about 6 points per snapshot whose two windows agree at one snapshot only (a dip): persist = 1
    stops there, persist = 2 keeps training."""
    snaps = _snaps([(15, v) for v in (0.02, 0.08, 0.14, 0.20, 0.30, 0.24, 0.26, 0.40)])
    assert SettleRule(window=2, hq_tol=0.05, persist=1).holds(snaps[:7], n_modes=25)
    assert not any(SettleRule(window=2, hq_tol=0.05, persist=2).holds(snaps[:j], n_modes=25) for j in range(1, 9))


def test_the_floor_keeps_a_diffuse_plateau_unsettled():
    """GAN on the grid sits flat at about 1.7% for thousands of steps: settled without a floor, not with one."""
    plateau = _snaps([(18, 0.017), (17, 0.016)] * 6)
    assert SettleRule().holds(plateau, n_modes=25)
    assert not SettleRule(hq_floor=0.12).holds(plateau, n_modes=25)


def test_mode_tolerance_defaults_to_a_tenth_of_the_components():
    rule = SettleRule(window=1, persist=1)
    assert rule.mode_tolerance(8) == 1 and rule.mode_tolerance(25) == 2.5
    assert rule.holds(_snaps([(20, 0.5), (22, 0.5)]), n_modes=25)
    assert not rule.holds(_snaps([(20, 0.5), (23, 0.5)]), n_modes=25)
    assert not SettleRule(window=1, modes_tol=1, persist=1).holds(_snaps([(20, 0.5), (22, 0.5)]), n_modes=25)
    assert not SettleRule(window=1, min_steps=300, persist=1).holds(_snaps([(20, 0.5), (20, 0.5)]), n_modes=25)


def test_settled_step_is_the_start_of_the_final_settled_stretch():
    rule = SettleRule(window=1, hq_tol=0.05, persist=1)
    values = [(8, 0.5), (8, 0.5), (8, 0.9), (8, 0.9), (8, 0.9)]  # holds at 250, breaks at 500, holds from 750
    h = assess_horizon(_snaps(values), rule=rule, n_modes=8, cap=1000)
    assert (h.settled, h.settled_step, h.steps) == (True, 750, 1000)
    h2 = assess_horizon(_snaps(values[:3]), rule=rule, n_modes=8, cap=1000)
    assert (h2.settled, h2.settled_step) == (False, None) and "not settled" in h2.reason()
    assert h.to_dict()["modes_tol"] == 1.0 and "settled when" in h.to_dict()["rule_text"]


@pytest.mark.parametrize(("field", "value"), [("window", 0), ("hq_tol", 1.5), ("hq_floor", 1.0), ("modes_tol", -1),
                                              ("min_steps", 2.5), ("persist", 0)])
def test_bad_rule_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        SettleRule(**{field: value})


# ---- training to a settled horizon -------------------------------------------------------------------------------


def test_a_settled_run_is_the_prefix_of_the_run_to_its_cap():
    """A score that reports a flat 50% share settles at snapshot 2W - 1; the trained generator is then exactly the
    generator of a plain 3-step-per-snapshot run of that many steps (constant schedule)."""
    target = lab_target("ring")
    streams = Streams(7)
    method = build_method("gan", data_dim=2, config=TINY, generator=streams.torch("init"))

    def score(step, losses):
        real = score_samples(method.G(torch.randn(50, 16, generator=streams.torch("eval", step))).detach(), target,
                             step, None, losses)[1]
        return Snapshot(step, 5, 0.5, 0.0, math.nan, math.nan), real

    run = train_until_settled(method, target, cap=60, eval_every=3, streams=streams, config=TINY,
                              device=torch.device("cpu"), score=score, rule=SettleRule(window=2, persist=1))
    assert run.horizon.settled and run.horizon.stopped_early and run.horizon.steps == 9 == run.snapshots[-1].step
    plain = train_gan("gan", target, steps=9, seed=7, config=TINY, eval_every=3, n_eval=50)
    z = torch.randn(20, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.equal(method.G(z).double(), plain.generator(z))


def test_train_gan_records_its_horizon_and_refuses_a_decaying_schedule_for_a_settled_one():
    r = train_gan("gan", "grid", steps=20, seed=1, config=TINY, eval_every=5, n_eval=200,
                  settle=SettleRule(window=1, hq_tol=1.0, modes_tol=25, hq_floor=0.0, persist=1))
    d = r.to_dict()
    assert d["horizon"]["cap"] == 20 and d["settled"] == r.horizon.settled and "settled_step" in d
    assert r.steps == r.horizon.steps <= 20
    with pytest.raises(ValueError, match="lr_schedule"):
        train_gan("gan", "grid", steps=20, seed=1, config=dataclasses.replace(TINY, lr_schedule="linear"),
                  settle=SettleRule())
    with pytest.raises(ValueError, match="settle"):
        train_gan("gan", "grid", steps=20, seed=1, config=TINY, settle={"window": 2})


# ---- the reference rows ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["ring", "grid", "mixture_1200d"])
def test_the_targets_own_draws_score_every_component(name):
    r = target_regime(lab_target(name), rng=0, repeats=2)
    assert r.target_scores_every_component and r.target_modes == (r.n_components,) * 2
    assert min(r.target_high_quality) > 0.97  # the calibrated rule's coverage is 98.9%
    if name == "mixture_1200d":
        assert r.published["target_modes"] == [0, 0] and r.published["threshold"] == 10.0
        assert r.diffuse_high_quality == (0.0, 0.0)
    else:
        assert r.published is None  # both rules are 3 std in 2-D


def test_diffuse_share_on_the_grid_is_the_area_ratio():
    """Uniform over [-5, 5]^2: the share within 0.15 of one of 25 means is 25 pi 0.15^2 / 100 = 1.767% exactly;
    20 repeats of 2,500 draws (seed 1): its 99.9% Clopper-Pearson interval contains it, and the floor is the
    one-sided upper limit plus the margin."""
    r = target_regime(grid(), rng=1, repeats=20)
    k = round(sum(r.diffuse_high_quality) * 2500)
    truth = 25 * math.pi * 0.15 ** 2 / 100
    ci = clopper_pearson(k, 50_000, confidence=0.999)
    assert ci.ci_low <= truth <= ci.ci_high
    assert r.hq_floor == pytest.approx(clopper_pearson(k, 50_000, sides=1).ci_high + REGIME_MARGIN, rel=1e-12)
    assert 15 <= sum(r.diffuse_modes) / 20 <= 23  # diffuse noise "captures" most modes


# ---- runs through the gate ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grid_regime():
    return target_regime(grid(), rng=2, repeats=3)


def test_a_run_is_in_regime_only_when_settled_and_clearly_above_diffuse(grid_regime):
    settled = assess_horizon(_snaps([(20, 0.6)] * 12), rule=SettleRule(), n_modes=25, cap=2750)
    moving = assess_horizon(_snaps([(20, 0.08 * i) for i in range(12)]), rule=SettleRule(), n_modes=25, cap=2750)
    good = run_regime({"high_quality": 0.6, "n": 2500}, settled, grid_regime)
    assert good.in_regime and "in regime" in good.reason
    unsettled = run_regime({"high_quality": 0.6, "n": 2500}, moving, grid_regime)
    assert not unsettled.in_regime and "not settled" in unsettled.reason
    floor = grid_regime.hq_floor
    near = run_regime({"high_quality": floor + 0.005, "n": 2500}, settled, grid_regime)
    assert not near.in_regime and "not clearly above" in near.reason  # its lower limit is below the floor


def test_the_comparison_gate_names_what_failed(grid_regime):
    h = assess_horizon(_snaps([(20, 0.7)] * 12), rule=SettleRule(), n_modes=25, cap=2750)
    ok = run_regime({"high_quality": 0.7, "n": 2500}, h, grid_regime)
    weak = run_regime({"high_quality": 0.3, "n": 2500}, h, grid_regime)
    out = run_regime({"high_quality": 0.01, "n": 2500}, h, grid_regime)
    decided, reason = comparison_gate({"gan": [ok] * 3, "veegan": [ok] * 3}, regime=grid_regime, published_hq=0.6)
    assert decided and "every run in regime" in reason
    decided, reason = comparison_gate({"gan": [weak] * 3, "veegan": [ok] * 3}, regime=grid_regime, published_hq=0.6)
    assert not decided and "published regime" in reason
    decided, reason = comparison_gate({"gan": [ok] * 3, "veegan": [ok, out, ok]}, regime=grid_regime,
                                      published_hq=0.6)
    assert not decided and "runs out of regime: veegan 1/3" in reason
    broken = dataclasses.replace(grid_regime, target_modes=(25, 24, 25))
    decided, reason = comparison_gate({"gan": [ok] * 3}, regime=broken, published_hq=0.6)
    assert not decided and "own draws" in reason
    with pytest.raises(ValueError, match="baseline"):
        comparison_gate({"veegan": [ok]}, regime=grid_regime, published_hq=0.6)


@pytest.mark.parametrize(("name", "cap", "window", "n_eval"), [("ring", 3000, 4, 2500), ("grid", 3000, 4, 2500),
                                                            ("mixture_1200d", 1000, 2, 1000)])
def test_the_gate_sorts_planted_runs_that_fail_like_real_ones(name, cap, window, n_eval):
    """Planted runs scored every 250 steps, the floor as the rule's floor (seed 3): sharp and half-diffuse runs in
    regime; diffuse, out-of-box, 5% on the modes and still sharpening at the cap out (1200-D: fewer, smaller
    snapshots to stay fast; the rule needs 2 W snapshots before the cap)."""
    t = lab_target(name)
    regime = target_regime(t, rng=3, repeats=2, n_eval=n_eval)
    rule = SettleRule(window=window, hq_floor=regime.hq_floor, persist=1)
    controls = gate_controls(t, regime, rule, cap=cap, eval_every=250, rng=3)
    assert all(c["ok"] for c in controls.values()), controls
    assert "not settled" in controls["still-sharpening"]["reason"]


# ---- the planted samplers ----------------------------------------------------------------------------------------


def test_planted_samplers_land_where_they_are_told():
    t = grid()
    g = torch.Generator().manual_seed(5)
    low, high = mixture_box(t)
    assert low.tolist() == [-5.0, -5.0] and high.tolist() == [5.0, 5.0]
    assert mixture_box(ring(std=0.01))[1][0] == pytest.approx(1 + math.sin(math.pi / 8), rel=1e-12)
    on = OnModesGenerator(t, [0, 7, 24]).sample(600, generator=g)[0]
    assert {tuple(r) for r in on.tolist()} == {tuple(t.means[i].tolist()) for i in (0, 7, 24)}
    assert outside_box_share(OutOfBoxGenerator(t).sample(1000, generator=g)[0], t) == 1.0
    assert outside_box_share(DiffuseGenerator(t).sample(1000, generator=g)[0], t) == 0.0
    with pytest.raises(ValueError, match="modes"):
        OnModesGenerator(t, [0, 0])
    with pytest.raises(ValueError, match="reach"):
        OutOfBoxGenerator(t, reach=1.0)


def test_sampler_mixture_draws_each_part_at_its_rate():
    """30% on the modes, 70% outside the box, 20,000 draws (seed 6): the outside share's 99.9% Clopper-Pearson
    interval contains 0.7."""
    t = grid()
    mix = SamplerMixture([OnModesGenerator(t), OutOfBoxGenerator(t)], [3, 7])
    x = mix.sample(20_000, generator=torch.Generator().manual_seed(6))[0]
    k = round(outside_box_share(x, t) * 20_000)
    ci = clopper_pearson(k, 20_000, confidence=0.999)
    assert ci.ci_low <= 0.7 <= ci.ci_high
    with pytest.raises(ValueError, match="rates"):
        SamplerMixture([OnModesGenerator(t)], [-1])


# ---- the lab's VEEGAN stays in the data --------------------------------------------------------------------------


@pytest.mark.slow  # 3,000 VEEGAN steps: about 10-15 s of CPU
def test_veegan_trained_3000_steps_on_the_grid_keeps_its_samples_in_the_data_box():
    """VEEGAN with its stochastic reconstructor (Algorithm 1), the lab's default setup, 3,000 steps on the grid (seed
    0): at least 95% of 2,500 samples inside the data's box [-5, 5]^2. A deterministic reconstructor put most of
    them outside (the joint discriminator separates (F(x), x) from (z, G(z)) perfectly when d_code > d)."""
    r = train_gan("veegan", "grid", steps=3000, seed=0, eval_every=3000)
    x, _ = r.generator.sample(2500, generator=torch.Generator().manual_seed(0))
    assert outside_box_share(x, grid()) <= 0.05
