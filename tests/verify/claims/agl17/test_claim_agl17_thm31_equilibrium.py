"""Claims agl17-thm31 and agl17-equilibrium: the attack with the empirical measure's side exact, the planted laws and
their certificates (each checked against an independent oracle), settings errors, and (slow) quick runs through the
registry."""

import math

import numpy as np
import pytest
import torch

from ganlimits.verify import RunConfig, run_claim
from ganlimits.verify.claims.agl17 import equilibrium as eq
from ganlimits.verify.claims.agl17 import thm31 as thm
from ganlimits.verify.claims.agl17._shared import (
    _sigmoid_expectation,
    certify_tilt,
    distance_to_atoms,
    draw_atoms,
    family_spec,
    input_radius,
    make_target,
    normal_quantization,
    separating_member,
    tilted_atoms,
    tilted_weights,
)

GRID = make_target("grid")
ATTACK = dict(hidden=(16,), K=4, steps=150, lr=0.1, weight_norm=5.0, bias_bound=1.0, input_radius=input_radius(GRID))


def test_a_far_atom_is_caught_and_its_weight_is_what_counts():
    """Known outcomes: an atom far from every mode makes d close to 1 (D = 1 there, 0 on the target). Next to
    2,000 target draws (a law close to the target), the far atom with weight w adds about w to the distance."""
    far = torch.tensor([[9.0, 9.0]], dtype=torch.float64)
    est, info = distance_to_atoms(far, GRID, n=1000, generator=torch.Generator().manual_seed(0), **ATTACK)
    assert est.ci_low > 0.8 and est.sides == 1 and info["train_atoms"] == 1
    atoms = torch.cat([draw_atoms(GRID, 2000, seed=3), far])
    for w, lo, hi in ((0.5, 0.35, 0.65), (1e-9, -0.1, 0.1)):
        weights = torch.cat([torch.full((2000,), (1 - w) / 2000, dtype=torch.float64),
                             torch.tensor([w], dtype=torch.float64)])
        got, _ = distance_to_atoms(atoms, GRID, n=2000, weights=weights, generator=torch.Generator().manual_seed(1),
                                   **ATTACK)
        assert lo < got.estimate < hi, (w, got)


def test_interval_is_one_sided_bonferroni_hoeffding_on_the_target_side():
    atoms = draw_atoms(GRID, 50, seed=1)
    est, _ = distance_to_atoms(atoms, GRID, n=800, generator=torch.Generator().manual_seed(2), **ATTACK)
    # one-sided at 95% for the best of K = 4: half-width sqrt(log(K / alpha) / (2 n)), range 1, n target draws
    assert est.ci_high - est.estimate == pytest.approx(math.sqrt(math.log(4 / 0.05) / (2 * 800)), rel=1e-9)
    assert est.confidence == 0.95 and est.n == 800


def test_more_atoms_mean_a_smaller_distance_on_planted_measures():
    """The graded planted family really is graded: m = 2 is far, m = 4096 is close (seeded, one attack each)."""
    rows = [thm.distance_trial({"target": "grid", "m": m, "atoms_seed": 5, "n": 1000, **ATTACK, "hidden": [16],
                                "eps": 0.1}, 9) for m in (2, 4096)]
    assert rows[0]["distance"]["ci_low"] > 0.1 and rows[0]["detected"]
    assert rows[1]["distance"]["estimate"] < rows[0]["distance"]["estimate"] - 0.2


def test_trials_are_pure_functions_of_config_and_seed():
    conf = {"target": "grid", "m": 16, "atoms_seed": 4, "n": 300, **ATTACK, "hidden": [16], "steps": 5, "eps": 0.1}
    assert thm.distance_trial(conf, 7) == thm.distance_trial(conf, 7)
    planted = {**conf, "tilt": 0.2, "quantization": 8}
    assert thm.distance_trial(planted, 7) == thm.distance_trial(planted, 7)
    s = eq.Settings.quick()
    econf = eq.trial_config(s, "grid", 8, fit_seed=1, gen_seed=2, n=300, steps=5)
    assert eq.payoff_trial(econf, 7) == eq.payoff_trial(econf, 7)
    assert eq.payoff_trial({**econf, "tilt": 0.2}, 7) == eq.payoff_trial({**econf, "tilt": 0.2}, 7)


def test_a_single_learned_component_is_caught_and_its_fold_is_exact():
    s = eq.Settings.quick()
    row = eq.payoff_trial(eq.trial_config(s, "grid", 1, fit_seed=1, gen_seed=2), 3)
    assert row["detected"] and row["gap"]["ci_low"] > 0.3  # one Gaussian against 25 modes
    assert row["mismatch_probability"] == 0.0  # T = 1: no selector, the network is the Gaussian exactly


SPEC = family_spec(GRID, (16,), thm.Settings.quick())


def test_the_separating_member_is_in_the_class_and_separates_the_columns():
    member = separating_member(SPEC)
    assert bool(member.in_class().all()) and member.capacity == 65
    x = torch.tensor([[-4.0, 0.0], [-2.0, 3.0], [0.0, -4.0], [2.0, 1.0], [4.0, 4.0]], dtype=torch.float64)
    d = member(x)[0]
    assert d[:3].max() < 0.035 and d[3:].min() > 1 - 1e-6  # sigmoid(12.5 x1 - 3.5) up to the 1e-9 shrink
    assert float(d[2]) == pytest.approx(1 / (1 + math.exp(3.5)), rel=1e-6)


def test_certificates_bracket_the_distance_of_the_planted_laws():
    """Independent oracles for both certificates of the planted law with mass 0.2 moved:
    - the lower one is the explicit member's exact value; 400,000 fresh draws of the target (torch seed 11) give the
      same number within the Hoeffding half-width at 1 - 1e-6 (range 1): 0.0062;
    - the upper one bounds every member of the class: a trained attacker at n = 4,000 (seed 12) scores at most the
      upper certificate plus its own one-sided half-width (and sees the violation);
    - the quantized law's W1 bound is the closed form of the 1-D integral: adaptive quadrature agrees to 1e-8."""
    cert = certify_tilt(GRID, 0.2, SPEC, quantization=32)
    assert cert["truth_low"] < 0.2 <= cert["truth_high"]
    assert 1.5 <= cert["truth_low"] / 0.1 and cert["truth_high"] / 0.1 <= 3
    member = separating_member(SPEC)
    atoms, weights, w1 = tilted_atoms(GRID, 0.2, 32)
    y, _ = GRID.sample(400_000, generator=torch.Generator().manual_seed(11))
    mc = float(member(atoms)[0] @ weights) - float(member(y)[0].mean())
    assert abs(mc - cert["truth_low"]) <= math.sqrt(math.log(2 / 1e-6) / (2 * 400_000))
    est, _ = distance_to_atoms(atoms, GRID, n=4000, weights=weights, generator=torch.Generator().manual_seed(12),
                               **ATTACK)
    assert est.estimate <= cert["truth_high"] + (est.ci_high - est.estimate)
    assert est.ci_low > 0.1  # and the attack sees the violation
    from scipy import integrate, stats

    _, w1_1d = normal_quantization(32)
    yq = stats.norm.ppf((np.arange(32) + 0.5) / 32)
    edges = stats.norm.ppf(np.arange(33) / 32)
    numeric = sum(integrate.quad(lambda x, c=c: abs(x - c) * stats.norm.pdf(x), a, b, epsabs=1e-13)[0]
                  for a, b, c in zip(edges[:-1], edges[1:], yq, strict=True))
    assert w1_1d == pytest.approx(numeric, abs=1e-8) and w1 == pytest.approx(0.1 * w1_1d)
    mixture = certify_tilt(GRID, 0.2, SPEC)  # the equilibrium's planted generator: no quantization
    assert mixture["truth_high"] == 0.2 and mixture["truth_low"] == pytest.approx(cert["truth_low"], abs=1e-3)


def test_sigmoid_expectation_bounds_hold_and_are_tight():
    from scipy import integrate, special, stats

    for slope, offset, scale in ((12.5, -3.5, 0.05), (-12.5, 20.0, 0.05), (3.0, 0.4, 1.0)):
        exact = integrate.quad(lambda z, a=offset, b=slope * scale: special.expit(a + b * z) * stats.norm.pdf(z),
                               -40, 40, epsabs=1e-13)[0]
        lo, hi = _sigmoid_expectation(slope, offset, scale)
        assert lo <= exact <= hi and hi - lo <= 1 / 20_000 + 1e-15


def test_tilted_weights_move_exactly_the_mass_asked():
    w = tilted_weights(GRID, 0.25)
    over = GRID.means[:, 0] > 1
    assert float(w.sum()) == pytest.approx(1.0) and float(w[over].sum()) == pytest.approx(0.4 + 0.25)
    assert 0.5 * float((w - 1 / 25).abs().sum()) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="tilt"):
        tilted_weights(GRID, 0.7)


@pytest.mark.parametrize(("cls", "field", "value", "match"), [
    (thm.Settings, "planted_tilts", (0.2, 0.1), "planted_tilts"),
    (thm.Settings, "planted_tilts", (0.7,), "planted_tilts"),
    (thm.Settings, "quantization", 1, "quantization"),
    (thm.Settings, "n_w1", 5000, "n_w1"),
    (eq.Settings, "planted_tilts", (0.3, 0.3), "planted_tilts"),
    (eq.Settings, "component_std_grid", 0.06, "component_std_grid"),
])
def test_settings_that_make_a_control_impossible_are_refused(cls, field, value, match):
    import dataclasses

    with pytest.raises(ValueError, match=match):
        dataclasses.replace(cls.quick(), **{field: value})


@pytest.mark.slow
@pytest.mark.parametrize("claim", ["agl17-thm31", "agl17-equilibrium"])
def test_quick_run_records_its_certified_control(claim, tmp_path):
    """Quick setting, seed 0: the control's interval is certified from both sides within 1.5-3 eps, its measurement
    and the power curve are the verdict's (bound, direction, n, confidence); figures written."""
    result = run_claim(claim, RunConfig(quick=True, seed=0, out_dir=tmp_path, progress=False))
    near = result.measurements["near_boundary_control"]
    assert 1.5 <= near["ratio_interval"][0] <= near["ratio_interval"][1] <= 3
    assert near["lower_certificate"] and near["upper_certificate"]
    assert near["measured"]["n"] == result.measured.n == result.resolution["n"]
    assert result.resolution["direction"] == "upper" and result.resolution["bound"] == result.bound["value"]
    assert (tmp_path / f"{claim}.json").exists() and result.figures
    assert all((tmp_path / f).exists() for f in result.figures)
