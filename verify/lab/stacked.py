"""ganlimits.verify.lab.stacked — the stacked trainer: several seeded runs of one shape trained as one network with
batched weights (the same numbers as one run at a time, faster).

The entry points among these are also at the top of :mod:`ganlimits.verify.lab`; this module holds all of them under
one public name. Names load on first use (PEP 562).
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__, [f"ganlimits.verify.lab.{m}" for m in ("_stack", "_stacked")]
)
