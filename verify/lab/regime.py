"""ganlimits.verify.lab.regime — when a training run may be decided: the settle rule and horizon, the target's and the
diffuse baseline's scores, and the regime gate of each run.

The entry points among these are also at the top of :mod:`ganlimits.verify.lab`; this module holds all of them under
one public name. Names load on first use (PEP 562).
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__, [f"ganlimits.verify.lab.{m}" for m in ("_horizon", "_regime")]
)
