"""Claim li17-dynamics: the quick run, its determinism, and that its verdict rule can say no."""

import json

import pytest

from ganlimits.verify import RunConfig, run_claim
from ganlimits.verify.claims import li17_dynamics as claim_module

TINY = claim_module.Settings(n_runs=12, grid=3, steps=300, fig2_steps=200)  # Figure 2 collapses within ~25 steps


def test_quick_run_is_consistent_with_caught_controls(tmp_path):
    """Quick setting, seed 0: n = 100 i.i.d. starts per dynamics. Clopper-Pearson 95%: 100/100 converged gives a
    lower limit 0.964 >= 0.95; the first-order not-converged fraction must have lower limit >= 0.2."""
    result = run_claim("li17-dynamics", RunConfig(quick=True, seed=0, out_dir=tmp_path, progress=False))
    assert result.verdict == "consistent", result.notes
    assert result.control_caught and result.control.estimate == 1.0
    m = result.measurements
    assert m["optimal_dynamics"]["counts"]["converged"] == 100
    fo = m["first_order_dynamics"]["fractions"]["not-converged"]
    assert fo["ci_low"] >= 0.2
    assert m["figure2"]["A"]["discriminator-only"]["collapsed"] and m["figure2"]["A"]["first-order"]["collapsed"]
    assert all(c["expected"] == c["got"] for c in m["controls"])
    for name in result.figures:
        assert (tmp_path / name).stat().st_size > 10_000
    saved = json.loads((tmp_path / "li17-dynamics.json").read_text())
    assert saved["verdict"] == "consistent" and saved["measured"]["n"] == 100


def _tiny_run(tmp_path, seed=3):
    return claim_module.run(RunConfig(quick=True, seed=seed, out_dir=tmp_path, progress=False, figures=False), TINY)


def test_same_seed_same_outcome_table(tmp_path):
    a = _tiny_run(tmp_path)
    b = _tiny_run(tmp_path)
    assert json.dumps(a.measurements, sort_keys=True) == json.dumps(b.measurements, sort_keys=True)
    assert a.verdict == b.verdict


def _cp(successes, n):
    from ganlimits.verify import clopper_pearson

    return clopper_pearson(successes, n)


def test_verdict_rule_refutes_and_withholds():
    """The rule says yes, no and "cannot tell": 100/100 and 100/100 support; 80/100 converged refutes (upper
    limit 0.87 < 0.95); 5/100 not converged refutes (upper 0.113 < 0.2); 12/12 cannot establish 0.95 (lower
    0.735); a missed control or an undetected Figure 2 collapse withholds the verdict."""
    v = claim_module._verdict
    good = dict(fig2_detected=True, control_caught=True)
    assert v(_cp(100, 100), _cp(100, 100), **good) == "consistent"
    assert v(_cp(80, 100), _cp(100, 100), **good) == "refuted"
    assert v(_cp(100, 100), _cp(5, 100), **good) == "refuted"
    assert v(_cp(12, 12), _cp(12, 12), **good) == "inconclusive"
    assert v(_cp(100, 100), _cp(100, 100), fig2_detected=True, control_caught=False) == "inconclusive"
    assert v(_cp(100, 100), _cp(100, 100), fig2_detected=False, control_caught=True) == "inconclusive"


def test_runner_is_registered():
    from ganlimits.verify import available_claims

    assert "li17-dynamics" in available_claims()
    with pytest.raises(KeyError):
        run_claim("li17-no-such-claim", RunConfig(progress=False))


@pytest.mark.slow
def test_full_run_is_consistent(tmp_path):
    """Full setting, seed 0: n = 600 starts per dynamics, 31 x 31 heat-map grid, 1000 steps."""
    result = run_claim("li17-dynamics", RunConfig(quick=False, seed=0, out_dir=tmp_path, progress=False))
    assert result.verdict == "consistent", result.notes
    assert result.measured.ci_low >= 0.99
    assert result.measurements["first_order_dynamics"]["fractions"]["not-converged"]["ci_low"] >= 0.9
