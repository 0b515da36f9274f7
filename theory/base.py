"""ganlimits.theory.base — what every statement is built from: the :class:`Bound` (one sympy expression, numeric forms
derived), the registry of claims and the input validators every layer shares.

The entry points among these are also at the top of :mod:`ganlimits.theory`; this module holds all of them under one
public name. Names load on first use (PEP 562).
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__, [f"ganlimits.theory.{m}" for m in ("_bound", "_claims", "_validate")]
)
