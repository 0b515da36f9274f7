"""Claim lecture-optimal-d: an exact identity, checked exactly (with a control that a wrong identity fails)."""

import math

import numpy as np
import pytest
from scipy import stats

from ganlimits.verify import RunConfig, run_claim
from ganlimits.verify.claims.lecture9 import optimal_d as lecture


def test_optimal_d_holds_with_control(tmp_path):
    result = run_claim("lecture-optimal-d", RunConfig(quick=True, seed=0, out_dir=tmp_path, progress=False))
    assert result.verdict == "holds", result.notes
    assert result.measured.estimate <= lecture.OPTIMAL_D_TOL
    assert result.control_caught and result.control.estimate > 100 * lecture.OPTIMAL_D_TOL
    pairs = result.measurements["pairs"]
    identical = pairs["identical (JS = 0)"]
    assert identical["js"] == pytest.approx(0.0, abs=1e-15)
    assert identical["loss_at_V_star"] == pytest.approx(-math.log(4), abs=1e-12)
    far = pairs["far apart N(-4, 1) vs N(4, 1)"]  # JS of N(-4,1), N(4,1) is log 2 up to the overlap
    assert 0.69 < far["js"] < math.log(2)
    assert all(p["margin_over_perturbed"] > 0 for p in pairs.values())
    assert (tmp_path / result.figures[0]).exists()


def test_check_pair_catches_a_wrong_identity():
    """Negative control at the unit level: the loss of the control discriminator is not 2 JS - log 4, and the
    loss at V* is not 2 JS (the lecture's formula without -log 4)."""
    pd = ((0.5, 0.5), (-0.5, 0.5), (1.0, 1.0))
    ps = ((1.0,), (0.0,), (1.0,))
    c = lecture._check_pair(pd, ps, panels=100)
    assert c["error"] < 1e-12
    assert c["control_gap"] > 1e-6
    assert abs(c["loss_at_V_star"] - 2 * c["js"]) == pytest.approx(math.log(4), abs=1e-12)
    assert c["mass_P_D"] == pytest.approx(1.0, abs=1e-14) and c["mass_P_S"] == pytest.approx(1.0, abs=1e-14)


def test_mixture_logpdf_matches_scipy_and_rejects_bad_input():
    x = np.linspace(-5, 5, 11)
    got = lecture._mixture_logpdf(x, weights=(0.3, 0.7), means=(-1.0, 2.0), sds=(0.5, 1.5))
    want = np.log(0.3 * stats.norm.pdf(x, -1, 0.5) + 0.7 * stats.norm.pdf(x, 2, 1.5))
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)
    with pytest.raises(ValueError, match="weights"):
        lecture._mixture_logpdf(x, weights=(0.3, 0.3), means=(0.0, 1.0), sds=(1.0, 1.0))
    with pytest.raises(ValueError, match="sds"):
        lecture._mixture_logpdf(x, weights=(1.0,), means=(0.0,), sds=(0.0,))


@pytest.mark.slow
def test_full_run(tmp_path):
    """Full setting, seed 0: 35 mixture pairs with 8000-point rules."""
    opt = run_claim("lecture-optimal-d", RunConfig(quick=False, seed=0, out_dir=tmp_path, progress=False))
    assert opt.verdict == "holds", opt.notes
