"""Claim arz-trained-bigan (Arora, Risteski & Zhang 2017, Theorem 1, on trained BiGAN pairs): the planted cases of
its two questions (the leaking encoder's true rate, the collapse family's total variation), each caught by its own
attack at the verdict's n and the absence of a violation not flagged; the regime rule on the digits (the target
scores every class, noise none); the verdict rule on constructed inputs (nothing decided on a pair out of regime, a
refutation only from the witness, each question decided with its own control); determinism; the settings' checks.
Procedure, not outcome: no assertion on the verdict string of a run on real data."""

import dataclasses
import math

import numpy as np
import pytest
import torch
from scipy import stats

from ganlimits.constructions import FreshGenerator, LabelLeakingEncoder, class_probabilities, digits
from ganlimits.verify import Estimate
from ganlimits.verify.claims._common import NearBoundaryControl, PowerCurve, decide
from ganlimits.verify.claims.arz17 import trained_bigan as atb
from ganlimits.verify.claims.arz17._trained_bigan import (
    CollapsedImageGenerator,
    DigitsScorer,
    build_world,
    gap_trial,
    leak_trial,
    pair_trial,
    regime_reference,
    train_pair,
)
from ganlimits.verify.estimators import clopper_pearson, hoeffding_interval
from ganlimits.verify.lab import LabConfig
from ganlimits.verify.lab.regime import SettleRule

CHANCE = float(class_probabilities(digits()).max())
Settings = atb.Settings


def _world():
    return build_world({"target": "digits", "code_dim": 2, "jitter": 0.05})


def test_the_leaking_encoder_leaks_at_its_stated_rate():
    # Exact binomial test (two-sided, alpha = 1e-3) that the share of leaked codes is rho = 0.3, n = 20,000, seed 0:
    # a leaked code differs from the noise coordinates of x, an unleaked one equals them bit for bit.
    target, _, w = _world()
    rho, n = 0.3, 20_000
    g = torch.Generator().manual_seed(0)
    leaky = LabelLeakingEncoder(w.noise, rate=rho, n_classes=10, generator=torch.Generator().manual_seed(1))
    x, y = target.sample(n, generator=g)
    code = leaky(x, y)
    leaked = (code != w.noise.extract(x)).any(dim=1)
    k = int(leaked.sum())
    assert stats.binomtest(k, n, rho).pvalue > 1e-3, (k, n, rho)
    # the Bayes rule (nearest centre when leaked, else the majority class) reaches rho + (1 - rho) max_c pi_c, the
    # codes control's certified truth; Clopper-Pearson at 99.9%, n = 20,000 fresh draws, seed 2
    g2 = torch.Generator().manual_seed(2)
    x, y = target.sample(n, generator=g2)
    code = leaky(x, y)
    far = torch.linalg.vector_norm(code[:, :2], dim=1) > 10
    nearest = torch.cdist(code[:, :2], leaky.centres).argmin(dim=1)
    majority = int(np.argmax(class_probabilities(digits())))
    guess = torch.where(far, nearest, torch.full_like(nearest, majority))
    truth = rho + (1 - rho) * CHANCE
    ci = clopper_pearson(int((guess == y).sum()), n, confidence=0.999)
    assert ci.ci_low <= truth <= ci.ci_high, (ci, truth)


def test_the_probe_catches_the_codes_control_at_the_full_n_and_not_the_absence_of_a_leak():
    # leak_trial = the verdict's probe (full n_train = n_test = 10,000, one-sided 95% Clopper-Pearson) against the
    # leaking encoder at the full setting's control (2.2 margins of 0.02 above chance): caught (lower limit above
    # chance + margin), seeds 11 and 13; no leak: not detected against chance + margin, seed 12.
    s = Settings.full()
    cfg = {"target": "digits", "code_dim": 2, "jitter": 0.05, "n_train": s.n_train, "n_test": s.n_test,
           "confidence": 0.95, "bound": s.probe_bound}
    rate = s.control_factor * s.probe_margin / (1 - CHANCE)
    assert all(leak_trial({**cfg, "rate": rate}, seed)["detected"] for seed in (11, 13))
    assert not leak_trial({**cfg, "rate": 0.0}, 12)["detected"]


def test_the_collapse_family_has_total_variation_exactly_its_rate():
    """The gap question's upper certificate: the oracle discriminator "the clean part of x is the collapsed image"
    sees a gap of exactly rho on the perfect generator mixed at rate rho (its real side never matches, its fake side
    matches exactly when the planted coin fell); n = 20,000 pairs per side (seed 3), two-sample Hoeffding at 99.9%
    contains rho = 0.2. The perfect generator's own joint law is the real one: the oracle's gap on it is 0."""
    from ganlimits.verify.claims.arz17._trained_bigan import collapse_world

    w, base, planted, mix = collapse_world({"code_dim": 2, "jitter": 0.05, "rate": 0.2, "image_seed": 9}, 3)
    clean = w.noise.clean_positions

    def oracle(x):
        return (x[:, clean] == planted.image[clean]).all(dim=1).double()

    g = torch.Generator().manual_seed(3)
    n = 20_000
    x_real, _ = w.mu.sample(n, generator=g)
    z = torch.randn(n, 2, generator=g, dtype=torch.float64)
    gap = float(oracle(mix(z)).mean() - oracle(x_real).mean())
    ci = hoeffding_interval(gap, n=n / 2, value_range=1.0, confidence=0.999)
    assert ci.ci_low <= 0.2 <= ci.ci_high and float(oracle(x_real).sum()) == 0.0
    assert float(oracle(base(z)).sum()) == 0.0 and isinstance(planted, CollapsedImageGenerator)


def test_the_verdict_attack_catches_the_gap_control_and_not_the_perfect_generator():
    """gap_trial at the quick setting's attack (n_test = 3,000): the collapse family at the control's rate 0.2 (2.5
    eps) is caught (lower limit above eps = 0.08), seed 21; at rate 0 (the perfect generator, true gap 0) it is not,
    seed 22."""
    s = Settings.quick()
    cfg = {"code_dim": 2, "jitter": 0.05, "eps": s.eps, "attack": dataclasses.asdict(s.attack), "image_seed": 9}
    caught = gap_trial({**cfg, "rate": s.gap_control_rate}, 21)
    assert caught["detected"] and caught["gap"]["n"] == s.attack.n_test, caught
    assert not gap_trial({**cfg, "rate": 0.0}, 22)["detected"]


def test_the_digits_rule_scores_the_target_fully_and_noise_not_at_all():
    """DigitsScorer on 2,000 draws (seed 4): the target's own draws score all 10 classes with at least 95% of them
    high quality (a draw lies ~0.39 from its digit, the threshold is the digits' 0.9 nearest-neighbour quantile);
    uniform noise over the pixel box scores none; a generator collapsed onto one image scores exactly one class."""
    target, _, w = _world()
    score = DigitsScorer(w)
    g = torch.Generator().manual_seed(4)
    own = score(target.sample(2000, generator=g)[0])
    assert own.modes == 10 and own.high_quality >= 0.95
    noise = score(torch.rand(2000, 64, generator=g, dtype=torch.float64))
    assert noise.modes == 0 and noise.high_quality == 0.0
    one = CollapsedImageGenerator(w.clean, w.noise, generator=torch.Generator().manual_seed(5))
    collapsed = score(one(torch.randn(500, 2, generator=g, dtype=torch.float64)))
    assert collapsed.modes == 1 and collapsed.high_quality == 1.0
    ref = regime_reference({"target": "digits", "code_dim": 2, "jitter": 0.05, "n_eval": 500}, 6, repeats=2)
    assert ref.target_scores_every_component and ref.hq_floor < min(ref.target_high_quality)


def _tiny_cfg(target: str) -> dict:
    attack = {"hidden": (4,), "weight_norm": 8.0, "bias_bound": 2.0, "K_random": 2, "K_trained": 1, "n_train": 300,
              "n_test": 600, "steps": 5, "lr": 0.02, "batch_size": 100, "init_norm": 2.0, "confidence": 0.95}
    return {"target": target, "code_dim": 2, "jitter": 0.05, "n_train": 300, "n_test": 300, "confidence": 0.95,
            "n_recon": 200, "bootstrap": 100, "cap": 20, "eval_every": 10, "n_eval": 200,
            "settle": SettleRule(window=1).to_dict(),
            "lab": dataclasses.asdict(LabConfig(noise_dim=2, width=16, depth=1, batch_size=32)),
            "attack": attack, "strong": {**attack, "hidden": (4, 4)}, "reference_n": 256, "n_sizes": 3,
            "pilot_repeats": 2, "repeats": 4, "max_size": 64, "calibration_draws": 100}


@pytest.mark.parametrize("target", ["digits", "grid"])
def test_a_trial_is_deterministic_and_records_its_horizon(target):
    a = pair_trial(_tiny_cfg(target), 5)
    b = pair_trial(_tiny_cfg(target), 5)
    for r in (a, b):
        r.pop("train_s"), r.pop("elapsed_s")
    assert a == b
    assert a["probe"]["codes"]["accuracy"]["n"] == 300 and a["gap"]["sides"] == 1
    assert a["horizon"]["cap"] == 20 and a["snapshots"][0]["step"] == 0 and isinstance(a["settled"], bool)


def test_training_is_bit_identical_for_a_seed_and_a_frozen_generator_does_not_move():
    target, _, w = _world()
    cfg = LabConfig(width=16, depth=1, noise_dim=2, batch_size=32)
    score, rule = DigitsScorer(w), SettleRule(window=1)
    z = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))

    def train(config, cap):
        return train_pair(target, cap=cap, seed=3, config=config, score=score, n_modes=10, eval_every=5, n_eval=50,
                          rule=rule)

    G1, E1, _ = train(cfg, 15)
    G2, E2, _ = train(cfg, 15)
    assert torch.equal(G1(z), G2(z)) and torch.equal(E1(G1(z)), E2(G2(z)))
    frozen = dataclasses.replace(cfg, lr_g=0.0)
    G0, _, _ = train(frozen, 1)
    Gs, _, _ = train(frozen, 15)
    assert torch.equal(G0(z), Gs(z))  # lr_g = 0: the generator keeps its initial weights
    assert not torch.equal(G1(z), Gs(z))


# ---- the verdict rule on constructed inputs -----------------------------------------------------------------------


def _gap_est(hi, n=3000):
    return {"estimate": hi - 0.02, "ci_low": max(0.0, hi - 0.04), "ci_high": hi, "confidence": 0.95, "n": n,
            "sides": 1}


def _acc(hi, n=2000):
    return {"estimate": hi - 0.01, "ci_low": hi - 0.02, "ci_high": hi, "confidence": 0.95, "n": n, "sides": 1}


def _questions(s, *, gap_caught=True, repeats=14):
    e = lambda d: Estimate(**d)  # noqa: E731
    gap_control = NearBoundaryControl("collapse", truth_low=0.19, truth_high=0.2, lower_certificate="certifier",
                                      upper_certificate="TV", bound=s.eps,
                                      measured=e(_gap_est(0.23 if gap_caught else 0.1)))
    gap_curve = PowerCurve(strengths=(0.12, 0.16, 0.2), detected=(5, repeats, repeats), repeats=repeats, n=3000,
                           bound=s.eps)
    bound = s.probe_bound
    value = CHANCE + 2.2 * s.probe_margin
    codes_control = NearBoundaryControl.exact("leak", value, truth="Bayes", bound=bound, baseline=CHANCE,
                                              measured=e(_acc(value + 0.01)))
    codes_curve = PowerCurve(strengths=(CHANCE + 0.03, CHANCE + 0.05), detected=(3, repeats), repeats=repeats,
                             n=2000, bound=bound, baseline=CHANCE)

    def gap_q(est):
        return decide(est, s.eps, control=gap_control, resolution=gap_curve)

    def codes_q(est):
        return decide(est, bound, control=codes_control, resolution=codes_curve)

    return gap_q, codes_q, (gap_control, gap_curve, codes_control, codes_curve)


def _case(s, *, in_regime=(True,), pair_gap=0.05, pair_acc=None, witness_acc=None, witness_gap=0.05):
    pair_acc = CHANCE - 0.01 if pair_acc is None else pair_acc
    witness_acc = CHANCE - 0.01 if witness_acc is None else witness_acc
    rows = [{"gap": _gap_est(pair_gap), "gap_K": 10, "probe": {"codes": {"accuracy": _acc(pair_acc)}}}
            for _ in in_regime]
    regime = {"digits": {"runs": {"bigan": [{"in_regime": ok, "reason": "in regime" if ok else "out of regime: not "
                                             "settled by step 300 (cap 300)"} for ok in in_regime]}}}
    witness = {"grid": [{"m": 4096, "gap": _gap_est(witness_gap)}], "probe": {"accuracy": _acc(witness_acc)}}
    return rows, regime, witness


def test_the_verdict_rule_on_constructed_cases():
    s = Settings.quick()
    gap_q, codes_q, _ = _questions(s)
    verdict, finding, reason, p, _ = atb.decide_claim(s, *_case(s), gap_q, codes_q)
    assert verdict == "consistent" and finding == "near-optimal with uninformative codes" and 0 < p < 0.05
    # nothing is decided on a pair out of regime: inconclusive, with the regime's reason, and no p-value
    verdict, _, reason, p, _ = atb.decide_claim(s, *_case(s, in_regime=(True, False)), gap_q, codes_q)
    assert verdict == "inconclusive" and "out of regime" in reason and "not settled" in reason and p is None
    # a trained pair whose gap exceeds eps is never a refutation of the theorem (its premise is absent)
    verdict, _, reason, p, _ = atb.decide_claim(s, *_case(s, pair_gap=0.3), gap_q, codes_q)
    assert verdict == "inconclusive" and "not near-optimal" in reason and p is None
    # the refutation: a near-optimal witness whose codes are informative
    verdict, _, reason, p, _ = atb.decide_claim(s, *_case(s, witness_acc=CHANCE + 0.1), gap_q, codes_q)
    assert verdict == "refuted" and "witness" in reason and 0 < p < 0.05
    # a missed gap control: no witness is near-optimal by the gap question, nothing is consistent
    gap_q2, codes_q2, _ = _questions(s, gap_caught=False)
    verdict, _, reason, p, _ = atb.decide_claim(s, *_case(s), gap_q2, codes_q2)
    assert verdict == "inconclusive" and "near-optimal" in reason and p is None
    # fewer than 14 repeats: no resolution, inconclusive (the quick setting)
    gap_q3, codes_q3, _ = _questions(s, repeats=6)
    assert atb.decide_claim(s, *_case(s), gap_q3, codes_q3)[0] == "inconclusive"


def test_each_question_refuses_the_other_questions_control():
    """The gap (bound eps, n = 3,000) decided with the codes question's control or power curve (bound chance +
    margin, n = 2,000) is an error, not a verdict."""
    s = Settings.quick()
    _, _, (gap_control, gap_curve, codes_control, codes_curve) = _questions(s)
    gap = Estimate(**_gap_est(0.05))
    with pytest.raises(ValueError, match="bound"):
        decide(gap, s.eps, control=codes_control, resolution=gap_curve)
    with pytest.raises(ValueError, match="bound"):
        decide(gap, s.eps, control=gap_control, resolution=codes_curve)


def test_the_codes_bound_is_fixed_before_calibration_and_the_controls_are_near_boundary():
    for s in (Settings.quick(), Settings.full()):
        assert s.probe_bound == pytest.approx(CHANCE + s.probe_margin, abs=1e-15)
        assert 1.5 <= s.control_factor <= 3 and 1.5 * s.eps <= s.gap_control_rate <= 3 * s.eps
    assert Settings.full().power_repeats >= 14 and Settings.full().lr_schedule == "constant"


@pytest.mark.parametrize("field, value, match", [
    ("seeds", 0, "seeds"),
    ("witness_ks", (4, 2), "witness_ks"),
    ("witness_ks", (1, 4), "witness_ks"),
    ("mixture", "moons", "mixture"),
    ("control_factor", 5.0, "control_factor"),
    ("leak_margins", (2.0, 1.0), "leak_margins"),
    ("probe_margin", 0.6, "probe_margin"),
    ("gap_control_rate", 0.3, "gap_control_rate"),
    ("gap_rates", (0.2, 0.1), "gap_rates"),
    ("reference_n", 100, "reference_n"),
    ("code_dim", 1, "code_dim"),
    ("lr_schedule", "linear", "lr_schedule"),
    ("eps", -0.1, "eps"),
])
def test_bad_settings_name_the_field(field, value, match):
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(Settings.quick(), **{field: value})


def test_a_stronger_attacker_without_hidden_layers_and_a_certifier_of_another_class_are_refused():
    s = Settings.quick()
    with pytest.raises(ValueError, match="strong.hidden"):
        dataclasses.replace(s, strong=dataclasses.replace(s.strong, hidden=()))
    with pytest.raises(ValueError, match="certifier"):
        dataclasses.replace(s, certifier=dataclasses.replace(s.certifier, hidden=(16,)))


def test_the_perfect_generator_has_the_real_joint_law():
    """FreshGenerator(z) = fresh clean draw with the code at the noise positions: the encoder reads back z exactly,
    so (G(z), z) is distributed as (x, E(x))."""
    target, _, w = _world()
    fresh = FreshGenerator(w.clean, w.noise, torch.Generator().manual_seed(0))
    z = torch.randn(100, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert torch.equal(w.encoder(fresh(z)), z) and not math.isnan(float(fresh(z).sum()))
