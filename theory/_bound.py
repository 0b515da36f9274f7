"""A bound written once, as a sympy expression, with its numeric form derived from it.

Every bound of the project is a :class:`Bound`. The symbolic expression is the single definition;
``Bound.__call__`` evaluates a ``lambdify``-ed version of it, built after ``expand_log(force=True)`` so
that products inside logarithms become sums and large arguments do not overflow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy as sp

__all__ = ["Bound", "LATEX_NAMES"]

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
        expanded = sp.expand_log(self.expr, force=True)
        return sp.lambdify(self.symbols, expanded, modules=["numpy", "scipy"])

    def __call__(self, **values: float) -> float | np.ndarray:
        """Evaluate numerically; every parameter must be given by name and be > 0."""
        missing = [p for p in self.parameters if p not in values]
        extra = [k for k in values if k not in self.parameters]
        if missing or extra:
            raise ValueError(
                f"{self.name} takes parameters {', '.join(self.parameters)}; "
                f"missing {missing or 'none'}, unknown {extra or 'none'}"
            )
        args = [values[p] for p in self.parameters]
        return self._numeric(*args)

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
