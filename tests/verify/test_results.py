"""Result objects, verdicts, atomic writing and resumable sweeps."""

import json
import math

import pytest

from ganlimits.verify import ClaimResult, Estimate
from ganlimits.verify._results import write_json_atomic
from ganlimits.verify.runs import run_trials


def test_estimate_rejects_a_value_outside_its_interval():
    with pytest.raises(ValueError, match="outside its interval"):
        Estimate(0.5, 0.6, 0.7, 0.95, 10)


def test_claim_result_refuses_consistent_without_power():
    with pytest.raises(ValueError, match="control"):
        ClaimResult("arz-thm1", "s", "consistent", {}, 0, Estimate.exact(0.0), {}, control_caught=False)


def test_claim_result_round_trips_through_strict_json(tmp_path):
    r = ClaimResult(
        "arz-thm1", "src", "inconclusive", {"m": 4}, 7, Estimate(0.1, 0.0, 0.2, 0.95, 50, "hoeffding", 7),
        {"value": 0.25}, control=Estimate.exact(float("nan")), control_caught=False,
        measurements={"support": float("inf"), "slope": float("nan")},
    )
    path = write_json_atomic(tmp_path / "r.json", r.to_dict())
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text  # strict JSON: NaN becomes null, infinities strings
    back = ClaimResult.from_dict(json.loads(text))
    assert back.measurements == {"support": "inf", "slope": None}
    assert back.measured == r.measured
    assert math.isnan(back.control.estimate)
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed away


def test_atomic_write_leaves_the_old_file_when_serialisation_fails(tmp_path):
    path = write_json_atomic(tmp_path / "r.json", {"a": 1})
    with pytest.raises(TypeError):
        write_json_atomic(path, {"a": object()})
    assert json.loads(path.read_text()) == {"a": 1}
    assert not list(tmp_path.glob(".*.tmp"))


def _square(config, seed):
    return {"value": config["x"] ** 2 + seed}


class Interrupted(Exception):
    """Stands for a run stopped part-way (pytest reserves KeyboardInterrupt for itself)."""


def test_run_trials_appends_each_result_and_resume_skips_done_trials(tmp_path):
    path = tmp_path / "sweep.jsonl"
    configs = [({"x": x}, 1) for x in range(4)]
    calls = []
    stop_at = {2}

    def counting(config, seed):
        calls.append(config["x"])
        if config["x"] in stop_at:
            raise Interrupted  # an interruption after two finished trials
        return _square(config, seed)

    with pytest.raises(Interrupted):
        run_trials(counting, configs, path=path, progress=False)
    assert len(path.read_text().splitlines()) == 2  # both finished trials were kept
    calls.clear()
    stop_at.clear()
    results = run_trials(counting, configs, path=path, resume=True, progress=False)
    assert calls == [2, 3]  # only the unfinished ones ran again
    assert [r["value"] for r in results] == [1, 2, 5, 10]


@pytest.mark.slow  # joblib's worker processes take ~10 s to start on 2 cores
def test_run_trials_in_parallel_equals_serial(tmp_path):
    configs = [({"x": x}, s) for x in range(3) for s in range(2)]
    serial = run_trials(_square, configs, progress=False)
    parallel = run_trials(_square, configs, n_jobs=2, progress=False)
    assert serial == parallel


def test_a_torn_last_line_is_cut_away_before_the_next_record(tmp_path):
    path = tmp_path / "sweep.jsonl"
    configs = [({"x": x}, 1) for x in range(3)]
    run_trials(_square, configs[:2], path=path, progress=False)
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"key": "torn')  # a run killed mid-write
    results = run_trials(_square, configs, path=path, resume=True, progress=False)
    lines = path.read_text().splitlines()
    assert [json.loads(line)["result"]["value"] for line in lines] == [1, 2, 5]  # every line whole
    assert path.read_bytes().startswith(whole) and [r["value"] for r in results] == [1, 2, 5]
    assert (tmp_path / "sweep.jsonl.corrupt-1").read_text() == '{"key": "torn\n'  # set aside, not lost


def test_a_run_without_resume_appends_and_never_empties_the_log(tmp_path):
    path = tmp_path / "sweep.jsonl"
    run_trials(_square, [({"x": 1}, 1)], path=path, progress=False)
    run_trials(_square, [({"x": 1}, 1)], path=path, resume=False, progress=False)
    assert len(path.read_text().splitlines()) == 2


def test_trial_keys_hold_the_code_version(tmp_path):
    from ganlimits.verify._sweep import trial_key
    from ganlimits.verify.runs import code_version

    key = json.loads(trial_key({"x": 1}, 3, trial=_square))
    assert key["code"] == code_version() and key["seed"] == 3 and key["config"] == {"dict": [["x", 1]]}


def test_result_files_get_the_permissions_of_ordinary_files(tmp_path):
    import os

    path = write_json_atomic(tmp_path / "r.json", {"a": 1})
    (tmp_path / "plain.png").write_bytes(b"x")
    assert os.stat(path).st_mode & 0o777 == os.stat(tmp_path / "plain.png").st_mode & 0o777


def test_a_corrupt_result_is_named_and_set_aside(tmp_path):
    from ganlimits.verify._results import CorruptResult, read_result

    path = tmp_path / "arz-thm1.json"
    path.write_text('{"claim": "arz-thm1", "verd')
    with pytest.raises(CorruptResult, match="arz-thm1.json") as exc:
        read_result(path)
    assert not path.exists() and exc.value.path.name == "arz-thm1.json.corrupt-1"
    assert exc.value.path.read_text() == '{"claim": "arz-thm1", "verd'


def test_holm_matches_a_hand_computation():
    from ganlimits.verify._report import holm

    # p sorted: 0.001 (x4 = 0.004), 0.01 (x3 = 0.03), 0.02 (x2 = 0.04), 0.5 (x1); reject while p <= 0.05/(m-i).
    out = holm({"a": 0.02, "b": 0.001, "c": 0.5, "d": 0.01})
    assert out == {"b": (0.004, True), "d": (0.03, True), "a": (0.04, True), "c": (0.5, False)}
    assert holm({"a": 0.03, "b": 0.04})["a"] == (0.06, False)  # control: Holm is stricter than 0.05 each


def _canonical(value):
    """An independent statement of "the same config": kind by kind, numpy scalars as the Python number they hold,
    NaN equal to NaN, floats compared bit for bit (0.0 and -0.0 apart)."""
    import numpy as np

    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", "nan" if math.isnan(value) else value.hex())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_canonical(v) for v in value))
    if isinstance(value, dict):
        return ("dict", frozenset((_canonical(k), _canonical(v)) for k, v in value.items()))
    raise AssertionError(value)


def _configs():
    import numpy as np
    from hypothesis import strategies as st

    leaves = (st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from([math.nan, math.inf, -math.inf, 0.0,
                                                                                   -0.0, 1.0, 0.5])
              | st.sampled_from(["inf", "nan", "None", "1", "1.0", ""])
              | st.sampled_from([np.float64(0.5), np.int64(1), np.bool_(True), np.float32(0.5)]))
    values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=2) | st.tuples(inner)
                          | st.dictionaries(st.sampled_from(["x", "y", "1"]) | st.integers(0, 1), inner, max_size=2),
                          max_leaves=4)
    return st.dictionaries(st.sampled_from(["x", "y"]), values, max_size=2)


def test_distinct_trial_configs_never_share_a_key():
    """Property: two configs share a key exactly when they are the same config (compared by an independent rule);
    run as a hypothesis test over nested configs of None, bools, ints, special floats, look-alike strings, numpy
    scalars, lists, tuples and dicts."""
    from hypothesis import example, given, settings

    from ganlimits.verify._sweep import trial_key

    @settings(max_examples=300)
    @given(a=_configs(), b=_configs())
    @example(a={"x": math.nan}, b={"x": None})  # these two shared a key, so the second trial never ran
    @example(a={"x": math.inf}, b={"x": "inf"})
    @example(a={"x": (1, 2)}, b={"x": [1, 2]})
    @example(a={"x": {1: 0}}, b={"x": {"1": 0}})
    def check(a, b):
        assert (trial_key(a, 0) == trial_key(b, 0)) == (_canonical(a) == _canonical(b)), (a, b)

    check()


def test_distinct_configs_run_as_distinct_trials(tmp_path):
    """The same property end to end: NaN and None, inf and "inf" are four trials, each with its own result."""
    configs = [({"x": math.nan}, 0), ({"x": None}, 0), ({"x": math.inf}, 0), ({"x": "inf"}, 0)]
    out = run_trials(lambda c, s: {"kind": type(c["x"]).__name__, "x": repr(c["x"])}, configs,
                     path=tmp_path / "t.jsonl", progress=False)
    assert [r["x"] for r in out] == ["nan", "None", "inf", "'inf'"]


def test_a_config_a_key_cannot_hold_is_refused_by_name():
    with pytest.raises(ValueError, match=r"configs\[1\]\['f'\] holds a function"):
        run_trials(_square, [({"x": 1}, 0), ({"x": 2, "f": _square}, 0)], progress=False)
