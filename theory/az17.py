"""ganlimits.theory.az17 — the birthday-paradox formulas of Arora & Zhang 2017 (``docs/papers/az17.md``): collision
probabilities, the half-collision sample size and its inverse, Theorem 1's mass-set bound.

The entry points among these are also at the top of :mod:`ganlimits.theory`; this module holds all of them under one
public name. Names load on first use (PEP 562).
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__, [f"ganlimits.theory.{m}" for m in ("_birthday",)]
)
