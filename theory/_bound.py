"""A bound written once, as a sympy expression, with its numeric form derived from it.

Every bound of the project is a :class:`Bound`. The symbolic expression is the single definition;
``Bound.__call__`` evaluates a ``lambdify``-ed version of it, built after ``expand_log(force=True)`` so
that products inside logarithms become sums and large arguments do not overflow, and with ``1 - exp(x)`` and
``log(1 + x)`` rewritten as ``-expm1(x)`` and ``log1p(x)`` (sympy's code-generation rewrites), so that a small tail
such as ``1 - exp(-1e-18)`` is ``1e-18`` in float64, not ``0``.

Extreme but valid inputs: :meth:`Bound.value` evaluates the fast form under strict floating-point checks and, when
it overflows, underflows or loses its digits, evaluates the same expression with mpmath at high precision; a
value beyond the float64 range is then a :class:`ResultOutOfRange` error that says its log10, and
:meth:`Bound.log10` gives that log10 as a float for any size.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import mpmath
import numpy as np
import sympy as sp

__all__ = ["Bound", "LATEX_NAMES", "ResultOutOfRange", "float_or_raise", "FLOAT64_LOG10_RANGE"]

FLOAT64_LOG10_RANGE = (math.log10(sys.float_info.min), math.log10(sys.float_info.max))
"""log10 of the smallest normal and the largest finite float64 (about -307.65 and 308.25)."""


class ResultOutOfRange(OverflowError):
    """A correct result that float64 cannot hold; ``log10`` is its base-10 logarithm (``quantity`` names it)."""

    def __init__(self, quantity: str, log10: float) -> None:
        self.quantity, self.log10 = quantity, float(log10)
        kind = "overflows" if log10 > 0 else "underflows"
        super().__init__(f"{quantity}: the result {kind} float64: log10 = {log10:.6g}")


def float_or_raise(quantity: str, log10: float, value: float | None = None) -> float:
    """``value`` (or ``10**log10``) as a float when float64 holds it as a normal number; :class:`ResultOutOfRange`
    naming ``quantity`` otherwise."""
    lo, hi = FLOAT64_LOG10_RANGE
    if not lo <= log10 <= hi:
        raise ResultOutOfRange(quantity, log10)
    return float(10.0**log10) if value is None else float(value)

def float64_form(expr: sp.Expr) -> sp.Expr:
    """``expr`` rewritten for float64 evaluation: logs of products expanded (no overflow of the product), and
    ``1 - exp(x)``, ``log(1 + x)`` as ``-expm1(x)``, ``log1p(x)`` (no cancellation to 0 of a small tail).

    >>> x = sp.Symbol("x", positive=True)
    >>> float64_form(1 - sp.exp(-x))
    -expm1(-x)
    """
    from sympy.codegen.rewriting import expm1_opt, log1p_opt, optimize

    expanded = sp.expand_log(expr, force=True)
    return optimize(expanded, [expm1_opt, log1p_opt])


LATEX_NAMES = {"phi_range": r"\Delta", "tv_budget": r"\delta", "eps": r"\varepsilon", "L_phi": r"L_{\phi}",
               "eta": r"\eta", "alpha": r"\alpha"}
"""The papers' letters for the symbols this project spells out (one name per idea in code, the paper's in print)."""


@dataclass(frozen=True)
class Bound:
    """A named bound: a sympy expression in named positive symbols, and its numeric evaluation.

    Parameters
    ----------
    name:
        Identifier, e.g. ``"arz-thm1.support.paper"``.
    expr:
        The sympy expression (the single definition of the bound).
    source:
        Paper and statement the bound comes from, with a "[spec]" mark where this project made an O(.)
        explicit (the paper pages of the project's documentation, ``docs/papers/``, list every one).
    """

    name: str
    expr: sp.Expr
    source: str
    symbols: tuple[sp.Symbol, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.symbols:
            ordered = tuple(sorted(self.expr.free_symbols, key=lambda s: s.name))
            object.__setattr__(self, "symbols", ordered)

    @property
    def parameters(self) -> tuple[str, ...]:
        """Names of the free symbols, in the order of the numeric function's arguments."""
        return tuple(s.name for s in self.symbols)

    @cached_property
    def _numeric(self) -> Callable[..., float]:
        return sp.lambdify(self.symbols, float64_form(self.expr), modules=["numpy", "scipy"])

    def __call__(self, **values: float) -> float | np.ndarray:
        """Evaluate numerically (fast float64 form); every parameter must be given by name and be > 0."""
        self._check_names(values)
        args = [values[p] for p in self.parameters]
        return self._numeric(*args)

    @cached_property
    def _precise(self) -> Callable[..., mpmath.mpf]:
        return sp.lambdify(self.symbols, self.expr, modules="mpmath")

    def precise(self, *, dps: int = 50, **values: float) -> mpmath.mpf:
        """The expression evaluated with mpmath at ``dps`` decimal digits (no overflow: mpmath's exponent range
        is unbounded). Parameters as for :meth:`__call__`."""
        self._check_names(values)
        with mpmath.workdps(dps):
            return self._precise(*[mpmath.mpf(values[p]) if isinstance(values[p], float) else values[p]
                                   for p in self.parameters])

    def log10(self, **values: float) -> float:
        """log10 of the (positive) value, finite for any size; ``ValueError`` when the value is not positive."""
        v = self.precise(**values)
        if not v > 0:
            raise ValueError(f"{self.name} is not positive at these parameters ({mpmath.nstr(v, 6)})")
        return float(mpmath.log10(v))

    def value(self, quantity: str | None = None, **values: float) -> float:
        """The value as a float: the fast form when it evaluates cleanly, else the precise one;
        :class:`ResultOutOfRange` (naming ``quantity``, default the bound's name) when float64 cannot hold it."""
        with np.errstate(all="raise"):
            try:
                fast = float(self(**{k: float(v) if isinstance(v, int) else v for k, v in values.items()}))
            except (FloatingPointError, OverflowError, ZeroDivisionError):
                fast = math.nan
        if math.isfinite(fast) and (fast == 0 or abs(fast) >= sys.float_info.min):
            return fast
        v = self.precise(**values)
        if v == 0:
            return 0.0
        return math.copysign(float_or_raise(quantity or self.name, float(mpmath.log10(abs(v)))), float(v))

    def _check_names(self, values: Mapping[str, float]) -> None:
        missing = [p for p in self.parameters if p not in values]
        extra = [k for k in values if k not in self.parameters]
        if missing or extra:
            raise ValueError(
                f"{self.name} takes parameters {', '.join(self.parameters)}; "
                f"missing {missing or 'none'}, unknown {extra or 'none'}"
            )

    def subs(self, values: Mapping[str, float]) -> sp.Expr:
        """The expression with some symbols replaced (exact, symbolic)."""
        table = {s: values[s.name] for s in self.symbols if s.name in values}
        return self.expr.subs(table)

    @property
    def latex(self) -> str:
        """The expression in LaTeX, with the papers' letters for the project's symbol names (``phi_range`` is
        Delta, ``tv_budget`` is delta, ``eps`` is epsilon)."""
        names = {sym: LATEX_NAMES[sym.name] for sym in self.expr.free_symbols if sym.name in LATEX_NAMES}
        return sp.latex(self.expr, symbol_names=names)

    def __str__(self) -> str:
        return f"{self.name} = {sp.sstr(self.expr)}"
