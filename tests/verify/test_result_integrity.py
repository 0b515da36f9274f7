"""Results and trial records that cannot be silently altered: every class of hand edit or damage is set aside by name
(``.corrupt-<n>``, original bytes kept), never reused, never reported, and never a traceback.

Classes of input (counts are the parametrised tables plus the hypothesis examples of each property):
- a result whose content was edited with its digest kept (any field, any new JSON value);
- a result well formed but wrongly typed, its digest recomputed (so only the type checks can catch it);
- a result file damaged: truncated, not JSON, not an object, no digest, keys removed, deep nesting;
- a result whose figure was altered, removed or renamed, or whose place (file name, seed folder) names another one;
- a trial record edited (result or key), torn, not JSON, without digest;
and the intact ones, which are read back unchanged (the control of every class above).
"""

import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ganlimits.verify import ClaimResult, Estimate
from ganlimits.verify._report import write_report
from ganlimits.verify._results import CorruptResult, body_digest, read_result, write_json_atomic
from ganlimits.verify.runs import run_trials

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)


def _result(figures: bool = True, folder: Path | None = None) -> ClaimResult:
    r = ClaimResult(
        "arz-thm1", "Arora et al. 2017", "consistent", {"m": 4}, 7,
        Estimate(0.05, 0.0, 0.09, 0.95, 100, "hoeffding", 7, 1), {"value": 0.1, "label": "eps"},
        settings={"k": 4, "grid": [0.1, 0.2]}, control=Estimate(0.19, 0.13, 0.25, 0.95, 9), control_caught=True,
        control_true_value=0.2, resolution={"resolution": 0.2, "strengths": [0.12, 0.2]},
        verdict_reason="within the bound", verdict_pvalue=0.004, summary="gap 0.05",
        measurements={"support": math.inf, "slope": math.nan}, figures=["arz-thm1_power.png"] if figures else [],
        notes=["a note"], quick=True, elapsed_s=1.5, versions={"torch": "2"}, threads=1, git_commit="abc",
        code_version="0123", identity={"claim": "arz-thm1", "seed": 7}, with_figures=figures)
    if figures:
        (folder / "arz-thm1_power.png").write_bytes(b"\x89PNG figure bytes")
        r.attach_figures(folder)
    return r


def _write(folder: Path, doc) -> Path:
    path = folder / "arz-thm1.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def _assert_set_aside(path: Path, original: bytes) -> CorruptResult:
    with pytest.raises(CorruptResult) as exc:
        read_result(path)
    message = str(exc.value)
    assert "\n" not in message and path.name in message and "set aside as" in message, message
    assert not path.exists() and exc.value.path.read_bytes() == original  # renamed, nothing lost
    assert exc.value.path.name.startswith("arz-thm1.json.corrupt-")
    return exc.value


def _paths(doc, prefix=()):
    """Every (path, value) inside a JSON document (dict keys and list indices)."""
    yield prefix, doc
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*prefix, i))


def _replace(doc, path, value):
    if not path:
        return value
    out = json.loads(json.dumps(doc))
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def test_an_intact_result_reads_back_as_written(tmp_path):
    """The control of every class below: the same file, unaltered, is accepted and equal field by field."""
    r = _result(folder=tmp_path)
    path = write_json_atomic(tmp_path / "arz-thm1.json", r.to_dict())
    back = read_result(path)
    assert path.exists() and back.to_dict() == r.to_dict() and back.figure_digests == r.figure_digests


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_edit_with_the_digest_kept_is_set_aside(data):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        doc = _result(folder=folder).to_dict()
        paths = [p for p, _ in _paths(doc) if p and p[0] != "digest"]
        where = data.draw(st.sampled_from(paths), label="field")
        old = dict(_paths(doc))[where]
        new = data.draw(JSON_VALUES.filter(lambda v: json.dumps(v) != json.dumps(old)), label="new value")
        path = _write(folder, _replace(doc, where, new))
        _assert_set_aside(path, path.read_bytes())


WRONG_TYPES = [  # (field, value): well-formed JSON of the wrong type or out of range, digest recomputed
    ("notes", None), ("notes", "a note"), ("notes", [1, 2]), ("bound", "abc"), ("bound", None), ("seed", "0"),
    ("seed", -3), ("seed", 2**63), ("seed", 1.5), ("seed", True), ("control_caught", "yes"), ("control_caught", 1),
    ("elapsed_s", "abc"), ("elapsed_s", -1), ("elapsed_s", True), ("claim", "no-such-claim"), ("claim", None),
    ("verdict", "maybe"), ("verdict", None), ("params", []), ("settings", "k=4"), ("measurements", None),
    ("identity", None), ("figures", "arz-thm1_power.png"), ("figures", [None]), ("threads", -1),
    ("threads", "1"), ("quick", "true"), ("quick", None), ("verdict_pvalue", 1.5), ("verdict_pvalue", "0.004"),
    ("control_true_value", "abc"), ("control_true_value", [0.2]), ("resolution", []), ("git_commit", 5),
    ("source", None), ("measured", None), ("measured", []), ("measured", {"estimate": 0.1}),
    ("control", "x"), ("with_figures", "yes"), ("figure_digests", []), ("figure_digests", {"a.png": 5}),
    ("code_version", None), ("verdict_reason", 3), ("summary", []), ("versions", "2"),
    (("measured", "n"), "10"), (("measured", "n"), -1), (("measured", "estimate"), "abc"),
    (("measured", "estimate"), True), (("measured", "ci_low"), 0.5), (("measured", "confidence"), 7),
    (("measured", "sides"), 3), (("measured", "seed"), "7"), (("measured", "method"), 1),
    (("measured", "extra"), 1), (("control", "n"), 2.5),
]


@pytest.mark.parametrize(("field", "value"), WRONG_TYPES, ids=[f"{f}={v!r}" for f, v in WRONG_TYPES])
def test_a_wrongly_typed_result_is_set_aside_even_with_a_recomputed_digest(field, value, tmp_path):
    doc = _result(folder=tmp_path).to_dict()
    doc.pop("digest")
    doc = _replace(doc, field if isinstance(field, tuple) else (field,), value)
    doc["digest"] = body_digest(doc)
    path = _write(tmp_path, doc)
    _assert_set_aside(path, path.read_bytes())


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_top_level_value_with_a_recomputed_digest_is_typed_or_set_aside(data):
    """A recomputed digest passes the digest check; then either every field has its declared type or the file
    is set aside. Never another exception."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        doc = _result(folder=folder).to_dict()
        doc.pop("digest")
        key = data.draw(st.sampled_from(sorted(doc)), label="field")
        doc[key] = data.draw(JSON_VALUES, label="value")
        doc["digest"] = body_digest(doc)
        path = _write(folder, doc)
        try:
            r = read_result(path)
        except CorruptResult as exc:
            assert exc.path is not None and not path.exists()
            return
        assert isinstance(r.notes, list) and all(isinstance(n, str) for n in r.notes)
        assert isinstance(r.bound, dict) and isinstance(r.seed, int) and r.seed >= 0
        assert r.control_caught in (True, False, None) and isinstance(r.elapsed_s, float)
        assert isinstance(r.measured, Estimate) and r.claim == "arz-thm1"


def _damaged(tmp_path):
    doc = _result(folder=tmp_path).to_dict()
    text = json.dumps(doc)
    no_digest = dict(doc)
    no_digest.pop("digest")
    without_claim = {k: v for k, v in doc.items() if k not in ("claim", "digest")}
    without_claim["digest"] = body_digest(without_claim)
    return {
        "truncated": text[: len(text) // 2], "empty": "", "not json": "verdict: consistent",
        "a list": "[1, 2]", "a number": "3", "a string": '"arz-thm1"', "null": "null",
        "no digest": json.dumps(no_digest), "digest not a string": json.dumps({**no_digest, "digest": 5}),
        "another digest": json.dumps({**no_digest, "digest": "sha256:" + "0" * 64}),
        "a key removed": json.dumps(without_claim), "nan token": text.replace('"elapsed_s": 1.5', '"elapsed_s": NaN'),
        "1e400": text.replace('"elapsed_s": 1.5', '"elapsed_s": 1e400'),
        "deep nesting": '{"claim": ' + "[" * 100000 + "]" * 100000 + "}",
        "not utf-8": b'{"claim": "\xff\xfe"}',
        "duplicate key": text[:-1] + ', "verdict": "refuted"}',
    }


DAMAGE = ["truncated", "empty", "not json", "a list", "a number", "a string", "null", "no digest",
          "digest not a string", "another digest", "a key removed", "nan token", "1e400", "deep nesting",
          "not utf-8", "duplicate key"]


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_result_file_is_set_aside(damage, tmp_path):
    content = _damaged(tmp_path)[damage]
    path = tmp_path / "arz-thm1.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    _assert_set_aside(path, path.read_bytes())


@pytest.mark.parametrize("change", ["figure altered", "figure removed", "figure digest edited", "figure renamed",
                                    "figure outside the folder"])
def test_a_result_whose_figure_changed_is_set_aside(change, tmp_path):
    doc = _result(folder=tmp_path).to_dict()
    figure = tmp_path / "arz-thm1_power.png"
    if change == "figure altered":
        figure.write_bytes(figure.read_bytes() + b"!")
    elif change == "figure removed":
        figure.unlink()
    else:
        doc.pop("digest")
        if change == "figure digest edited":
            doc["figure_digests"]["arz-thm1_power.png"] = "sha256:" + "1" * 64
        else:
            name = "other.png" if change == "figure renamed" else "../arz-thm1_power.png"
            doc["figures"] = [name]
            doc["figure_digests"] = {name: doc["figure_digests"]["arz-thm1_power.png"]}
        doc["digest"] = body_digest(doc)
    path = _write(tmp_path, doc)
    _assert_set_aside(path, path.read_bytes())


def test_a_result_in_the_wrong_place_is_set_aside(tmp_path):
    """A file named after another claim, or in the folder of another seed, is not that claim's result."""
    doc = _result(folder=tmp_path).to_dict()
    other = tmp_path / "arz-thm3.json"
    other.write_text(json.dumps(doc))
    with pytest.raises(CorruptResult, match="holds claim 'arz-thm1', not 'arz-thm3'"):
        read_result(other)
    seed_dir = tmp_path / "seeds" / "seed-8"
    seed_dir.mkdir(parents=True)
    (seed_dir / "arz-thm1_power.png").write_bytes((tmp_path / "arz-thm1_power.png").read_bytes())
    moved = seed_dir / "arz-thm1.json"
    moved.write_text(json.dumps(doc))
    with pytest.raises(CorruptResult, match="holds seed 7, not 8"):
        read_result(moved)


def test_the_report_is_never_built_from_an_altered_result(tmp_path):
    """An intact result and an edited one (inconclusive -> consistent, digest kept): the report shows the first,
    lists the second under "Files set aside", and keeps its bytes."""
    good = ClaimResult("arz-thm3", "s", "holds", {}, 0, Estimate.exact(0.0), {"value": 0.0}, with_figures=False)
    write_json_atomic(tmp_path / "arz-thm3.json", good.to_dict())
    edited = _result(figures=False).to_dict()
    edited.update(seed=0, verdict="inconclusive", verdict_pvalue=None)
    edited["digest"] = body_digest({k: v for k, v in edited.items() if k != "digest"})
    edited["verdict"] = "consistent"  # the hand edit
    (tmp_path / "arz-thm1.json").write_text(json.dumps(edited))
    report = write_report(tmp_path).read_text()
    assert "| `arz-thm3` |" in report and "| `arz-thm1` |" not in report and "## `arz-thm1`" not in report
    assert "Files set aside" in report and "does not match its digest" in report
    assert json.loads((tmp_path / "arz-thm1.json.corrupt-1").read_text())["verdict"] == "consistent"


# ---- trial records ----------------------------------------------------------------------------------------------

def _square(config, seed):
    return {"value": config["x"] ** 2 + seed, "nan": math.nan}


CONFIGS = [({"x": x}, 1) for x in range(4)]


def _log(folder: Path) -> tuple[Path, list[str]]:
    path = folder / "sweep.trials.jsonl"
    run_trials(_square, CONFIGS, path=path, progress=False)
    return path, path.read_text().splitlines()


def _edit_line(line: str, how: str, value) -> str:
    row = json.loads(line)
    if how == "result":
        row["result"]["value"] = value
    elif how == "key":
        row["key"] = row["key"].replace('"seed": 1', '"seed": 2')
    elif how == "digest":
        row["digest"] = "sha256:" + "2" * 64
    elif how == "no digest":
        row.pop("digest")
    elif how == "extra field":
        row["note"] = "hand"
    elif how == "torn":
        return line[: len(line) // 2]
    elif how == "garbage":
        return "not a record"
    elif how == "not an object":
        return json.dumps([row])
    elif how == "result not a dict":
        row["result"] = [1]
        row["digest"] = body_digest({"key": row["key"], "result": row["result"]})
    return json.dumps(row)


EDITS = ["result", "key", "digest", "no digest", "extra field", "torn", "garbage", "not an object",
         "result not a dict"]


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(how=st.sampled_from(EDITS), which=st.integers(0, 3), value=st.floats(allow_nan=False) | st.integers())
@example(how="result", which=0, value=0.5)  # +0.5 on an estimate turned a verdict in 0.1 s, reused silently
def test_an_altered_trial_record_is_set_aside_and_its_trial_runs_again(how, which, value):
    with tempfile.TemporaryDirectory() as tmp:
        path, lines = _log(Path(tmp))
        original = lines[which]
        lines[which] = _edit_line(original, how, value)
        path.write_text("\n".join(lines) + "\n")
        said, calls = [], []

        def counting(config, seed):
            calls.append(config["x"])
            return _square(config, seed)

        results = run_trials(counting, CONFIGS, path=path, resume=True, progress=False, log=said.append)
        assert calls == [which]  # only the altered record's trial ran again
        assert [r["value"] for r in results] == [x * x + 1 for x in range(4)]
        aside = path.with_name(path.name + ".corrupt-1")
        assert aside.read_text() == lines[which] + "\n"  # the edited line is kept, apart
        assert any("set aside as sweep.trials.jsonl.corrupt-1" in s for s in said), said
        assert any(f"reused 3 of 4 trial record(s) from {path}" in s for s in said), said


def test_intact_trial_records_are_all_reused_and_the_run_says_so(tmp_path):
    """The control of the class above: nothing altered, nothing runs, nothing is set aside."""
    path, _ = _log(tmp_path)
    said = []
    results = run_trials(lambda c, s: pytest.fail("ran again"), CONFIGS, path=path, progress=False, log=said.append)
    assert [r["value"] for r in results] == [x * x + 1 for x in range(4)] and results[0]["nan"] is None
    assert said == [f"trials: reused 4 of 4 trial record(s) from {path} (same config, seed and code version, "
                    "digest intact)"]
    assert not list(tmp_path.glob("*.corrupt-*"))
