"""ganlimits.theory.agl17 — the bounds of Arora, Ge, Liang, Ma & Zhang 2017 (``docs/papers/agl17.md``): Theorem 3.1's
sample size, Theorem 4.2's mixture size, the selector network and the equilibrium value.

The entry points among these are also at the top of :mod:`ganlimits.theory`; this module holds all of them under one
public name. Names load on first use (PEP 562).
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__, [f"ganlimits.theory.{m}" for m in ("_agl17",)]
)
