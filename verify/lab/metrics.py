"""ganlimits.verify.lab.metrics — what a trained generator is scored by: VEEGAN's mode metrics (modes, high-quality
share, reverse KL) with their distance rules, and the empirical equilibrium gap of a trained generator.

The entry points among these are also at the top of :mod:`ganlimits.verify.lab`; this module holds all of them under
one public name. Names load on first use (PEP 562).
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__, [f"ganlimits.verify.lab.{m}" for m in ("_mode_metrics", "_equilibrium_gap")]
)
