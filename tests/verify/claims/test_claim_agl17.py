"""Claims agl17-thm31 and agl17-equilibrium: the attack with the empirical measure's side exact, the planted
controls' known outcomes, settings errors, and (slow) full quick runs through the registry."""

import math

import pytest
import torch

from ganlimits.verify import RunConfig, run_claim
from ganlimits.verify.claims import agl17_equilibrium as eq
from ganlimits.verify.claims import agl17_thm31 as thm
from ganlimits.verify.claims._agl17 import distance_to_atoms, draw_atoms, input_radius, make_target

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
    s = eq.Settings.quick()
    econf = eq.trial_config(s, "grid", 8, fit_seed=1, gen_seed=2, n=300, steps=5)
    assert eq.payoff_trial(econf, 7) == eq.payoff_trial(econf, 7)


def test_a_single_learned_component_is_caught_and_its_fold_is_exact():
    s = eq.Settings.quick()
    row = eq.payoff_trial(eq.trial_config(s, "grid", 1, fit_seed=1, gen_seed=2), 3)
    assert row["detected"] and row["gap"]["ci_low"] > 0.3  # one Gaussian against 25 modes
    assert row["mismatch_probability"] == 0.0  # T = 1: no selector, the network is the Gaussian exactly


@pytest.mark.parametrize(("cls", "field", "value", "match"), [
    (thm.Settings, "planted_m", (8, 16), "planted_m"),
    (thm.Settings, "truth_factor", 1, "truth_factor"),
    (thm.Settings, "n_w1", 5000, "n_w1"),
    (eq.Settings, "planted_T", (2, 4), "planted_T"),
    (eq.Settings, "component_std_grid", 0.06, "component_std_grid"),
])
def test_settings_that_make_a_control_impossible_are_refused(cls, field, value, match):
    import dataclasses

    with pytest.raises(ValueError, match=match):
        dataclasses.replace(cls.quick(), **{field: value})


@pytest.mark.slow
@pytest.mark.parametrize("claim", ["agl17-thm31", "agl17-equilibrium"])
def test_quick_run_records_control_and_resolution(claim, tmp_path):
    result = run_claim(claim, RunConfig(quick=True, seed=0, out_dir=tmp_path, progress=False))
    assert result.resolution is not None and len(result.resolution["strengths"]) >= 3
    assert (tmp_path / f"{claim}.json").exists() and result.figures
    assert all((tmp_path / f).exists() for f in result.figures)
