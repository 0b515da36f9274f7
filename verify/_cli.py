"""The ``ganlimits`` command: ``list``, ``verify``, ``reproduce``, ``bound``.

Exit status: ``verify`` (and ``reproduce --strict``) 0 when every verdict is ``consistent`` or an identity ``holds``,
1 when something is refuted or inconclusive; ``reproduce`` 0 when the run completed, whatever the verdicts (it prints
their counts); 2 on a usage error (one line on stderr, no traceback); 74 when output could not be written (a closed
pipe, a full disk: one line); 130 when interrupted (SIGINT) and 143 when terminated (SIGTERM), finished results
kept and worker processes stopped. Every argument, the scheduler and then the output folder are checked before
anything is computed, written or waited for.

Results layout: ``reproduce`` writes into ``--out`` (default ``results/``); ``verify`` without ``--out`` writes into
``results/verify/``, so it never replaces a reproduction; a full ``reproduce`` writes the extra seeds into
``<out>/seeds/seed-<S>/`` (see :mod:`ganlimits.verify._report`).

Importing this module (``ganlimits --help``, ``ganlimits list``) loads neither torch nor sympy: the claim registry
and the validators are cheap, and everything else is imported by the command that needs it.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from ganlimits.theory import CLAIMS, SEED_LIMIT

from ._cli_audit import add_audit, run_audit
from ._cli_bound import BOUND_COMMANDS, UsageError, jsonable_bound, number, seed

__all__ = ["main"]

EXIT_CODES = """exit status:
  0    verify: every verdict is consistent (or an exact identity holds); reproduce: the run completed, whatever
       the verdicts (their counts are printed; --strict: as verify); bound: values printed
  1    verify, reproduce --strict: something is refuted or inconclusive
  2    usage error (one line on stderr naming the parameter, no traceback, nothing computed or written)
  74   output could not be written (a closed pipe, a full disk): one line on stderr
  130  interrupted by SIGINT, 143 terminated by SIGTERM (finished claims are kept, worker processes stopped;
       run again with --resume)"""

VERIFY_OUT = Path("results") / "verify"
REPRODUCE_OUT = Path("results")
FULL_SEEDS = 1


def _claims_text() -> str:
    width = max(len(c) for c in CLAIMS)
    return "claims:\n" + "\n".join(f"  {cid:<{width}}  {c.source}" for cid, c in CLAIMS.items())


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # one line, no usage dump
        raise UsageError(message)

    def _print_message(self, message: str, file=None) -> None:  # argparse drops a failed write of --help silently
        if message:
            (file or sys.stderr).write(message)


def _out_path(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("--out must name a folder, got an empty path")
    return Path(text)


def _scheduler(text: str) -> str:
    from ._sweep import check_scheduler

    try:
        return check_scheduler(text, "--scheduler")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_run_options(p: argparse.ArgumentParser, default_out: Path) -> None:
    p.add_argument("--quick", action="store_true", help="the small setting used by `make test`")
    p.add_argument("--out", type=_out_path, default=default_out,
                   help=f"folder for JSON, figures, sweep logs and REPORT.md (default {default_out}/)")
    p.add_argument("--seed", type=seed, default=0, help="master seed, an integer in [0, 2**63) (default 0)")
    p.add_argument("--resume", action="store_true",
                   help="reuse a stored result only when claim, settings, seed and code version all match (and "
                        "finished sweep trials likewise); say what was reused")
    p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    p.add_argument("--jobs", type=number("--jobs", low=1, high=4096, integer=True), default=1,
                   help="run sweep trials in N local worker processes, one torch thread each (default 1)")
    p.add_argument("--scheduler", type=_scheduler, default=None, metavar="ADDRESS",
                   help="run sweep trials on the Dask cluster at ADDRESS (tcp://host:port or host:port, e.g. "
                        "tcp://10.0.0.5:8786; needs the 'distributed' package; it must answer within 10 s, before "
                        "anything is written); results equal the local run's")


def _build_parser() -> tuple[_Parser, dict]:
    from . import __version__

    parser = _Parser(
        prog="ganlimits",
        description="Executable, checkable numerical proofs of GAN-theory results: build each theorem's witness, "
                    "attack the theorem on concrete instances, and report whether it held.\n\ncommands:\n"
                    "  list       the claims with their sources and statements\n"
                    "  verify     attack one claim and report the verdict\n"
                    "  reproduce  run every claim and write REPORT.md\n"
                    "  bound      evaluate a theorem's formulas\n"
                    "  audit      the instruments on your own samples or model",
        epilog=f"{_claims_text()}\n\n{EXIT_CODES}\n\nexamples:\n  ganlimits list\n"
               "  ganlimits verify arz-thm3 --quick\n  ganlimits reproduce --quick --out results-quick --resume\n"
               "  ganlimits bound arz-thm3 --k 100 --code-dim 2 --dim 64 --tv-budget 0.01\n\n"
               "`ganlimits COMMAND --help` describes each command.",
    )
    parser.add_argument("--version", action="version", version=f"ganlimits {__version__}")
    subs = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    subs.add_parser("list", help="list the claims with their sources and statements",
                    description="List every claim: id, kind, source and one-line statement.",
                    epilog=f"{_claims_text()}\n\n{EXIT_CODES}\n\nexample:\n  ganlimits list")

    v = subs.add_parser(
        "verify", help="attack one claim and report the verdict",
        description="Attack one claim and report the measurement, its near-boundary control, the resolution and "
                    f"the verdict. Writes <out>/CLAIM.json, its figures and <out>/REPORT.md (default out: "
                    f"{VERIFY_OUT}/, apart from a reproduction's results/).",
        epilog=f"{_claims_text()}\n\n{EXIT_CODES}\n\nexamples:\n  ganlimits verify arz-thm3 --quick\n"
               "  ganlimits verify arz-thm1 --quick --set eps=0.1 --set attack.steps=50 --json")
    v.add_argument("claim", metavar="CLAIM", help="claim id (listed below and by `ganlimits list`)")
    v.add_argument("--json", action="store_true", help="print one JSON document on stdout and nothing else")
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field of the claim's Settings (repeatable; dotted keys reach nested settings)")
    _add_run_options(v, VERIFY_OUT)

    r = subs.add_parser(
        "reproduce", help="run every claim and write REPORT.md",
        description="Run every claim (or those given with --only) and write one JSON per claim, the figures and "
                    "REPORT.md into --out. Each claim runs at --replicates master seeds (default "
                    f"{FULL_SEEDS}: S; R gives S, ..., S+R-1 at R times the cost): <out>/CLAIM.json holds seed S, "
                    "<out>/seeds/seed-<S+i>/ the others; --quick runs one seed, as do claims whose verdict already "
                    "aggregates over training seeds. REPORT.md is regenerated after every claim.",
        epilog=f"{_claims_text()}\n\n{EXIT_CODES}\n\nexample:\n"
               "  ganlimits reproduce --quick --out results-quick --resume --only arz-thm3 lecture-optimal-d")
    r.add_argument("--only", nargs="+", action="extend", default=None, metavar="CLAIM",
                   help="run only these claims (repeatable: every claim given is run)")
    r.add_argument("--replicates", type=number("--replicates", low=1, high=100, integer=True), default=None,
                   help=f"seeds per claim (default {FULL_SEEDS} in the full setting, 1 with --quick)")
    r.add_argument("--strict", action="store_true",
                   help="exit 1 when a verdict is refuted or inconclusive (default: exit 0 once the run completed, "
                        "whatever the verdicts)")
    _add_run_options(r, REPRODUCE_OUT)

    b = subs.add_parser(
        "bound", help="evaluate a theorem's formulas",
        description="Evaluate a theorem's formulas at the given parameters (nothing is sampled). A value beyond "
                    "float64 is printed as 'the result overflows float64: log10 = ...'; parameters outside a formula's "
                    "domain are a usage error naming the hypothesis.",
        epilog="subcommands:\n" + "\n".join(f"  {name:<18} {text.splitlines()[0]}"
                                             for name, (_, text) in BOUND_COMMANDS.items())
               + f"\n\n{EXIT_CODES}\n\nexample:\n"
                 "  ganlimits bound arz-thm3 --k 100 --code-dim 2 --dim 64 --tv-budget 0.01")
    bsubs = b.add_subparsers(dest="bound_claim", required=True, parser_class=_Parser, metavar="CLAIM")
    bound_runs = {}
    for name, (make, text) in BOUND_COMMANDS.items():
        sub = bsubs.add_parser(name, help=text.splitlines()[0], description=text,
                               epilog=f"{EXIT_CODES}\n\nJSON: a value beyond float64 is written as "
                                      '{"overflows_float64": true, "log10": ...}.')
        sub.add_argument("--json", action="store_true", help="print one JSON document on stdout")
        bound_runs[name] = make(sub)
    add_audit(subs)
    return parser, bound_runs


def _cmd_list() -> int:
    from ._registry import available_claims

    here = set(available_claims())
    width = max(len(c) for c in CLAIMS)
    for cid, claim in CLAIMS.items():
        mark = "" if cid in here else " [no verifier in this installation]"
        print(f"{cid:<{width}}  {claim.kind:<8} {claim.source}{mark}")
        print(f"{'':<{width}}  {claim.statement}")
    return 0


def _check_claims(claims: list[str]) -> None:
    from ._registry import available_claims

    unknown = [c for c in claims if c not in CLAIMS]
    if unknown:
        raise UsageError(f"unknown claim(s) {', '.join(map(repr, unknown))}; known: {', '.join(CLAIMS)}")
    missing = [c for c in claims if c not in available_claims()]
    if missing:
        raise UsageError(f"claim(s) {', '.join(missing)} have no verifier in this installation")


def _check_out(a: argparse.Namespace) -> None:
    """The scheduler (reached within one bounded timeout), then the output folder (created only now), checked after
    the claims and settings and before any computation."""
    from ._results import check_out_dir

    if a.scheduler is not None:
        from ._sweep import dask_client

        try:
            dask_client(a.scheduler).close()
        except ValueError as exc:
            raise UsageError(f"--{exc}") from None
    try:
        check_out_dir(a.out, "--out")
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _run_config(a: argparse.Namespace, *, seed: int | None = None, out: Path | None = None):
    from ._registry import RunConfig

    return RunConfig(quick=a.quick, seed=a.seed if seed is None else seed, out_dir=a.out if out is None else out,
                     progress=sys.stderr.isatty(), resume=a.resume, figures=not a.no_figures, n_jobs=a.jobs,
                     scheduler=a.scheduler)


def _settings(a: argparse.Namespace, cid: str, overrides=()):
    from ._registry import claim_settings

    try:
        return claim_settings(cid, quick=a.quick, overrides=overrides)
    except ValueError as exc:
        raise UsageError(f"{cid}: {exc}" if not overrides else str(exc)) from None


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _cmd_verify(a: argparse.Namespace) -> int:
    from ._registry import run_claim
    from ._report import QUICK_LABEL, plain

    _check_claims([a.claim])
    settings = _settings(a, a.claim, a.overrides)
    _check_out(a)
    if not a.json:
        print(f"{a.claim}: {CLAIMS[a.claim].statement}", flush=True)
    result = run_claim(a.claim, _run_config(a), settings, log=_say if a.json else print)
    if a.json:
        json.dump(result.to_dict(), sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print(f"measured: {plain(result.summary or result.measured.fmt())}")
        if result.control is not None or result.control_summary:
            said = {True: "caught", False: "missed", None: "not recorded whether caught"}[result.control_caught]
            print(f"control:  {plain(result.control_summary or result.control.fmt())} ({said})")
        for note in result.notes:
            print(f"note:     {plain(note)}")
        if result.verdict_reason:
            print(f"reason:   {plain(result.verdict_reason)}")
        elapsed = f"{result.elapsed_s:.1f} s; " if result.elapsed_s == result.elapsed_s else ""
        quick = f"{QUICK_LABEL}; " if a.quick else ""
        print(f"verdict:  {result.verdict}   ({quick}{elapsed}JSON in {a.out / (a.claim + '.json')})")
    return 0 if result.passed else 1


def _cmd_reproduce(a: argparse.Namespace) -> int:
    from ._registry import available_claims, run_claim
    from ._report import QUICK_LABEL, verdict_counts, write_report

    claims = list(dict.fromkeys(a.only)) if a.only else available_claims()
    _check_claims(claims)
    claims = [c for c in CLAIMS if c in claims]
    replicates = a.replicates if a.replicates is not None else (1 if a.quick else FULL_SEEDS)
    seeds = [a.seed + i for i in range(replicates)]  # the report's seeds S, S+1, ...: distinct master seeds
    if seeds[-1] >= SEED_LIMIT:
        raise UsageError(f"--seed: with --replicates {replicates} the seeds {seeds[0]}..{seeds[-1]} pass 2**63")
    settings = {cid: _settings(a, cid) for cid in claims}
    _check_out(a)
    if a.quick:
        print("note: the quick setting is a low-power smoke run; its verdicts are not the reproduction's "
              "(`make reproduce` runs the full setting)", flush=True)
    verdicts = []
    once = _seeded_inside(claims)
    for s in seeds:
        out = a.out if s == a.seed else a.out / "seeds" / f"seed-{s}"
        for cid in claims:
            if s != a.seed and cid in once:
                continue
            print(f"[{cid}] seed {s} ...", flush=True)
            result = run_claim(cid, _run_config(a, seed=s, out=out), settings[cid], report_dir=a.out,
                               log=lambda text: print(text, flush=True))
            verdicts.append(result.verdict)
            took = f" in {result.elapsed_s:.1f} s" if result.elapsed_s == result.elapsed_s else ""
            print(f"[{cid}] seed {s}: {result.verdict}{took}", flush=True)
    report = write_report(a.out)
    print(f"report: {report}")
    runs = f"{len(verdicts)} run{'s' if len(verdicts) != 1 else ''}"
    runs += f" over {len(seeds)} seeds" if len(seeds) > 1 else ""
    print(f"verdicts: {verdict_counts(verdicts)} ({runs}{'; ' + QUICK_LABEL if a.quick else ''})", flush=True)
    if not a.strict:
        return 0
    return 0 if all(v in ("consistent", "holds") for v in verdicts) else 1


def _seeded_inside(claims: list[str]) -> set[str]:
    """Claims whose module sets ``SEEDS_INSIDE = True``: their verdict already aggregates over independent training
    seeds within one run (a table over seeds), so replicating the whole run at other master seeds would only redo it."""
    from ._registry import claim_module

    return {cid for cid in claims if getattr(claim_module(cid), "SEEDS_INSIDE", False)}


def _cmd_bound(a: argparse.Namespace, bound_runs: dict) -> int:
    try:
        values = bound_runs[a.bound_claim](a)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if a.json:
        json.dump(jsonable_bound(values), sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        for key, value in values.items():
            text = f"{value:.6g}" if isinstance(value, float) else str(value)
            print(f"{key}: {text}")
    return 0


def _printable(text: str) -> str:
    """``text`` with every non-printable character escaped, so that an echoed argument cannot break the one-line
    message (``"\\x1e"`` is a line break to ``str.splitlines``)."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


_OUTPUT_ERRORS = {errno.EPIPE, errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EIO}
"""The errors of writing output (stdout, result files) that end a run with one line and exit 74."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the program is, so that it stops as on SIGINT: finished work kept, workers stopped."""


def _on_sigterm(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM does not cut the clean-up short
    raise Terminated


def _stop_workers() -> None:
    """Stop the local worker processes a sweep started (joblib's reusable loky executor), so that none outlives an
    interrupted run; their resource tracker exits with them. Nothing is started when there are none."""
    loky = sys.modules.get("joblib.externals.loky.reusable_executor")
    executor = getattr(loky, "_executor", None) if loky is not None else None
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


def _quiet_stdout() -> None:
    """Point the standard output at /dev/null, so that the interpreter's last flush of a closed pipe or a full disk
    does not print a second error."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # no real file behind sys.stdout (a test's capture)
        pass


def _run(argv: Sequence[str] | None) -> int:
    parser, bound_runs = _build_parser()
    try:
        a = parser.parse_args(argv)
    except SystemExit:  # --help, --version: their text must reach its reader too
        sys.stdout.flush()
        raise
    if a.command == "list":
        return _cmd_list()
    if a.command == "verify":
        return _cmd_verify(a)
    if a.command == "reproduce":
        return _cmd_reproduce(a)
    if a.command == "audit":
        return run_audit(a)
    return _cmd_bound(a, bound_runs)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ganlimits`` console script."""
    previous = None
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: SIGTERM keeps its default
        pass
    try:
        code = _run(argv)
        sys.stdout.flush()
        return code
    except UsageError as exc:
        print(f"ganlimits: error: {_printable(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        _stop_workers()
        how = ("terminated", 143) if isinstance(exc, Terminated) else ("interrupted", 130)
        print(f"ganlimits: {how[0]}; finished claims are kept (run again with --resume)", file=sys.stderr)
        return how[1]
    except OSError as exc:  # a closed pipe, a full or read-only disk: one line, finished results kept
        if not isinstance(exc, BrokenPipeError) and exc.errno not in _OUTPUT_ERRORS:
            raise
        _stop_workers()
        _quiet_stdout()
        what = "the output was closed: " if isinstance(exc, BrokenPipeError) else ""
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        try:
            print(f"ganlimits: error: {what}{exc.strerror or exc}{where}", file=sys.stderr, flush=True)
        except OSError:
            pass
        return 74
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
