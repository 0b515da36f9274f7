"""Every command example in the README and in every ``--help`` text runs.

The examples are extracted, not copied: lines ``    ganlimits ...`` of the README's code blocks and ``  ganlimits
...`` of the help texts of ``ganlimits``, each command and each ``bound`` subcommand. How each is run:

- ``list`` and ``bound``: run in full (they are cheap), exit 0 and values printed.
- ``verify`` and ``reproduce``: in the fast tier, run up to the start of computation: every argument, claim id,
  ``--set`` override, scheduler and output folder is checked by the real code, and the claim runner is replaced by a
  recorder that checks it was asked for the claims and settings the command names (``--out`` and relative folders
  land in a temporary folder; a ``--scheduler`` address is replaced by a real local Dask scheduler). In the slow tier
  the ``verify`` examples and the ``reproduce --only`` example run for real (``--no-figures``, temporary folder);
  the two ``reproduce`` examples without ``--only`` (every claim, one of them in the full setting on a cluster) stay
  checked up to the start of computation only.
- Synopsis lines (with ``[...]``) are not commands: each option they name must exist in that command's help.
- Lines that are not ``ganlimits`` commands (``make``, ``pip``, ``dask``) are not run.
"""

import io
import re
import shlex
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from ganlimits.verify._cli import main

README = Path(__file__).resolve().parents[2] / "README.md"


def _help(argv: list[str]) -> str:
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit):
        main([*argv, "--help"])
    return out.getvalue()


def _help_texts() -> dict[str, str]:
    from ganlimits.verify._cli_bound import BOUND_COMMANDS

    texts = {"ganlimits --help": _help([])}
    for command in ("list", "verify", "reproduce", "bound"):
        texts[f"ganlimits {command} --help"] = _help([command])
    for name in BOUND_COMMANDS:
        texts[f"ganlimits bound {name} --help"] = _help(["bound", name])
    return texts


def _commands(text: str, indent: str) -> list[str]:
    lines = [line[len(indent):] for line in text.splitlines() if line.startswith(indent + "ganlimits ")]
    return [line.split("  #")[0].strip() for line in lines]


def _examples() -> list[tuple[str, str]]:
    found = [("README.md", c) for c in _commands(README.read_text(), "    ")]
    for where, text in _help_texts().items():
        found += [(where, c) for c in _commands(text, "  ")]
    return found


EXAMPLES = _examples()
COMMANDS = sorted({c for _, c in EXAMPLES if "[" not in c})
SYNOPSES = sorted({c for _, c in EXAMPLES if "[" in c})


def test_the_examples_were_found():
    """The README's four command lines and the help texts' examples (one per bound subcommand at least)."""
    assert len(COMMANDS) >= 10 and len(SYNOPSES) >= 2, EXAMPLES
    assert any(c.startswith("ganlimits verify arz-thm1") and "--set" in c for c in COMMANDS)


@pytest.mark.parametrize("synopsis", SYNOPSES)
def test_every_option_of_a_synopsis_exists(synopsis):
    words = shlex.split(synopsis)
    command = words[1]
    known = _help([command] if command != "bound" else [command, words[2]])
    for option in re.findall(r"--[a-z][a-z-]*", synopsis):
        assert option in known, (option, synopsis)


class Recorder:
    """Stands for the claim runner: records what the command line asked for, computes nothing."""

    def __init__(self) -> None:
        self.calls = []

    def __call__(self, claim_id, config, settings=None, **kwargs):
        from ganlimits.verify import ClaimResult, Estimate

        self.calls.append((claim_id, config, settings))
        return ClaimResult(claim_id, "recorded", "holds", {}, config.seed, Estimate.exact(0.0), {"value": 0.0})


@pytest.fixture(scope="module")
def scheduler():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=None, silence_logs=40) as cluster:
        yield cluster.scheduler_address


def _argv(command: str, tmp_path: Path, scheduler_address: str | None) -> list[str]:
    argv = shlex.split(command)[1:]
    for i, word in enumerate(argv[:-1]):
        if word == "--out":
            argv[i + 1] = str(tmp_path / argv[i + 1])
        if word == "--scheduler":
            argv[i + 1] = scheduler_address
    return argv


@pytest.mark.parametrize("command", COMMANDS, ids=[c.removeprefix("ganlimits ") for c in COMMANDS])
def test_every_documented_command_runs(command, tmp_path, monkeypatch, capsys, request):
    from ganlimits.verify import _registry, claim_settings

    monkeypatch.chdir(tmp_path)  # a default or relative --out lands here
    address = request.getfixturevalue("scheduler") if "--scheduler" in command else None
    argv = _argv(command, tmp_path, address)
    recorder = Recorder()
    monkeypatch.setattr(_registry, "run_claim", recorder)
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0 and "Traceback" not in err, (command, out, err)
    if argv[0] in ("list", "bound"):
        assert out.strip(), command
        return
    named = [w for w in argv[1:] if not w.startswith("-")]
    asked = [cid for cid, _, _ in recorder.calls]
    if argv[0] == "verify":
        assert asked == [argv[1]]
        sets = [argv[i + 1] for i, w in enumerate(argv) if w == "--set"]
        assert recorder.calls[0][2] == claim_settings(argv[1], quick="--quick" in argv, overrides=sets)
    elif "--only" in argv:
        assert sorted(set(asked)) == sorted(argv[argv.index("--only") + 1:]), (asked, named)
    else:
        assert len(set(asked)) >= 10  # every claim of the installation
    assert {c.scheduler for _, c, _ in recorder.calls} == {address}


SLOW = [c for c in COMMANDS if c.split()[1] == "verify" or (c.split()[1] == "reproduce" and "--only" in c)]


@pytest.mark.slow  # real quick runs of the verify and reproduce --only examples: minutes of CPU
@pytest.mark.parametrize("command", SLOW, ids=[c.removeprefix("ganlimits ") for c in SLOW])
def test_every_documented_run_runs_for_real(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = [*_argv(command, tmp_path, None), "--no-figures"]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code in (0, 1) and "Traceback" not in err, (command, out, err)
