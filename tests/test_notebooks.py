"""The teaching notebooks as stored: executed in the full setting with their outputs, one picture each, their run
time shown, and prose that agrees with the stored numbers where it states them (`make test` executes them in the
fast setting through nbmake; this file reads what is stored)."""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
# The notebooks of one idea and one picture; 05 and 06 (the training lab) are checked once they are split.
ONE_PICTURE = ("01", "02", "03", "04", "07")


def _load(number: str) -> dict:
    (path,) = NOTEBOOKS.glob(f"{number}_*.ipynb")
    return json.loads(path.read_text(encoding="utf-8"))


def _outputs(nb: dict) -> list[dict]:
    return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]


def _text(nb: dict, kind: str) -> str:
    if kind == "markdown":
        return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return "".join("".join(o.get("text", "")) for o in _outputs(nb))


def test_notebook_numbers_are_unique_and_below_ten_or_the_audit():
    names = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    numbers = [name[:2] for name in names]
    assert len(numbers) == len(set(numbers)) and all(n.isdigit() for n in numbers), names
    assert all(int(n) < 10 or name.startswith("10_audit") for n, name in zip(numbers, names, strict=True)), names


@pytest.mark.parametrize("number", ONE_PICTURE)
def test_stored_in_the_full_setting_with_one_picture_and_its_run_time(number):
    nb = _load(number)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c.get("execution_count") for c in code), "every code cell is stored executed"
    assert not [o for o in _outputs(nb) if o["output_type"] == "error"]
    pictures = [o for o in _outputs(nb) if "image/png" in o.get("data", {})]
    assert len(pictures) == 1, f"notebook {number}: {len(pictures)} pictures, one idea has one"
    printed = _text(nb, "output")
    assert printed.lstrip().startswith("full setting"), "stored outputs come from the full setting"
    assert re.search(r"run time: [\d.]+ s wall, [\d.]+ s CPU \(full setting\)\s*$", printed), printed[-200:]
    assert "*Fast setting*" in _text(nb, "markdown"), "the notebook says what changes in the fast setting"


def test_prose_agrees_with_the_stored_numbers():
    # 02: "every image thousands of times" — the stored count of copies per base image
    nb = _load("02")
    copies = float(re.search(r"each about ([\d,]+) times", _text(nb, "output"))[1].replace(",", ""))
    assert "thousands of times" in _text(nb, "markdown") and 1_000 <= copies < 1_000_000
    # 01: the network and its fast path agree to rounding, not "equal": exactly 0 off the ramps, tiny on them
    nb = _load("01")
    off, on = map(float, re.search(r"largest difference (\S+) off the ramps, (\S+) on them", _text(nb, "output"))
                  .groups())
    assert off == 0 and 0 <= on < 1e-9 and "agree to floating-point rounding" in _text(nb, "markdown")
    # 07: the prose names no m at which the distance stops seeing the collapse; the stored output does
    nb = _load("07")
    assert re.search(r"smallest m whose neural-net distance interval reaches 0: \d+", _text(nb, "output"))
    assert "in the hundreds" not in _text(nb, "markdown")
    # 04: the run of the picture with first-order steps ends in a failure, as the prose says; the optimal one converges
    nb = _load("04")
    outcome = re.search(r"outcomes of the two runs: optimal discriminator (\S+); first-order (\S+)",
                        _text(nb, "output"))
    assert outcome[1] == "converged" and outcome[2] in ("mode-collapse", "vanishing-gradient")
    assert "never settle on the target" in _text(nb, "markdown")
