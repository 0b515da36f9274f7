"""The code of ``docs/audit.md`` runs as written: the plain-PyTorch BiGAN trains (a few steps here), the three
one-instrument scripts take at most 10 lines each and run on its numpy and torch outputs, and so do the CLI commands
and the Python audit."""

import dataclasses
import json
import os
import re
import runpy
import shlex
import sys
from pathlib import Path

import numpy as np
import pytest

from ganlimits.verify import AuditSettings
from ganlimits.verify import _audit as audit_module
from ganlimits.verify._cli import main
from ganlimits.verify.claims.arz17.thm1 import Settings

PAGE = Path(__file__).resolve().parents[2] / "docs" / "audit.md"
TEXT = PAGE.read_text(encoding="utf-8")
BLOCKS = {block.splitlines()[0].split(":")[0].lstrip("# "): block
          for block in re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)}
COMMANDS = [line for block in re.findall(r"```bash\n(.*?)```", TEXT, flags=re.S) for line in block.splitlines()
            if line.startswith("ganlimits ")]
# The docs' own sizes, made small enough for the fast tier (the code is otherwise run exactly as printed).
FAST = {"STEPS = 2000": "STEPS = 30", "N_SAVED = 5000": "N_SAVED = 600", "torch.randn(5000, 2)": "torch.randn(600, 2)",
        "settings=Settings.quick()": "settings=SMALL_ATTACK"}
SMALL = AuditSettings(max_size=256, repeats=10, calibration_draws=200, reference_n=600, nnd_steps=20,
                      attack_n_train=300, attack_n_test=600, probe_n=300)


def _run(name: str, folder: Path) -> None:
    code = BLOCKS[name]
    for old, new in FAST.items():
        code = code.replace(old, new)
    path = folder / f"{name}"
    path.write_text(code)
    sys.modules.pop("bigan", None)  # the model file reloads its weights in every script, as a user's process would
    attack = Settings.quick().attack
    small_attack = dataclasses.replace(attack, n_train=300, n_test=600, steps=5, batch_size=300)
    runpy.run_path(str(path), init_globals={"SMALL_ATTACK": small_attack}, run_name="__main__")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("audit-docs")
    (folder / "bigan.py").write_text(BLOCKS["bigan.py"])
    old_path, old_cwd = list(sys.path), Path.cwd()
    sys.path.insert(0, str(folder))
    os.chdir(folder)
    try:
        _run("train.py", folder)
        yield folder
    finally:
        os.chdir(old_cwd)
        sys.path[:] = old_path
        sys.modules.pop("bigan", None)


def test_the_page_holds_the_blocks_it_describes():
    assert {"bigan.py", "train.py", "audit_it.py", "attack.py", "support.py", "modes.py"} <= set(BLOCKS)
    assert len(COMMANDS) == 3 and all("--samples fake.npy" in c for c in COMMANDS)
    for name in ("attack.py", "support.py", "modes.py"):
        assert len(BLOCKS[name].strip().splitlines()) <= 10, name


def test_the_examples_of_audit_help_are_the_commands_run_here(capsys):
    with pytest.raises(SystemExit):
        main(["audit", "--help"])
    examples = [line.strip() for line in capsys.readouterr().out.split("examples:")[1].splitlines() if line.strip()]
    assert examples == COMMANDS


@pytest.mark.parametrize("name", ["attack.py", "support.py", "modes.py", "audit_it.py"])
def test_each_script_runs_on_the_trained_model(name, trained, capsys, monkeypatch):
    monkeypatch.chdir(trained)
    monkeypatch.setitem(audit_module.audit.__kwdefaults__, "settings", SMALL)
    _run(name, trained)
    out = capsys.readouterr().out
    assert {"attack.py": "BiGAN gap:", "support.py": "[", "modes.py": "modes,",
            "audit_it.py": "support (birthday test"}[name] in out


@pytest.mark.parametrize("index", [0, 1, 2])
def test_each_command_runs(index, trained, capsys, monkeypatch):
    monkeypatch.chdir(trained)
    monkeypatch.syspath_prepend(str(trained))
    monkeypatch.setitem(audit_module.audit.__kwdefaults__, "settings", SMALL)
    args = shlex.split(COMMANDS[index])[1:]
    assert main(args) == 0
    out = capsys.readouterr().out
    if "--json" in args:
        doc = json.loads(out)
        assert {"support", "neural_net_distance", "prdc"} <= set(doc) and "modes" not in doc
    else:
        assert "support (birthday test" in out
    if "--out" in args:
        assert (trained / "audit-out" / "audit.json").is_file()
        assert np.load(trained / "fake.npy").shape == (600, 2)
