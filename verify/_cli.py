"""The ``ganlimits`` command: ``list``, ``verify``, ``reproduce``, ``bound``.

Exit status: 0 when every verdict is ``consistent`` or an identity ``holds``; 1 when something is refuted or
inconclusive; 2 on a usage error (one line on stderr, no traceback).

Importing this module (``ganlimits --help``, ``ganlimits list``) loads neither torch nor sympy: the claim registry
and the validators are cheap, and everything else is imported by the command that needs it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ganlimits.theory import CLAIMS, check_number, check_seed

__all__ = ["main"]

EXIT_CODES = """exit status:
  0  every verdict is consistent (or an exact identity holds)
  1  something is refuted or inconclusive
  2  usage error (one line on stderr, no traceback)"""


class UsageError(Exception):
    """A bad command line or parameter: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # one line, no usage dump
        raise UsageError(message)


def _number(flag: str, **domain) -> Callable[[str], float]:
    """An argparse type: ``check_number`` on the text, the message naming ``flag``."""

    def parse(text: str):
        try:
            value = float(text) if not domain.get("integer") else _int_text(text)
        except ValueError:
            kind = "an integer" if domain.get("integer") else "a number"
            raise argparse.ArgumentTypeError(f"{flag} must be {kind}, got {text!r}") from None
        try:
            return check_number(flag, value, **domain)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def _int_text(text: str) -> float | int:
    try:
        return int(text)
    except ValueError:
        return float(text)  # "67.0" is accepted as 67; "0.5" is rejected by check_number


def _seed(text: str) -> int:
    try:
        return check_seed("--seed", _int_text(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# ---- bound commands: each adds its arguments and returns the theorem's formulas evaluated -------------------


def _phi_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--p", type=_number("--p", low=1, integer=True), required=True,
                     help="discriminator capacity p (number of parameters)")
    sub.add_argument("--eps", type=_number("--eps", low=0, low_open=True), required=True, help="target epsilon")
    sub.add_argument("--lipschitz", type=_number("--lipschitz", low=0, low_open=True), required=True,
                     help="L: Lipschitz constant of D in its parameters")
    sub.add_argument("--phi-range", type=_number("--phi-range", low=0, low_open=True), required=True,
                     help="Delta: phi takes values in [-Delta, Delta]")
    sub.add_argument("--lphi", type=_number("--lphi", low=0, low_open=True), required=True,
                     help="L_phi: Lipschitz constant of phi")


def _bound_arz_thm1(sub: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict]:
    _phi_arguments(sub)
    sub.add_argument("--eta", type=_number("--eta", low=0, high=1, low_open=True, high_open=True), default=0.1,
                     help="failure probability over the draw of G (explicit form; default 0.1)")

    def run(a: argparse.Namespace) -> dict:
        from ganlimits.theory import arz_thm1_support

        sizes = arz_thm1_support(p=a.p, eps=a.eps, lipschitz=a.lipschitz, phi_range=a.phi_range, lphi=a.lphi,
                                 eta=a.eta)
        return {"support_paper": sizes["paper"], "support_spec": sizes["spec"]}

    return run


def _bound_arz_thm3(sub: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict]:
    sub.add_argument("--k", type=_number("--k", low=2, integer=True), required=True,
                     help="k: intervals per code coordinate (m = k^code_dim)")
    sub.add_argument("--code-dim", type=_number("--code-dim", low=1, integer=True), required=True,
                     help="d': code dimension")
    sub.add_argument("--dim", type=_number("--dim", low=2, integer=True), required=True, help="d: image dimension")
    sub.add_argument("--tv-budget", type=_number("--tv-budget", low=0, high=1, low_open=True, high_open=True),
                     required=True, help="delta: total-variation budget in (0, 1)")
    sub.add_argument("--sigma", type=_number("--sigma", low=0, low_open=True), default=1.0,
                     help="code standard deviation (default 1)")

    def run(a: argparse.Namespace) -> dict:
        from ganlimits.theory import arz_thm3_summary

        return arz_thm3_summary(k=a.k, code_dim=a.code_dim, dim=a.dim, tv_budget=a.tv_budget, sigma=a.sigma)

    return run


def _bound_agl17_thm31(sub: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict]:
    _phi_arguments(sub)
    sub.add_argument("--C", type=_number("--C", low=0, low_open=True), default=1.0,
                     help="the unstated constant of the O(.) (default 1)")
    sub.add_argument("--radius", type=_number("--radius", low=0, low_open=True), default=None,
                     help="radius of the parameter ball (default sqrt(p))")

    def run(a: argparse.Namespace) -> dict:
        from ganlimits.theory import agl17_thm31_samples

        return agl17_thm31_samples(p=a.p, eps=a.eps, lipschitz=a.lipschitz, phi_range=a.phi_range, lphi=a.lphi,
                                   C=a.C, radius=a.radius)

    return run


def _bound_agl17_equilibrium(sub: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict]:
    _phi_arguments(sub)
    sub.add_argument("--C", type=_number("--C", low=0, low_open=True), default=1.0,
                     help="the unstated constant of the O(.) (default 1)")
    sub.add_argument("--generator-lipschitz", type=_number("--generator-lipschitz", low=0, low_open=True),
                     required=True, help="L': Lipschitz constant of the generators in their parameters")

    def run(a: argparse.Namespace) -> dict:
        from ganlimits.theory import agl17_mixture_size

        T = agl17_mixture_size(p=a.p, eps=a.eps, lipschitz=a.lipschitz, generator_lipschitz=a.generator_lipschitz,
                               phi_range=a.phi_range, lphi=a.lphi, C=a.C)
        return {"mixture_size_T": float(T)}

    return run


def _bound_az17_birthday(sub: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict]:
    sub.add_argument("--support", type=_number("--support", low=1), required=True, help="N: support size")
    sub.add_argument("--samples", type=_number("--samples", low=2, integer=True), default=None,
                     help="s (or M): sample size (default: s_half of N)")
    sub.add_argument("--rho", type=_number("--rho", low=0, high=1, low_open=True), default=None,
                     help="mass of a set of N points, in (0, 1]")
    sub.add_argument("--gamma", type=_number("--gamma", low=0, high=1, low_open=True, high_open=True),
                     default=None, help="observed collision probability at --samples, in (0, 1)")

    def run(a: argparse.Namespace) -> dict:
        from ganlimits.theory import (
            beta_bound_hypotheses,
            beta_upper_bound,
            mass_set_collision_bound,
            s_half_uniform,
            uniform_collision_probability,
        )

        out: dict[str, float | bool] = {
            "s_half_paper": s_half_uniform(N=a.support),
            "s_half_exact": s_half_uniform(N=a.support, exact=True),
        }
        s = a.samples if a.samples is not None else max(2, round(out["s_half_exact"]))
        out["samples"] = float(s)
        out["collision_probability_exact"] = uniform_collision_probability(N=a.support, s=s)
        out["collision_probability_lower"] = uniform_collision_probability(N=a.support, s=s, exact=False)
        if a.rho is not None:
            out["mass_set_collision_rho_squared"] = mass_set_collision_bound(N=a.support, rho=a.rho, M=s)
        if a.gamma is not None:
            beta = beta_upper_bound(M=s, gamma=a.gamma)
            out["beta_upper"] = beta
            out["beta_hypotheses_hold"] = beta_bound_hypotheses(beta=beta, M=s)["all"]
        return out

    return run


BOUND_COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], Callable[[argparse.Namespace], dict]], str]] = {
    "arz-thm1": (_bound_arz_thm1, "Theorem 1's support size m, paper form and explicit form.\n\nexample:\n"
                 "  ganlimits bound arz-thm1 --p 67 --eps 0.1 --lipschitz 4.6 --phi-range 0.5 --lphi 1"),
    "arz-thm3": (_bound_arz_thm3, "Theorem 3's network: m, ramp width, weight count, largest weight, TV bound.\n\n"
                 "example:\n  ganlimits bound arz-thm3 --k 100 --code-dim 2 --dim 64 --tv-budget 0.01"),
    "agl17-thm31": (_bound_agl17_thm31, "Theorem 3.1's sample size m: paper form, explicit form and the blog's "
                    "C p log p / eps^2.\n\nexample:\n  ganlimits bound agl17-thm31 --p 65 --eps 0.1 --lipschitz 2 "
                    "--phi-range 0.5 --lphi 1"),
    "agl17-equilibrium": (_bound_agl17_equilibrium, "Theorem 4.2's mixture size T.\n\nexample:\n"
                          "  ganlimits bound agl17-equilibrium --p 65 --eps 0.1 --lipschitz 2 --phi-range 0.5 "
                          "--lphi 1 --generator-lipschitz 1"),
    "az17-birthday": (_bound_az17_birthday, "Birthday-paradox formulas at support N: half-probability size, "
                      "collision probabilities, mass-on-a-set bound, support bound from a collision rate.\n\n"
                      "example:\n  ganlimits bound az17-birthday --support 365 --samples 23"),
}


def _claims_text() -> str:
    width = max(len(c) for c in CLAIMS)
    return "claims:\n" + "\n".join(f"  {cid:<{width}}  {c.source}" for cid, c in CLAIMS.items())


def _build_parser() -> tuple[_Parser, dict]:
    from . import __version__

    parser = _Parser(
        prog="ganlimits",
        description="Executable, checkable numerical proofs of GAN-theory results: build each theorem's witness, "
                    "attack the theorem on concrete instances, and report whether it held.",
        epilog=f"{_claims_text()}\n\n{EXIT_CODES}\n\nexamples:\n  ganlimits list\n"
               "  ganlimits verify arz-thm3 --quick\n  ganlimits reproduce --quick --out results-quick",
    )
    parser.add_argument("--version", action="version", version=f"ganlimits {__version__}")
    subs = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    subs.add_parser("list", help="list the claims with their sources and statements",
                    description="List every claim: id, kind, source and one-line statement.",
                    epilog="example:\n  ganlimits list")

    def add_run_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--quick", action="store_true", help="the small setting used by `make test`")
        p.add_argument("--out", type=Path, default=Path("results"), help="folder for JSON, figures, REPORT.md")
        p.add_argument("--seed", type=_seed, default=0, help="master seed in [0, 2**63) (default 0)")
        p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")

    v = subs.add_parser(
        "verify", help="attack one claim and report the verdict",
        description="Attack one claim and report the measurement, its control and the verdict.",
        epilog=f"{_claims_text()}\n\n{EXIT_CODES}\n\nexamples:\n  ganlimits verify arz-thm3 --quick\n"
               "  ganlimits verify arz-thm1 --quick --set eps=0.2 --set verdict_attack.steps=50 --json")
    v.add_argument("claim", metavar="CLAIM", help="claim id (see `ganlimits list`)")
    v.add_argument("--json", action="store_true", help="print one JSON document and nothing else")
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a field of the claim's Settings (repeatable; dotted keys reach nested settings)")
    add_run_options(v)

    r = subs.add_parser(
        "reproduce", help="run every claim and write REPORT.md",
        description="Run every claim (or those given with --only) and write one JSON per claim, the figures and "
                    "REPORT.md into --out.",
        epilog=f"{EXIT_CODES}\n\nexample:\n  ganlimits reproduce --quick --out results-quick --resume")
    r.add_argument("--resume", action="store_true", help="keep finished claims (and sweep trials) of a previous run")
    r.add_argument("--only", nargs="+", default=None, metavar="CLAIM", help="run only these claims")
    add_run_options(r)

    b = subs.add_parser(
        "bound", help="evaluate a theorem's formulas",
        description="Evaluate a theorem's formulas at the given parameters (nothing is sampled).",
        epilog="subcommands:\n" + "\n".join(f"  {name:<18} {text.splitlines()[0]}"
                                             for name, (_, text) in BOUND_COMMANDS.items())
               + "\n\nexample:\n  ganlimits bound arz-thm3 --k 100 --code-dim 2 --dim 64 --tv-budget 0.01")
    bsubs = b.add_subparsers(dest="bound_claim", required=True, parser_class=_Parser, metavar="CLAIM")
    bound_runs = {}
    for name, (make, text) in BOUND_COMMANDS.items():
        sub = bsubs.add_parser(name, help=text.splitlines()[0], description=text)
        sub.add_argument("--json", action="store_true", help="print JSON")
        bound_runs[name] = make(sub)
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


def _run_config(a: argparse.Namespace, *, resume: bool = False):
    from ._registry import RunConfig

    return RunConfig(quick=a.quick, seed=a.seed, out_dir=a.out, progress=sys.stderr.isatty(), resume=resume,
                     figures=not a.no_figures)


def _cmd_verify(a: argparse.Namespace) -> int:
    from ._registry import available_claims, claim_settings, run_claim

    if a.claim not in CLAIMS:
        raise UsageError(f"unknown claim {a.claim!r}; known: {', '.join(CLAIMS)}")
    if a.claim not in available_claims():
        raise UsageError(f"claim {a.claim!r} has no verifier in this installation")
    try:
        settings = claim_settings(a.claim, quick=a.quick, overrides=a.overrides)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not a.json:
        print(f"{a.claim}: {CLAIMS[a.claim].statement}", flush=True)
    result = run_claim(a.claim, _run_config(a), settings)
    if a.json:
        json.dump(result.to_dict(), sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        print(f"measured: {result.summary or result.measured.fmt()}")
        if result.control is not None or result.control_summary:
            print(f"control:  {result.control_summary or result.control.fmt()} (caught: {result.control_caught})")
        for note in result.notes:
            print(f"note:     {note}")
        print(f"verdict:  {result.verdict}   ({result.elapsed_s:.1f} s; JSON in {a.out / (a.claim + '.json')})")
    return 0 if result.passed else 1


def _cmd_reproduce(a: argparse.Namespace) -> int:
    from ._registry import available_claims, run_claim
    from ._report import load_results, write_report

    claims = available_claims()
    if a.only:
        unknown = [c for c in a.only if c not in CLAIMS]
        if unknown:
            raise UsageError(f"unknown claim(s) {', '.join(unknown)}; known: {', '.join(CLAIMS)}")
        claims = [c for c in claims if c in a.only]
    done = {r.claim: r for r in load_results(a.out)} if a.resume else {}
    config = _run_config(a, resume=a.resume)
    verdicts = {}
    for cid in claims:
        prev = done.get(cid)
        if prev is not None and prev.quick == a.quick:
            print(f"[{cid}] kept from a previous run: {prev.verdict}", flush=True)
            verdicts[cid] = prev.verdict
            continue
        print(f"[{cid}] running ...", flush=True)
        result = run_claim(cid, config)
        verdicts[cid] = result.verdict
        print(f"[{cid}] {result.verdict} in {result.elapsed_s:.1f} s", flush=True)
    report = write_report(a.out)
    print(f"report: {report}")
    return 0 if all(v in ("consistent", "holds") for v in verdicts.values()) else 1


def _cmd_bound(a: argparse.Namespace, bound_runs: dict) -> int:
    try:
        values = bound_runs[a.bound_claim](a)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if a.json:
        from ._results import to_jsonable

        json.dump(to_jsonable(values), sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        for key, value in values.items():
            text = f"{value:.6g}" if isinstance(value, float) else str(value)
            print(f"{key}: {text}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ganlimits`` console script."""
    parser, bound_runs = _build_parser()
    try:
        a = parser.parse_args(argv)
        if a.command == "list":
            return _cmd_list()
        if a.command == "verify":
            return _cmd_verify(a)
        if a.command == "reproduce":
            return _cmd_reproduce(a)
        return _cmd_bound(a, bound_runs)
    except UsageError as exc:
        print(f"ganlimits: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ganlimits: interrupted; finished claims are kept (use --resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
