"""The verdict rule on constructed inputs (``verify/claims/_common.py``; ``docs/design.md``, "The rule checks its
inputs"): ``decide`` refuses a near-boundary control or a power curve that does not serve the measurement — another
bound, direction, n, confidence or sides (and a curve of another baseline than the control's) — and a measurement
below 95%; with matching inputs it follows the rule. Deterministic: no sampling."""

import pytest

from ganlimits.verify import Estimate
from ganlimits.verify.claims._common import (
    NearBoundaryControl,
    PowerCurve,
    check_decision_inputs,
    decide,
    min_power_repeats,
)

BOUND, N, CONF = 0.08, 6000, 0.95
MEASURED = Estimate(0.01, 0.0, 0.05, CONF, N, sides=1)


def _control(**change) -> NearBoundaryControl:
    base = dict(truth_low=0.13, truth_high=0.22, lower_certificate="a stronger attack's lower limit",
                upper_certificate="a total-variation ceiling", bound=BOUND,
                measured=Estimate(0.15, 0.10, 0.20, CONF, N, sides=1))
    return NearBoundaryControl("planted", **(base | change))


def _curve(**change) -> PowerCurve:
    base = dict(strengths=(0.16, 0.2, 0.24), detected=(5, 14, 14), repeats=14, n=N, bound=BOUND,
                confidence=CONF)
    return PowerCurve(**(base | change))


def test_matching_inputs_pass_and_follow_the_rule():
    check_decision_inputs(MEASURED, BOUND, control=_control(), resolution=_curve(), direction="upper")
    verdict, reason = decide(MEASURED, BOUND, control=_control(), resolution=_curve(), direction="upper")
    assert verdict == "consistent" and "resolution 2.5 times the bound" in reason
    refuted = Estimate(0.2, 0.12, 0.28, CONF, N, sides=1)
    assert decide(refuted, BOUND, control=_control(), resolution=_curve())[0] == "refuted"


@pytest.mark.parametrize("what,build,match", [
    ("control bound", lambda: (_control(bound=0.1, truth_low=0.16, truth_high=0.25), _curve()), "bound"),
    ("control n", lambda: (_control(measured=Estimate(0.15, 0.10, 0.20, CONF, 2000, sides=1)), _curve()), "its n"),
    ("control confidence", lambda: (_control(measured=Estimate(0.15, 0.10, 0.20, 0.5, N, sides=1)), _curve()),
     "interval"),
    ("control sides", lambda: (_control(measured=Estimate(0.15, 0.10, 0.20, CONF, N, sides=2)), _curve()),
     "sided"),
    ("curve bound", lambda: (_control(), _curve(bound=0.01)), "bound"),
    ("curve direction", lambda: (_control(), _curve(direction="lower")), "direction"),
    ("curve n", lambda: (_control(), _curve(n=1_000_000)), "its n"),
    ("curve confidence", lambda: (_control(), _curve(confidence=0.5)), "confidence"),
    ("curve baseline", lambda: (_control(), _curve(baseline=0.01)), "baseline"),
])
def test_each_mismatch_is_refused(what, build, match):
    """Each way a control or power curve can fail to serve the measurement is a ValueError naming it, never a
    verdict (the issue's examples: a control of bound 0.01 at n = 10^6, the opposite direction, 50% confidence)."""
    control, curve = build()
    with pytest.raises(ValueError, match=match):
        decide(MEASURED, BOUND, control=control, resolution=curve, direction="upper")


def test_a_control_of_the_opposite_direction_is_refused():
    """A 'lower' control (caught when its upper limit is below the bound; truth 1.5-3x the bound below the
    baseline 0.5) offered to an 'upper' verdict."""
    lower = NearBoundaryControl("planted", truth_low=0.2, truth_high=0.3, lower_certificate="exact",
                                upper_certificate="exact", bound=0.4, baseline=0.5, direction="lower",
                                measured=Estimate(0.25, 0.2, 0.3, CONF, N, sides=1))
    with pytest.raises(ValueError, match="direction"):
        decide(MEASURED, 0.4, control=lower, resolution=None, direction="upper")


def test_a_measurement_below_95_percent_and_a_bad_direction_are_refused():
    with pytest.raises(ValueError, match="confidence"):
        decide(Estimate(0.01, 0.0, 0.05, 0.9, N, sides=1), BOUND, control=None, resolution=None)
    with pytest.raises(ValueError, match="direction"):
        decide(MEASURED, BOUND, control=None, resolution=None, direction="up")


def test_without_control_or_with_too_few_repeats_there_is_no_consistent():
    assert decide(MEASURED, BOUND, control=None, resolution=_curve())[0] == "inconclusive"
    few = min_power_repeats() - 1
    thin = _curve(detected=(few, few, few), repeats=few)  # 13 of 13: one-sided 95% CP lower limit < 0.8
    assert thin.resolution is None
    verdict, reason = decide(MEASURED, BOUND, control=_control(), resolution=thin)
    assert verdict == "inconclusive" and "no resolution" in reason
    coarse = _curve(strengths=(0.2, 0.26), detected=(3, 14))  # resolution 3.25 x the bound
    assert decide(MEASURED, BOUND, control=_control(), resolution=coarse)[0] == "inconclusive"


def test_a_control_certified_from_one_side_only_or_outside_the_window_is_no_control():
    with pytest.raises(ValueError, match="upper_certificate"):
        _control(upper_certificate=" ")
    with pytest.raises(ValueError, match="between 1.5 and 3"):
        _control(truth_low=0.1, truth_high=0.2)  # 1.25x at the lower end: only a lower certificate would place it
