"""ganlimits.verify.estimators.intervals — confidence intervals and p-values: Hoeffding, Clopper-Pearson, Bonferroni,
empirical Bernstein, normal and Student intervals, log-log slopes.

The entry points among these are also at the top of :mod:`ganlimits.verify.estimators`; this module holds all of
them under one public name. Names load on first use (PEP 562).
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__, [f"ganlimits.verify.estimators.{m}" for m in ("_intervals",)]
)
