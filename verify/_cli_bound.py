"""``ganlimits bound CLAIM --param value ...``: the theorems' formulas evaluated, and the argument types every
command shares (numbers checked by :func:`~ganlimits.theory.check_number`, the message naming the flag).

The output echoes its inputs (``inputs``: every parameter with the value used, defaults included) and names each
formula (``formulas``: the theory's bound and its expression, written in the command's parameter names) before the
values. A value float64 cannot hold is printed as ``the result overflows float64: log10 = ...`` and written to JSON
as ``{"overflows_float64": true, "log10": ...}`` (``underflows_float64`` for the small side); inputs outside a
formula's domain are a usage error naming the hypothesis. Loads neither torch nor sympy until a bound runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from ganlimits.theory import check_number, check_seed

__all__: list[str] = []


class UsageError(Exception):
    """A bad command line or parameter: reported in one line, exit status 2."""


def number(flag: str, **domain) -> Callable[[str], float]:
    """An argparse type: ``check_number`` on the text, the message naming ``flag``."""

    def parse(text: str):
        try:
            value = float(text) if not domain.get("integer") else int_text(text)
        except ValueError:
            kind = "an integer" if domain.get("integer") else "a number"
            raise argparse.ArgumentTypeError(f"{flag} must be {kind}, got {text!r}") from None
        try:
            return check_number(flag, value, **domain)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def int_text(text: str) -> float | int:
    """``"67"`` as 67 and ``"67.0"`` or ``"1e3"`` as a float (``check_number(integer=True)`` takes integral ones)."""
    try:
        return int(text)
    except ValueError:
        return float(text)


def seed(text: str) -> int:
    """An argparse type for ``--seed``: an integer in [0, 2**63)."""
    try:
        return check_seed("--seed", int_text(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


class OutOfRange:
    """A value float64 cannot hold, known by its log10."""

    def __init__(self, log10: float) -> None:
        self.log10 = float(log10)

    def json(self) -> dict:
        side = "overflows_float64" if self.log10 > 0 else "underflows_float64"
        return {side: True, "log10": self.log10}

    def __str__(self) -> str:
        return f"the result {'overflows' if self.log10 > 0 else 'underflows'} float64: log10 = {self.log10:.6g}"


class Shown(dict):
    """A mapping printed on one line as ``key = value, ...`` (``block=True``: one indented line per key); JSON sees
    a plain object."""

    def __init__(self, items: dict, *, block: bool = False) -> None:
        super().__init__(items)
        self.block = block

    def __str__(self) -> str:
        parts = [f"{k} = {_shown(v)}" for k, v in self.items()]
        return "".join(f"\n  {p}" for p in parts) if self.block else ", ".join(parts)


def _shown(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def formula(bound, rename: dict[str, str] | None = None, note: str = "") -> str:
    """``"<bound name>: <expression>"`` with the bound's symbols renamed to the command's parameter names."""
    import sympy as sp

    rename = rename or {}
    expr = bound.expr.xreplace({s: sp.Symbol(rename[s.name], **s.assumptions0) for s in bound.symbols
                                if s.name in rename})
    return f"{bound.name}: {expr}" + (f" ({note})" if note else "")


def echoed(claim: str, a: argparse.Namespace, inputs: Sequence[str], formulas: dict[str, str], values: dict, *,
           unset: dict[str, str] | None = None) -> dict:
    """The values of a bound with what produced them: the claim, its inputs as used (an input left unset shows
    ``unset[name]``, e.g. the default it stands for, or "not given"), and each value's formula."""
    unset = unset or {}
    shown = {name: getattr(a, name) if getattr(a, name) is not None else unset.get(name, "not given")
             for name in inputs}
    return {"bound": claim, "inputs": Shown(shown), "formulas": Shown(formulas, block=True), **values}



def _with_log10(fn: Callable[..., dict], **kwargs) -> dict:
    """``fn(**kwargs)``; when a value is beyond float64, every value from ``fn(log10=True)`` instead, those
    float64 holds converted back."""
    from ganlimits.theory import ResultOutOfRange
    from ganlimits.theory.base import FLOAT64_LOG10_RANGE

    try:
        return fn(**kwargs)
    except ResultOutOfRange:
        logs = fn(**kwargs, log10=True)
    lo, hi = FLOAT64_LOG10_RANGE
    return {k: (10.0**v if lo <= v <= hi else OutOfRange(v)) for k, v in logs.items()}


def _phi_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--p", type=number("--p", low=1, integer=True), required=True,
                     help="discriminator capacity p (number of parameters, an integer >= 1)")
    sub.add_argument("--eps", type=number("--eps", low=0, low_open=True), required=True,
                     help="target epsilon, > 0 and < 2 * phi-range")
    sub.add_argument("--lipschitz", type=number("--lipschitz", low=0, low_open=True), required=True,
                     help="L: Lipschitz constant of D in its parameters, > 0")
    sub.add_argument("--phi-range", type=number("--phi-range", low=0, low_open=True), required=True,
                     help="Delta: phi takes values in [-Delta, Delta], > 0")
    sub.add_argument("--lphi", type=number("--lphi", low=0, low_open=True), required=True,
                     help="L_phi: Lipschitz constant of phi, > 0")


def _bound_arz_thm1(sub: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict]:
    _phi_arguments(sub)
    sub.add_argument("--eta", type=number("--eta", low=0, high=1, low_open=True, high_open=True), default=0.1,
                     help="failure probability over the draw of G, in (0, 1) (explicit form; default 0.1)")

    def run(a: argparse.Namespace) -> dict:
        from ganlimits.theory import arz_thm1_support
        from ganlimits.theory.arz17 import ARZ_THM1_SUPPORT_PAPER, ARZ_THM1_SUPPORT_SPEC

        sizes = _with_log10(arz_thm1_support, p=a.p, eps=a.eps, lipschitz=a.lipschitz, phi_range=a.phi_range,
                            lphi=a.lphi, eta=a.eta)
        names = {"L": "lipschitz", "L_phi": "lphi"}
        return echoed("arz-thm1", a, ("p", "eps", "lipschitz", "phi_range", "lphi", "eta"), {
            "support_paper": formula(ARZ_THM1_SUPPORT_PAPER, names, "the paper's form, its O(.) constant taken as 1"),
            "support_spec": formula(ARZ_THM1_SUPPORT_SPEC, names, "explicit sufficient size, failure probability eta"),
        }, {"support_paper": sizes["paper"], "support_spec": sizes["spec"]})

    return run


def _bound_arz_thm3(sub: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict]:
    sub.add_argument("--k", type=number("--k", low=2, integer=True), required=True,
                     help="k: intervals per code coordinate, an integer >= 2 (m = k^code_dim <= 2^53)")
    sub.add_argument("--code-dim", type=number("--code-dim", low=1, integer=True), required=True,
                     help="d': code dimension, an integer >= 1 and < --dim")
    sub.add_argument("--dim", type=number("--dim", low=2, integer=True), required=True,
                     help="d: image dimension, an integer >= 2")
    sub.add_argument("--tv-budget", type=number("--tv-budget", low=0, high=1, low_open=True, high_open=True),
                     required=True, help="delta: total-variation budget in (0, 1)")
    sub.add_argument("--sigma", type=number("--sigma", low=0, low_open=True), default=1.0,
                     help="code standard deviation, > 0 (default 1)")

    def run(a: argparse.Namespace) -> dict:
        from ganlimits.theory import ResultOutOfRange, arz_thm3_summary
        from ganlimits.theory._arz_thm3 import (
            GENERATOR_MAX_WEIGHT,
            GENERATOR_NUM_WEIGHTS,
            MISMATCH_PROBABILITY,
            RAMP_WIDTH_FOR_TV,
            TV_BOUND_FOR_WIDTH,
        )

        try:
            values = arz_thm3_summary(k=a.k, code_dim=a.code_dim, dim=a.dim, tv_budget=a.tv_budget, sigma=a.sigma)
        except ResultOutOfRange as exc:  # the network itself cannot be written in float64
            raise UsageError(f"--tv-budget/--sigma: {exc}; the construction's weights are not float64 numbers "
                             "there") from None
        names = {"d_code": "code_dim", "d": "dim", "w": "ramp_width"}
        return echoed("arz-thm3", a, ("k", "code_dim", "dim", "tv_budget", "sigma"), {
            "m": "k**code_dim (blocks of the partition)",
            "ramp_width": formula(RAMP_WIDTH_FOR_TV, names),
            "num_nonzero_weights": formula(GENERATOR_NUM_WEIGHTS, names),
            "max_weight": formula(GENERATOR_MAX_WEIGHT, names),
            "tv_bound": formula(TV_BOUND_FOR_WIDTH, names),
            "mismatch_probability": formula(MISMATCH_PROBABILITY, names, "exact ramp probability"),
        }, values)

    return run


def _bound_agl17_thm31(sub: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict]:
    _phi_arguments(sub)
    sub.add_argument("--C", type=number("--C", low=0, low_open=True), default=1.0,
                     help="the unstated constant of the O(.), > 0 (default 1)")
    sub.add_argument("--radius", type=number("--radius", low=0, low_open=True), default=None,
                     help="radius of the parameter ball, > 0 (default sqrt(p))")

    def run(a: argparse.Namespace) -> dict:
        from ganlimits.theory import agl17_thm31_samples
        from ganlimits.theory._agl17 import AGL17_THM1_BLOG, AGL17_THM31_SAMPLES, AGL17_THM31_SAMPLES_SPEC

        values = _with_log10(agl17_thm31_samples, p=a.p, eps=a.eps, lipschitz=a.lipschitz, phi_range=a.phi_range,
                             lphi=a.lphi, C=a.C, radius=a.radius)
        names = {"L": "lipschitz", "L_phi": "lphi", "R": "radius"}
        return echoed("agl17-thm31", a, ("p", "eps", "lipschitz", "phi_range", "lphi", "C", "radius"), {
            "paper": formula(AGL17_THM31_SAMPLES, names, "the paper's form"),
            "spec": formula(AGL17_THM31_SAMPLES_SPEC, names, "explicit size, log_inv_eta = p, radius default "
                                                            "sqrt(p)"),
            "blog": formula(AGL17_THM1_BLOG, names, "the blog's C p log p / eps^2"),
        }, values, unset={"radius": "sqrt(p) (default)"})

    return run


def _bound_agl17_equilibrium(sub: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict]:
    _phi_arguments(sub)
    sub.add_argument("--C", type=number("--C", low=0, low_open=True), default=1.0,
                     help="the unstated constant of the O(.), > 0 (default 1)")
    sub.add_argument("--generator-lipschitz", type=number("--generator-lipschitz", low=0, low_open=True),
                     required=True, help="L': Lipschitz constant of the generators in their parameters, > 0")

    def run(a: argparse.Namespace) -> dict:
        from ganlimits.theory import agl17_mixture_size

        def both(log10: bool = False) -> dict:
            return {"mixture_size_T": agl17_mixture_size(
                p=a.p, eps=a.eps, lipschitz=a.lipschitz, generator_lipschitz=a.generator_lipschitz,
                phi_range=a.phi_range, lphi=a.lphi, C=a.C, log10=log10)}

        from ganlimits.theory._agl17 import AGL17_THM42_MIXTURE_SIZE

        names = {"L": "lipschitz", "L_phi": "lphi", "L_G": "generator_lipschitz"}
        return echoed("agl17-equilibrium", a,
                      ("p", "eps", "lipschitz", "phi_range", "lphi", "C", "generator_lipschitz"),
                      {"mixture_size_T": formula(AGL17_THM42_MIXTURE_SIZE, names)}, _with_log10(both))

    return run


def _bound_az17_birthday(sub: argparse.ArgumentParser) -> Callable[[argparse.Namespace], dict]:
    sub.add_argument("--support", type=number("--support", low=2, integer=True), required=True,
                     help="N: support size, an integer >= 2")
    sub.add_argument("--samples", type=number("--samples", low=2, integer=True), default=None,
                     help="s (or M): sample size, an integer >= 2 (default: s_half of N)")
    sub.add_argument("--rho", type=number("--rho", low=0, high=1, low_open=True), default=None,
                     help="mass of a set of N points, in (0, 1]")
    sub.add_argument("--gamma", type=number("--gamma", low=0, high=1, low_open=True, high_open=True),
                     default=None, help="observed collision probability at --samples, in (0, 1)")

    def run(a: argparse.Namespace) -> dict:
        from ganlimits.theory import (
            beta_upper_bound,
            mass_set_collision_lower,
            s_half_uniform,
            uniform_collision_probability,
        )
        from ganlimits.theory.az17 import beta_bound_hypotheses, mass_set_collision_approx

        out: dict[str, float | bool] = {
            "s_half_paper": s_half_uniform(N=a.support),
            "s_half_exact": s_half_uniform(N=a.support, exact=True),
        }
        s = a.samples if a.samples is not None else max(2, round(out["s_half_exact"]))
        out["samples"] = float(s)
        out["collision_probability_exact"] = uniform_collision_probability(N=a.support, s=s)
        out["collision_probability_lower"] = uniform_collision_probability(N=a.support, s=s, exact=False)
        if a.rho is not None:
            from ganlimits.theory.az17 import MAX_SUM_TERMS

            if s > MAX_SUM_TERMS:
                raise UsageError(f"--rho: the mass-on-a-set bound sums over M = {s} draws (--samples, default "
                                 f"s_half of --support), evaluated for M <= {MAX_SUM_TERMS:.0e}: pass --samples")
            # the valid lower bound (sum over K ~ Bin(M, rho)), and the rho^2 Poisson form, an approximation only
            out["mass_set_collision_lower"] = mass_set_collision_lower(N=a.support, rho=a.rho, M=s)
            out["mass_set_collision_approx"] = mass_set_collision_approx(N=a.support, rho=a.rho, M=s)
        if a.gamma is not None:
            beta = beta_upper_bound(M=s, gamma=a.gamma)
            out["beta_upper"] = beta
            out["beta_hypotheses_hold"] = beta_bound_hypotheses(beta=beta, M=s)["all"]
        from ganlimits.theory import _birthday as B

        names = {"N": "support", "s": "samples", "M": "samples"}
        formulas = {"s_half_paper": formula(B.S_HALF_UNIFORM, names),
                    "s_half_exact": f"the s at which {formula(B.UNIFORM_COLLISION_EXACT, names)} equals 1/2",
                    "samples": "--samples, or the rounded s_half_exact",
                    "collision_probability_exact": formula(B.UNIFORM_COLLISION_EXACT, names),
                    "collision_probability_lower": formula(B.UNIFORM_COLLISION_LOWER, names)}
        if a.rho is not None:
            formulas["mass_set_collision_lower"] = formula(B.MASS_SET_COLLISION_LOWER, names, "a valid bound")
            formulas["mass_set_collision_approx"] = formula(B.MASS_SET_COLLISION_APPROX, names,
                                                            "an approximation, not a bound")
        if a.gamma is not None:
            formulas["beta_upper"] = formula(B.BETA_UPPER, names)
            formulas["beta_hypotheses_hold"] = "whether beta_upper meets its own hypotheses"
        return echoed("az17-birthday", a, ("support", "samples", "rho", "gamma"), formulas, out,
                      unset={"samples": "s_half_exact rounded (default)"})

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


def jsonable_bound(values: dict) -> dict:
    """The bound's values for ``--json``: :class:`OutOfRange` as its JSON form."""
    from ._results import to_jsonable

    return to_jsonable({k: (v.json() if isinstance(v, OutOfRange) else v) for k, v in values.items()})
