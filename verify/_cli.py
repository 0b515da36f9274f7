"""The ``ganlimits`` command: ``list``, ``verify``, ``reproduce``, ``bound``.

Exit status: 0 when every verdict is ``consistent`` or an identity ``holds``; 1 when something is refuted or
inconclusive; 2 on a usage error (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ganlimits.theory import CLAIMS

__all__ = ["main", "BOUND_COMMANDS"]


class UsageError(Exception):
    """A bad command line or parameter: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        raise UsageError(message)


def _positive(name: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {text!r}") from None
        if not v > 0 or v != v or v == float("inf"):
            raise argparse.ArgumentTypeError(f"{name} must be a finite number > 0, got {text}")
        return v

    return parse


def _positive_int(name: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, got {text!r}") from None
        if v <= 0:
            raise argparse.ArgumentTypeError(f"{name} must be a positive integer, got {v}")
        return v

    return parse


# ---- bound commands: each adds its arguments and prints the theorem's formulas evaluated -----------------


def _bound_arz_thm1(sub: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict]:
    sub.add_argument("--p", type=_positive("--p"), required=True, help="discriminator capacity (parameters)")
    sub.add_argument("--eps", type=_positive("--eps"), required=True, help="target gap epsilon")
    sub.add_argument("--lipschitz", type=_positive("--lipschitz"), required=True, help="L: Lipschitz in params")
    sub.add_argument("--delta", type=_positive("--delta"), required=True, help="Delta: phi takes values in [-D, D]")
    sub.add_argument("--lphi", type=_positive("--lphi"), required=True, help="Lipschitz constant of phi")
    sub.add_argument("--eta", type=_positive("--eta"), default=0.1, help="failure probability (spec form)")

    def run(a: argparse.Namespace) -> dict:
        from ganlimits.theory import arz_thm1_support

        sizes = arz_thm1_support(p=a.p, eps=a.eps, lipschitz=a.lipschitz, delta=a.delta, lphi=a.lphi, eta=a.eta)
        return {"support_paper": sizes["paper"], "support_spec": sizes["spec"]}

    return run


def _bound_arz_thm3(sub: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict]:
    sub.add_argument("--k", type=_positive_int("--k"), required=True, help="intervals per code coordinate")
    sub.add_argument("--code-dim", type=_positive_int("--code-dim"), required=True, help="d': code dimension")
    sub.add_argument("--dim", type=_positive_int("--dim"), required=True, help="d: image dimension")
    sub.add_argument("--tv", type=_positive("--tv"), required=True, help="TV budget delta in (0, 1)")
    sub.add_argument("--sigma", type=_positive("--sigma"), default=1.0, help="code standard deviation")

    def run(a: argparse.Namespace) -> dict:
        from ganlimits.theory import arz_thm3_summary

        return arz_thm3_summary(k=a.k, code_dim=a.code_dim, dim=a.dim, tv=a.tv, sigma=a.sigma)

    return run


def _agl17_common(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--p", type=_positive("--p"), required=True, help="discriminator capacity (parameters)")
    sub.add_argument("--eps", type=_positive("--eps"), required=True, help="target distance epsilon")
    sub.add_argument("--lipschitz", type=_positive("--lipschitz"), required=True, help="L: Lipschitz in params")
    sub.add_argument("--delta", type=_positive("--delta"), required=True, help="Delta: phi takes values in [-D, D]")
    sub.add_argument("--lphi", type=_positive("--lphi"), required=True, help="Lipschitz constant of phi")
    sub.add_argument("--C", type=_positive("--C"), default=1.0, help="the unstated constant of the O(.) (default 1)")


def _bound_agl17_thm31(sub: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict]:
    _agl17_common(sub)
    sub.add_argument("--radius", type=_positive("--radius"), default=None, help="radius of the parameter ball")

    def run(a: argparse.Namespace) -> dict:
        from ganlimits.theory import agl17_thm31_samples

        return agl17_thm31_samples(p=a.p, eps=a.eps, lipschitz=a.lipschitz, delta=a.delta, lphi=a.lphi, C=a.C,
                                   radius=a.radius)

    return run


def _bound_agl17_equilibrium(sub: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict]:
    _agl17_common(sub)
    sub.add_argument("--generator-lipschitz", type=_positive("--generator-lipschitz"), required=True,
                     help="L': Lipschitz constant of the generators in their parameters")

    def run(a: argparse.Namespace) -> dict:
        from ganlimits.theory import agl17_mixture_size

        T = agl17_mixture_size(p=a.p, eps=a.eps, lipschitz=a.lipschitz, generator_lipschitz=a.generator_lipschitz,
                               delta=a.delta, lphi=a.lphi, C=a.C)
        return {"mixture_size_T": float(T)}

    return run


def _bound_az17_birthday(sub: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict]:
    """The uniform-model formulas at support ``--support N`` (and sample size ``--samples s``), the mass-on-a-set
    bound with ``--rho`` (with rho squared, MATH.md section 3), and the effective-support bound from an observed
    collision probability ``--gamma`` at ``--samples``."""
    sub.add_argument("--support", type=_positive("--support"), required=True, help="N: support size")
    sub.add_argument("--samples", type=_positive("--samples"), default=None,
                     help="s (or M): sample size (default: s_half of N)")
    sub.add_argument("--rho", type=_positive("--rho"), default=None, help="mass of a set of N points")
    sub.add_argument("--gamma", type=_positive("--gamma"), default=None,
                     help="observed collision probability at --samples, in (0, 1)")

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
        s = a.samples if a.samples is not None else round(out["s_half_exact"])
        if s < 2:
            raise ValueError(f"--samples must be >= 2, got {s}")
        out["samples"] = float(s)
        out["collision_probability_exact"] = uniform_collision_probability(N=a.support, s=s)
        out["collision_probability_lower"] = uniform_collision_probability(N=a.support, s=s, exact=False)
        if a.rho is not None:
            if a.rho > 1:
                raise ValueError(f"--rho must lie in (0, 1], got {a.rho}")
            out["mass_set_collision_rho_squared"] = mass_set_collision_bound(N=a.support, rho=a.rho, M=s)
        if a.gamma is not None:
            if a.gamma >= 1:
                raise ValueError(f"--gamma must lie in (0, 1), got {a.gamma}")
            beta = beta_upper_bound(M=s, gamma=a.gamma)
            out["beta_upper"] = beta
            out["beta_hypotheses_hold"] = beta_bound_hypotheses(beta=beta, M=s)["all"]
        return out

    return run


BOUND_COMMANDS: dict[str, Callable[[argparse.ArgumentParser], Callable[[argparse.Namespace], dict]]] = {
    "arz-thm1": _bound_arz_thm1,
    "arz-thm3": _bound_arz_thm3,
    "agl17-thm31": _bound_agl17_thm31,
    "agl17-equilibrium": _bound_agl17_equilibrium,
    "az17-birthday": _bound_az17_birthday,
}


def _build_parser() -> tuple[_Parser, dict]:
    from . import __version__

    parser = _Parser(prog="ganlimits", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"ganlimits {__version__}")
    subs = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    subs.add_parser("list", help="list the claims and whether they can be verified here")

    def add_run_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--quick", action="store_true", help="the small setting used by `make test`")
        p.add_argument("--out", type=Path, default=Path("results"), help="folder for JSON, figures, REPORT.md")
        p.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
        p.add_argument("--no-figures", action="store_true", help="skip the PNG figures")

    v = subs.add_parser("verify", help="attack one claim and report the verdict")
    v.add_argument("claim", help="claim id (see `ganlimits list`)")
    v.add_argument("--json", action="store_true", help="print one JSON document and nothing else")
    add_run_options(v)

    r = subs.add_parser("reproduce", help="run every claim and write REPORT.md")
    r.add_argument("--resume", action="store_true", help="keep finished claims (and sweep trials) of a previous run")
    r.add_argument("--only", nargs="+", default=None, help="run only these claims")
    add_run_options(r)

    b = subs.add_parser("bound", help="evaluate a theorem's formulas")
    bsubs = b.add_subparsers(dest="bound_claim", required=True, parser_class=_Parser)
    bound_runs = {}
    for name, make in BOUND_COMMANDS.items():
        sub = bsubs.add_parser(name)
        sub.add_argument("--json", action="store_true", help="print JSON")
        bound_runs[name] = make(sub)
    return parser, bound_runs


def _cmd_list() -> int:
    from ._registry import available_claims

    here = set(available_claims())
    width = max(len(c) for c in CLAIMS)
    for cid, claim in CLAIMS.items():
        mark = "verify" if cid in here else "planned"
        print(f"{cid:<{width}}  [{mark:<7}] {claim.kind:<8} {claim.source}")
    return 0


def _run_config(a: argparse.Namespace, *, resume: bool = False):
    from ._registry import RunConfig

    return RunConfig(quick=a.quick, seed=a.seed, out_dir=a.out, progress=sys.stderr.isatty(), resume=resume,
                     figures=not a.no_figures)


def _cmd_verify(a: argparse.Namespace) -> int:
    from ._registry import available_claims, run_claim

    if a.claim not in CLAIMS:
        raise UsageError(f"unknown claim {a.claim!r}; known: {', '.join(CLAIMS)}")
    if a.claim not in available_claims():
        raise UsageError(f"claim {a.claim!r} has no verifier in this version yet")
    if not a.json:
        print(f"{a.claim}: {CLAIMS[a.claim].statement}", flush=True)
    result = run_claim(a.claim, _run_config(a))
    if a.json:
        json.dump(result.to_dict(), sys.stdout, indent=2)
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
        json.dump(values, sys.stdout, indent=2)
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
