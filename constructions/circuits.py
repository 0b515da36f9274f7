"""ganlimits.constructions.circuits — the building blocks of the exact witnesses: the circuit and its layers (absolute
value, step, index, hat, memory, merge) and the ramp width for a total-variation target.

The entry points among these are also at the top of :mod:`ganlimits.constructions`; this module holds all of them
under one public name. Names load on first use (PEP 562).
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__, [f"ganlimits.constructions.{m}" for m in ("_circuits",)]
)
