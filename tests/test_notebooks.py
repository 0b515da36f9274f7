"""The teaching notebooks as stored: executed in the full setting with their outputs, one picture each, their run
time shown, and prose that agrees with the stored numbers where it states them (`make test` executes them in the
fast setting through nbmake; this file reads what is stored)."""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
# The notebooks of one idea and one picture (10, the audit, shows the audit command's own figures).
ONE_PICTURE = ("01", "02", "03", "04", "05", "06", "07", "08", "09")
# Pictures that plot data series name them in a legend (01 draws cells and images, labelled in its titles).
LEGEND = ("02", "03", "04", "05", "06", "07", "08", "09")
FAST_SWITCH = 'FAST = os.environ.get("GANLIMITS_FAST") == "1"'


def _load(number: str) -> dict:
    (path,) = NOTEBOOKS.glob(f"{number}_*.ipynb")
    return json.loads(path.read_text(encoding="utf-8"))


def _outputs(nb: dict) -> list[dict]:
    return [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]


def _text(nb: dict, kind: str) -> str:
    if kind == "markdown":
        return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return "".join("".join(o.get("text", "")) for o in _outputs(nb))


def _prose(nb: dict) -> str:
    """The markdown with its line breaks and runs of spaces as single spaces (sentences span lines)."""
    return " ".join(_text(nb, "markdown").split())


def _r(x: str, digits: int) -> str:
    """A printed number rounded as the prose quotes it (the prose writes minus signs as U+2212)."""
    return f"{float(x):.{digits}f}".replace("-", "\u2212")


def test_notebook_numbers_are_unique_and_below_ten_or_the_audit():
    names = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
    numbers = [name[:2] for name in names]
    assert len(numbers) == len(set(numbers)) and all(n.isdigit() for n in numbers), names
    assert all(int(n) < 10 or name.startswith("10_audit") for n, name in zip(numbers, names, strict=True)), names


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name[:2])
def test_the_first_code_cell_chooses_the_setting_from_the_environment(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert FAST_SWITCH in "".join(first["source"]), f"{path.name}: the first code cell must read {FAST_SWITCH}"


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


@pytest.mark.parametrize("number", LEGEND)
def test_the_picture_has_a_legend(number):
    nb = _load(number)
    (cell,) = [c for c in nb["cells"] if c["cell_type"] == "code"
               and any("image/png" in o.get("data", {}) for o in c.get("outputs", []))]
    assert "legend(" in "".join(cell["source"]), f"notebook {number}: the picture's cell draws no legend"


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


def test_prose_of_02_and_03_agrees_with_their_stored_outputs():
    # 02: the planted violations caught are exactly those from the rate the prose names
    nb = _load("02")
    planted = re.findall(r"planted, rate (\S+): gap \S+ .*-> (caught|missed)", _text(nb, "output"))
    first = float(re.search(r"from rate (\S+) on", _prose(nb))[1])
    assert planted and [o == "caught" for _, o in planted] == [float(r) >= first for r, _ in planted], planted
    # 03: the headline interval is the Neyman interval, by name, in the prose and the stored outputs
    nb = _load("03")
    text = _text(nb, "markdown") + _text(nb, "output")
    assert "lr_calibrated" not in text and "calibrated likelihood-ratio" not in text
    assert re.search(r"neyman: covers m .*<- headline", _text(nb, "output")) and "Neyman interval" in _prose(nb)


def test_prose_of_the_training_notebooks_agrees_with_their_stored_outputs():
    # 05: the GAN's mode counts and the reverse-KL ranges of both methods
    nb = _load("05")
    rows = re.findall(r"^(GAN|PacGAN2) +\d+ +[\d,]+ +(\d)/8 +[\d.]+ +([\d.]+)", _text(nb, "output"), re.M)
    assert len(rows) >= 4, rows
    kl = {m: sorted(float(k) for name, _, k in rows if name == m) for m in ("GAN", "PacGAN2")}
    modes = [int(n) for name, n, _ in rows if name == "GAN"]
    prose = _prose(nb)
    said = re.search(r"captured ([\d, and]+) of the 8 modes", prose)[1]
    assert [int(n) for n in re.findall(r"\d", said)] == modes, (said, modes)
    assert (f"{_r(kl['GAN'][0], 2)}–{_r(kl['GAN'][-1], 2)} nats for the GAN, against "
            f"{_r(kl['PacGAN2'][0], 3)}–{_r(kl['PacGAN2'][-1], 3)} for PacGAN2") in prose
    # 06: the single GAN's gaps and the mixture's gap intervals, as quoted
    nb = _load("06")
    gaps = re.findall(r"k = (\d), seed \d: gap (\S+) \[(\S+), (\S+)\]", _text(nb, "output"))
    prose = _prose(nb)
    assert {k for k, *_ in gaps} == {"1", "5"}, gaps
    assert all(f"gains about {_r(e, 2)}" in prose for k, e, _, _ in gaps if k == "1")
    assert all(f"{_r(e, 3)} [{_r(lo, 3)}, {_r(hi, 3)}]" in prose for k, e, lo, hi in gaps if k == "5")
    # 08: chance is 1/25 and printed as such; the probe's accuracy and the gap are quoted as stored
    nb = _load("08")
    printed = _text(nb, "output")
    accuracy, chance = re.search(r"accuracy (\S+) \[.*against chance (\S+);", printed).groups()
    gap = re.search(r"joint attackers: (\S+) \[(\S+), (\S+)\]", printed).groups()
    prose = _prose(nb)
    assert float(chance) == pytest.approx(1 / 25) and "$1/25 = 0.04$" in prose
    assert f"accuracy {accuracy}" in prose and f"{_r(gap[0], 3)} [{_r(gap[1], 3)}, {_r(gap[2], 3)}]" in prose
    home, away, missed = re.search(r"own mode for (\S+) of the draws; modes whose draws mostly land elsewhere: "
                                   r"(.*); modes without a sharp sample of G: (.*)$", printed, re.M).groups()
    n_away, n_missed = away.count("("), missed.count("(")
    assert set(re.findall(r"\(.*?\)", missed)) <= set(re.findall(r"\(.*?\)", away)), (missed, away)
    assert f"only {home} of the draws come back" in prose
    assert f"the draws of {n_away} of the 25 modes mostly land on another" in prose
    assert f"{n_missed} of them modes the generator has no sharp sample of" in prose
    # 09: the fitted slope and the target's support, as quoted; "falls" only with a negative slope
    nb = _load("09")
    printed = _text(nb, "output")
    slope = re.search(r"over the runs in regime: (\S+)", printed)[1]
    support = re.search(r"target's own draws: support (\S+ \[\S+, \S+\])", printed)[1]
    prose = _prose(nb)
    assert f"slope {_r(slope, 2)}" in prose and support in prose
    assert ("support *falls*" in prose) == (float(slope) < 0)
