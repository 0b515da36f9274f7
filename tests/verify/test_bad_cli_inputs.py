"""Bad command lines: each is exit 2 with one line on stderr naming the parameter, no traceback, nothing written;
and a fuzz of argument lists: exit 0, 1 or 2, never a traceback. ``main()`` runs in-process (a subprocess costs
about a second); the working folder is a fresh temporary one, so anything written would be seen."""

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ganlimits.verify._cli import main

T1 = ["bound", "arz-thm1", "--p", "67", "--eps", "0.1", "--lipschitz", "4.6", "--phi-range", "0.5", "--lphi", "1"]
T3 = ["bound", "arz-thm3", "--k", "100", "--code-dim", "2", "--dim", "64", "--tv-budget", "0.01"]
G31 = ["bound", "agl17-thm31", "--p", "65", "--eps", "0.1", "--lipschitz", "2", "--phi-range", "0.5", "--lphi", "1"]
GEQ = ["bound", "agl17-equilibrium", "--p", "65", "--eps", "0.1", "--lipschitz", "2", "--phi-range", "0.5",
       "--lphi", "1", "--generator-lipschitz", "1"]
BD = ["bound", "az17-birthday", "--support", "365"]
V3 = ["verify", "arz-thm3", "--quick"]
RP = ["reproduce", "--quick", "--only", "arz-thm3"]


def _with(base: list[str], flag: str, value: str) -> list[str]:
    """``base`` with ``flag``'s value replaced (or the flag added)."""
    out = list(base)
    if flag in out:
        out[out.index(flag) + 1] = value
        return out
    return [*out, flag, value]


def _without(base: list[str], flag: str) -> list[str]:
    i = base.index(flag)
    return base[:i] + base[i + 2:]


CASES: list[tuple[list[str], str]] = []
for flag in ("--p", "--eps", "--lipschitz", "--phi-range", "--lphi"):
    for bad in ("0", "-5", "nan", "inf", "abc", ""):
        CASES.append((_with(T1, flag, bad), flag))
CASES += [
    (_with(T1, "--p", "0.5"), "--p"), (_with(T1, "--p", "1e400"), "--p"), (_with(T1, "--p", "67.5"), "--p"),
    (_with(T1, "--eps", "5"), "eps must be < 2 phi_range"),
    (_with(T1, "--eta", "0"), "--eta"), (_with(T1, "--eta", "1"), "--eta"), (_with(T1, "--eta", "1.5"), "--eta"),
    (_with(T1, "--eta", "nan"), "--eta"), (_without(T1, "--p"), "--p"), (_without(T1, "--eps"), "--eps"),
    (_with(_with(_with(_with(T1, "--p", "1"), "--eps", "0.9"), "--lipschitz", "0.1"), "--lphi", "0.1"),
     "p * phi_range * lipschitz * lphi / eps"),
    ([*T1, "--delta", "0.5"], "--delta"), ([*T1, "--tv", "0.5"], "--tv"),
]
for flag, bads in (("--k", ("1", "2.5", "-3", "nan")), ("--code-dim", ("0", "1.5")), ("--dim", ("1", "0.5")),
                   ("--tv-budget", ("0", "1", "-0.1", "nan", "1e-320")), ("--sigma", ("0", "-1", "inf"))):
    for bad in bads:
        CASES.append((_with(T3, flag, bad), flag))
CASES += [
    (_with(T3, "--code-dim", "64"), "code_dim"), (_with(T3, "--code-dim", "100"), "code_dim"),
    (_with(T3, "--code-dim", "9"), "k**code_dim"), (_with(_with(T3, "--k", "1e30"), "--code-dim", "1"), "k**code_dim"),
    (_without(T3, "--tv-budget"), "--tv-budget"),
    (_with(G31, "--p", "0.5"), "--p"), (_with(G31, "--eps", "10"), "eps must be < 2 phi_range"),
    (_with(G31, "--C", "0"), "--C"), (_with(G31, "--C", "-1"), "--C"), (_with(G31, "--C", "nan"), "--C"),
    (_with(G31, "--radius", "0"), "--radius"), (_with(G31, "--radius", "-2"), "--radius"),
    (_with(_with(_with(_with(G31, "--p", "1"), "--eps", "0.5"), "--lipschitz", "0.1"), "--lphi", "0.1"),
     "lipschitz * lphi * p / eps"),
    (_with(G31, "--lphi", "-1"), "--lphi"), (_with(G31, "--phi-range", "nan"), "--phi-range"),
    (_with(GEQ, "--generator-lipschitz", "0"), "--generator-lipschitz"),
    (_with(GEQ, "--generator-lipschitz", "-1"), "--generator-lipschitz"),
    (_without(GEQ, "--generator-lipschitz"), "--generator-lipschitz"),
    (_with(_with(GEQ, "--lipschitz", "0.01"), "--generator-lipschitz", "0.01"), "lipschitz * generator_lipschitz"),
    (_with(GEQ, "--eps", "2"), "eps must be < 2 phi_range"), (_with(GEQ, "--C", "inf"), "--C"),
    (_with(GEQ, "--p", "2.5"), "--p"),
]
for flag, bads in (("--support", ("1", "0", "2.5", "-5", "nan", "inf")), ("--samples", ("1", "2.5", "-3")),
                   ("--rho", ("0", "1.5", "-0.2")), ("--gamma", ("0", "1", "1.5", "nan"))):
    for bad in bads:
        CASES.append((_with(BD, flag, bad), flag))
CASES += [
    (["bound"], "CLAIM"), (["bound", "no-such"], "no-such"),
    (["verify", "no-such-claim"], "no-such-claim"), (["verify"], "CLAIM"),
    (_with(V3, "--seed", "-1"), "--seed"), (_with(V3, "--seed", str(2**63)), "--seed"),
    (_with(V3, "--seed", "1.5"), "--seed"), (_with(V3, "--seed", "abc"), "--seed"),
    (["verify", "lecture-optimal-d", "--quick", "--seed", "-1"], "--seed"),
    (_with(V3, "--out", ""), "--out"), (_with(V3, "--out", "{file}"), "--out"),
    (_with(V3, "--out", "{file}/sub"), "--out"),
    (_with(V3, "--set", "k=0"), "k"), (_with(V3, "--set", "nosuch=1"), "nosuch"), (_with(V3, "--set", "k=abc"), "k"),
    (_with(V3, "--set", "k"), "key=value"), (_with(V3, "--set", "tv_budget=1.5"), "tv_budget"),
    (_with(V3, "--set", "tv_budget=nan"), "tv_budget"), (_with(V3, "--set", "n_mc=2.5"), "n_mc"),
    (_with(V3, "--jobs", "0"), "--jobs"), (_with(V3, "--jobs", "1.5"), "--jobs"), (_with(V3, "--jobs", "-2"), "--jobs"),
    (_with(V3, "--scheduler", ""), "--scheduler"), (_with(V3, "--scheduler", "no port"), "--scheduler"),
    ([*V3, "--frobnicate"], "--frobnicate"),
    (["reproduce", "--only", "no-such"], "no-such"), (["reproduce", "--only"], "--only"),
    (_with(RP, "--seed", "-5"), "--seed"), (_with(RP, "--replicates", "0"), "--replicates"),
    (_with(RP, "--replicates", "2.5"), "--replicates"),
    (_with(_with(RP, "--seed", str(2**63 - 1)), "--replicates", "3"), "--seed"),
    (_with(RP, "--out", "{file}"), "--out"), (_with(RP, "--jobs", "0"), "--jobs"), (_with(RP, "--out", ""), "--out"),
    (["frobnicate"], "frobnicate"), ([], "COMMAND"), (["--frobnicate", "list"], "--frobnicate"),
    (["list", "extra"], "extra"),
]


def test_the_table_is_large_enough():
    assert len(CASES) >= 100


@pytest.mark.parametrize(("argv", "needle"), CASES, ids=[" ".join(a)[-60:] or "<empty>" for a, _ in CASES])
def test_bad_command_line_is_one_line_exit_2_and_writes_nothing(argv, needle, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("not a folder")
    argv = [a.replace("{file}", str(tmp_path / "file")) for a in argv]
    assert main(argv) == 2
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1 and lines[0].startswith("ganlimits: error: "), err
    assert needle in lines[0] and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["file"]  # nothing written, no folder made


WORDS = ["list", "verify", "reproduce", "bound", "arz-thm1", "arz-thm3", "az17-birthday", "agl17-thm31",
         "agl17-equilibrium", "no-such", "--p", "--eps", "--lipschitz", "--phi-range", "--lphi", "--eta", "--k",
         "--code-dim", "--dim", "--tv-budget", "--sigma", "--support", "--samples", "--rho", "--gamma", "--C",
         "--radius", "--generator-lipschitz", "--seed", "--out", "--set", "--jobs", "--scheduler", "--replicates",
         "--only", "--json", "-x", "--", "0", "1", "2", "-1", "0.5", "1e400", "nan", "inf", "-inf", "", "abc",
         "k=0", "=", "tcp://", "1e-320", "9223372036854775808", "3.0", " "]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=st.lists(st.sampled_from(WORDS) | st.text(max_size=6), max_size=9))
@example(argv=["list", "\x1e0"])  # a record separator echoed in the message split it into two lines
def test_fuzzed_command_lines_never_print_a_traceback(argv, tmp_path, monkeypatch, capsys):
    """Exit 0, 1 or 2, never a traceback. Lines that would start a claim run are left out (they are slow and
    covered above); everything else, bounds included, runs."""
    if any(w in ("verify", "reproduce") for w in argv[:1]) and not any(w in ("--seed", "--out", "--set", "--jobs",
                                                                             "--scheduler", "--replicates", "no-such")
                                                                  for w in argv):
        return
    if argv[:1] in (["verify"], ["reproduce"]):
        argv = [*argv, "--seed", "-1"]  # a usage error stops every run before it computes
    monkeypatch.chdir(tmp_path)
    try:
        code = main(argv)
    except SystemExit as exc:  # --help / --version
        code = exc.code
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err + out
    if code == 2:
        assert len(err.strip().splitlines()) == 1, (argv, err)


# ---- hardening II -------------------------------------------------------------------------------------------------

SCHEDULERS = ["foo:bar", "tcp://localhost", "localhost:70000", "tcp://localhost:0", "http://localhost:8786",
              "inproc://x", "ucx://10.0.0.5:8786", "tls://10.0.0.5:8786", "tcp://::1:8786", "tcp://h:1/x",
              "tcp://no-such-host.invalid:8786", "tcp://127.0.0.1:{closed}", "tcp://127.0.0.1:{http}",
              "127.0.0.1:{silent}"]


@pytest.fixture(scope="module")
def servers():
    """A closed port, an HTTP server (a TCP service that is not Dask) and a socket that accepts and never answers."""
    import socket
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Quiet(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # the server's own log would land in the captured stderr
            pass

    http = HTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed = probe.getsockname()[1]
    probe.close()
    yield {"closed": closed, "http": http.server_port, "silent": silent.getsockname()[1]}
    http.shutdown()
    silent.close()


@pytest.mark.parametrize("address", SCHEDULERS)
@pytest.mark.parametrize("command", [["verify", "arz-thm3", "--quick"], ["reproduce", "--quick", "--only", "arz-thm3"]])
def test_a_bad_scheduler_is_one_line_before_the_output_folder_exists(address, command, servers, tmp_path,
                                                                    monkeypatch, capsys):
    """Malformed, unknown, refused, not Dask, or silent: exit 2, one line naming --scheduler, within one bounded
    timeout (shortened here to 1 s), and the output folder was never created."""
    import time

    pytest.importorskip("distributed")
    from ganlimits.verify import _sweep

    monkeypatch.setattr(_sweep, "SCHEDULER_TIMEOUT", 1.0)
    monkeypatch.setattr(_sweep.dask_client, "__kwdefaults__", {"timeout": 1.0})
    monkeypatch.chdir(tmp_path)
    start = time.monotonic()
    code = main([*command, "--out", str(tmp_path / "out"), "--scheduler", address.format(**servers)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--scheduler" in err and "Traceback" not in err, err
    assert time.monotonic() - start < 8 and not (tmp_path / "out").exists()


BOUND_EXTREMES = [  # (argv, exit code, needle): values in closed form, or a one-line refusal naming the flag
    ([*T3[:2], "--k", str(2**53), "--code-dim", "1", "--dim", "64", "--tv-budget", "0.01", "--json"], 0,
     '"mismatch_probability": null'),
    ([*T3[:2], "--k", str(10**6), "--code-dim", "1", "--dim", "64", "--tv-budget", "0.01"], 0,
     "mismatch_probability: 0."),
    ([*BD[:2], "--support", "1e20", "--rho", "0.5"], 2, "--samples"),
    ([*BD[:2], "--support", "1e20", "--rho", "0.5", "--samples", "23", "--json"], 0, '"mass_set_collision_lower": 6.'),
    ([*BD[:2], "--support", "1e20", "--samples", "23"], 0, "collision_probability_lower: 2.53e-18"),
    ([*BD[:2], "--support", "1e300", "--samples", "2"], 0, "collision_probability_lower: 1e-300"),
    ([*BD[:2], "--support", str(2**70), "--rho", "1", "--samples", "1000", "--json"], 0,
     '"mass_set_collision_lower": '),
]


@pytest.mark.parametrize(("argv", "code", "needle"), BOUND_EXTREMES,
                         ids=[" ".join(a[1:6]) for a, _, _ in BOUND_EXTREMES])
def test_extreme_bound_inputs_answer_at_once_or_refuse_by_name(argv, code, needle, capsys):
    import time

    start = time.monotonic()
    assert main(argv) == code
    out, err = capsys.readouterr()
    assert needle in out + err and "Traceback" not in err and time.monotonic() - start < 10, out + err
    if code == 2:
        assert out == "" and len(err.strip().splitlines()) == 1


SET_VALUES = [("arz-thm3", "tv_sweep=()"), ("arz-thm3", "tv_sweep=[]"), ("arz-thm1", "power_factors=()"),
              ("arz-thm3", f"control_factor={10**400}"), ("arz-thm3", "control_factor=1e400"),
              ("arz-thm1", "attack.hidden=()"), ("arz-thm1", "eps=0.2")]


@pytest.mark.parametrize(("claim", "setting"), SET_VALUES)
def test_an_empty_or_overflowing_setting_is_one_line_exit_2(claim, setting, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["verify", claim, "--quick", "--set", setting]) == 2
    out, err = capsys.readouterr()
    key = setting.split("=")[0]
    assert out == "" and err.startswith(f"ganlimits: error: setting {key}") and len(err.splitlines()) == 1, err
    assert not list(tmp_path.iterdir())


OUTPUTS = [["list"], ["--help"], ["--version"], ["verify", "--help"], ["bound", "arz-thm3", "--help"]]


@pytest.mark.parametrize("argv", OUTPUTS, ids=[" ".join(a[:2]) for a in OUTPUTS])
@pytest.mark.parametrize("sink", ["closed pipe", "full disk"])
def test_output_to_a_closed_pipe_or_a_full_disk_is_one_line_and_a_non_zero_status(argv, sink):
    """A subprocess (0.1 s of CPU: these commands import neither torch nor sympy) whose standard output is a pipe
    with no reader, or /dev/full: exit 74, one line on stderr, no traceback. (A bound's or a claim's output goes
    through the same handler in main.)"""
    import os
    import subprocess
    import sys

    if sink == "full disk" and not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full here")
    if sink == "closed pipe":
        read, write = os.pipe()
        os.close(read)
        target = write
    else:
        target = os.open("/dev/full", os.O_WRONLY)
    try:
        run = subprocess.run([sys.executable, "-m", "ganlimits.verify._cli", *argv], stdout=target,
                             stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(target)
    assert run.returncode == 74, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ganlimits: error: ") and "Traceback" not in run.stderr, lines
