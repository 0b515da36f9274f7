"""``ganlimits audit`` and ``ganlimits.verify.audit`` on saved files with known answers, and every class of bad file,
shape and model refused as a usage error before anything is written."""

import json
import math

import numpy as np
import pytest
import torch

from ganlimits.verify import AuditSettings, audit
from ganlimits.verify._cli import main
from ganlimits.verify.lab import lab_target

SMALL = AuditSettings(max_size=512, repeats=10, calibration_draws=200, reference_n=600, nnd_steps=20,
                      attack_n_train=300, attack_n_test=600, probe_n=300)


@pytest.fixture
def light(monkeypatch):
    """The CLI as it is, with the audit's lighter settings (the answers checked do not depend on them)."""
    from ganlimits.verify import _audit

    monkeypatch.setitem(_audit.audit.__kwdefaults__, "settings", SMALL)


def _run(capsys, *args):
    rc = main(["audit", *map(str, args)])
    out = capsys.readouterr()
    return rc, out.out, out.err


def _ring_modes(tmp_path, modes: int, n: int = 600):
    t = lab_target("ring")
    x, y = t.sample(4 * n, generator=torch.Generator().manual_seed(1))
    path = tmp_path / "five.npy"
    np.save(path, x[y < modes][:n].numpy().astype(np.float32))  # float32, as a user saves them
    return path


def test_five_of_eight_ring_modes_give_five_modes_at_high_quality(tmp_path, capsys, light):
    """Saved draws of 5 of the ring's 8 components: 5 modes, >= 95% high quality (each draw is within 3 std of its
    mean with probability 1 - exp(-4.5) = 0.989; n = 600, seed 1), and the JSON's top level as documented."""
    rc, out, err = _run(capsys, "--samples", _ring_modes(tmp_path, 5), "--target", "ring", "--json")
    assert rc == 0
    doc = json.loads(out)
    assert doc["modes"] == 5 and doc["high_quality"] >= 0.95 and doc["reverse_kl"] > 0
    assert {"estimate", "ci_low", "ci_high"} <= set(doc["support"])
    assert doc["neural_net_distance"]["reference"].endswith("draws of the target")
    assert set(doc["prdc"]) >= {"precision", "recall", "density", "coverage"}  # prdc is in the dev extra


def test_a_pool_of_forty_points_drawn_with_replacement_gives_an_interval_holding_forty(tmp_path, capsys):
    """2000 saved draws (with replacement) of a 40-point law, no reference: exact copies are the duplicates; the
    Neyman (likelihood-ordered) interval at 95% (seed 0 of the audit, data seed 3) holds 40. The --out folder gets
    the JSON, the short report and the two figures."""
    idx = np.random.default_rng(3).integers(0, 40, 2000)
    np.save(tmp_path / "pool.npy", np.stack([np.cos(idx), np.sin(idx)], axis=1))
    rc, out, _ = _run(capsys, "--samples", tmp_path / "pool.npy", "--out", tmp_path / "out")
    assert rc == 0 and "support (birthday test" in out
    doc = json.loads((tmp_path / "out" / "audit.json").read_text())
    assert doc["support"]["ci_low"] <= 40 <= doc["support"]["ci_high"]
    assert not doc["support"]["bounded_by_pool"] and "modes" not in doc
    assert {"AUDIT.md", "support.png", "samples.png"} <= {p.name for p in (tmp_path / "out").iterdir()}
    assert "support" in (tmp_path / "out" / "AUDIT.md").read_text()


def test_a_continuous_law_does_not_come_out_as_a_small_support(tmp_path, capsys, light):
    """600 saved draws of N(0, I_2): no duplicate exists, the support interval is [N_0, inf) with N_0 far above
    the pool, and the result says the pool bounds what the test saw."""
    np.save(tmp_path / "normal.npy", np.random.default_rng(4).normal(size=(600, 2)))
    rc, out, _ = _run(capsys, "--samples", tmp_path / "normal.npy", "--json")
    support = json.loads(out)["support"]
    assert rc == 0 and support["ci_high"] == "inf" and support["ci_low"] > 600 and support["bounded_by_pool"]
    assert "pool" in support["note"]


# ---- usage errors: one line naming the flag, exit 2, nothing written ------------------------------------------

GOOD = np.random.default_rng(0).normal(size=(50, 2))
MODEL = """
import torch
G = torch.nn.Linear(2, 2)
E = torch.nn.Linear(2, 2)
WIDE = torch.nn.Linear(2, 3)
def BROKEN(x):
    raise RuntimeError("boom")
NUMBER = 3
"""


def _files(tmp_path):
    np.save(tmp_path / "good.npy", GOOD)
    np.save(tmp_path / "d3.npy", np.zeros((50, 3)))
    np.save(tmp_path / "flat.npy", np.zeros(50))
    np.save(tmp_path / "one.npy", np.zeros((1, 2)))
    np.save(tmp_path / "cube.npy", np.zeros((5, 2, 2)))
    np.save(tmp_path / "complex.npy", np.ones((5, 2)) * 1j)
    np.save(tmp_path / "nan.npy", np.full((5, 2), np.nan))
    np.save(tmp_path / "objects.npy", np.full((5, 2), 10**30, dtype=object), allow_pickle=True)
    np.savez(tmp_path / "two.npz", a=GOOD, b=GOOD)
    (tmp_path / "junk.npy").write_bytes(b"not an array")
    (tmp_path / "junk.pt").write_bytes(b"not a tensor")
    torch.save({"a": torch.zeros(3, 2), "b": torch.zeros(3, 2)}, tmp_path / "dict.pt")
    (tmp_path / "samples.csv").write_text("1,2\n")
    (tmp_path / "models.py").write_text(MODEL)
    (tmp_path / "raises.py").write_text("raise ImportError('no such package')\n")
    (tmp_path / "afile").write_text("x")


BAD = [
    (["--samples", "missing.npy"], "--samples"), (["--samples", "samples.csv"], "--samples"),
    (["--samples", "junk.npy"], "--samples"), (["--samples", "junk.pt"], "--samples"),
    (["--samples", "two.npz"], "--samples"), (["--samples", "dict.pt"], "--samples"),
    (["--samples", "objects.npy"], "--samples"), (["--samples", "flat.npy"], "--samples"),
    (["--samples", "one.npy"], "--samples"), (["--samples", "cube.npy"], "--samples"),
    (["--samples", "complex.npy"], "--samples"), (["--samples", "nan.npy"], "--samples"),
    (["--samples", "good.npy", "--reference", "d3.npy"], "--reference"),
    (["--samples", "good.npy", "--reference", "nan.npy"], "--reference"),
    (["--samples", "good.npy", "--target", "mixture_1200d"], "--target"),
    (["--samples", "good.npy", "--target", "moon"], "--target"),
    (["--samples", "good.npy", "--generator", "models.py"], "--generator"),
    (["--samples", "good.npy", "--generator", "nofile.py:G"], "--generator"),
    (["--samples", "good.npy", "--generator", "raises.py:G"], "--generator"),
    (["--samples", "good.npy", "--generator", "models.py:H"], "--generator"),
    (["--samples", "good.npy", "--generator", "models.py:NUMBER"], "--generator"),
    (["--samples", "good.npy", "--generator", "models.py:WIDE"], "--generator"),
    (["--samples", "good.npy", "--generator", "models.py:BROKEN", "--code-dim", "2"], "--generator"),
    (["--samples", "good.npy", "--generator", "models.py:BROKEN"], "--code-dim"),
    (["--samples", "good.npy", "--encoder", "models.py:BROKEN"], "--encoder"),
    (["--samples", "good.npy", "--encoder", "models.py:WIDE", "--code-dim", "2"], "--code-dim"),
    (["--samples", "good.npy", "--code-dim", "-1"], "--code-dim"),
    (["--samples", "good.npy", "--out", "afile"], "--out"),
    (["--samples", "good.npy", "--out", "afile/sub"], "--out"),
    ([], "--samples"),
]


@pytest.mark.parametrize(("args", "flag"), BAD, ids=[f"{i}-{f}" for i, (_, f) in enumerate(BAD)])
def test_bad_files_shapes_and_models_are_usage_errors_naming_the_flag(args, flag, tmp_path, capsys, monkeypatch):
    _files(tmp_path)
    monkeypatch.chdir(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    rc, out, err = _run(capsys, *args, "--json") if "--out" in args else _run(capsys, *args, "--out", "new-out")
    assert rc == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0] and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, no --out folder made


# ---- the Python API --------------------------------------------------------------------------------------------


def test_audit_of_a_model_pair_reports_the_bigan_gap_and_the_label_probe():
    """A generator that ignores its code and an encoder that returns x: the verdict class sees the joint laws
    differ (gap lower limit > 0.1) and the probe reads the mode from the codes (one-sided binomial test, alpha 0.05,
    n_test = 300, seed 0)."""
    t = lab_target("ring")
    G = lambda z: t.sample(z.shape[0], generator=torch.Generator().manual_seed(9))[0]  # noqa: E731
    x = G(torch.zeros(600, 2))
    r = audit(x, target=t, generator=G, encoder=lambda x: x, code_dim=2, rng=0, settings=SMALL)
    doc = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    assert doc["bigan_gap"]["ci_low"] > 0.1 and doc["bigan_gap"]["K"] == 20
    assert doc["label_probe"]["detected"] and doc["label_probe"]["chance"] == pytest.approx(1 / 8)
    assert doc["support"]["source"] == "fresh draws of the generator" and doc["support"]["pool_size"] is None
    assert r.modes == doc["modes"] and r.high_quality == doc["high_quality"]


def test_a_reference_pool_gives_the_attack_disjoint_real_samples():
    ref = np.random.default_rng(0).normal(size=(300, 2))
    r = audit(ref[:100], reference=ref, generator=lambda z: z, encoder=lambda x: x, rng=1, settings=SMALL)
    assert r.bigan_gap is not None and r.label_probe is None
    assert any("300 rows" in note for note in r.notes) and any("label probe" in note for note in r.notes)
    assert r.bigan_gap["n"] == 200  # 100 training and 200 test pairs: disjoint, together the whole reference


@pytest.mark.parametrize(("kwargs", "name"), [
    (dict(samples=np.zeros((5, 2)), target="moon"), "target"),
    (dict(samples=np.zeros((5, 2)), target=object()), "target"),
    (dict(samples=np.zeros((5, 2)), reference=np.zeros((5, 3))), "reference"),
    (dict(samples=np.zeros((5, 2)), generator=lambda z: z), "code_dim"),
    (dict(samples=np.zeros((5, 2)), generator=torch.nn.Linear(2, 2), code_dim=0), "code_dim"),
    (dict(samples=np.zeros((5, 2)), settings=dict(repeats=3)), "settings"),
    (dict(samples=np.zeros((5, 2)), rng=-5), "rng"),
    (dict(samples=torch.zeros(5, 2, device="meta")), "samples"),
])
def test_bad_audit_arguments_are_named(kwargs, name):
    samples = kwargs.pop("samples")
    with pytest.raises(ValueError, match=name):
        audit(samples, **kwargs)


@pytest.mark.parametrize(("field", "value"), [("repeats", 1), ("max_size", 0), ("nnd_hidden", ()),
                                              ("confidence", 1.0), ("calibration_draws", 10), ("prdc_k", 1.5)])
def test_audit_settings_refuse_bad_values_by_name(field, value):
    with pytest.raises(ValueError, match=field):
        AuditSettings(**{field: value})


def test_the_audit_records_its_seed_and_is_reproducible():
    x = np.random.default_rng(5).integers(0, 30, size=(400, 1)).astype(float)
    a, b = audit(x, rng=3, settings=SMALL), audit(x, rng=torch.Generator().manual_seed(8), settings=SMALL)
    assert a.seed == 3 and audit(x, rng=3, settings=SMALL).support == a.support
    assert b.seed != 8 and math.isfinite(a.support["estimate"])


@pytest.mark.slow
def test_coverage_of_the_support_interval_on_saved_pools():
    """Coverage of the audit's 95% support interval on a finite pool: 100 files of 2000 draws (with replacement) of a
    40-point law (data seeds 0..99, audit rng = the data seed), drawn without replacement by the audit. Measured 0.92
    (the pool's own multiplicities and the reuse of one pool across repeats cost a few points of the nominal 0.95);
    the assertion is the one-sided lower limit that still says "about 95%": >= 0.85."""
    hits = 0
    for seed in range(100):
        idx = np.random.default_rng(seed).integers(0, 40, 2000)
        s = audit(np.stack([np.cos(idx), np.sin(idx)], axis=1), rng=seed).support
        hits += s["ci_low"] <= 40 <= s["ci_high"]
    assert hits >= 85, f"coverage {hits}/100"
