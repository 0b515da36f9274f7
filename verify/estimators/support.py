"""ganlimits.verify.estimators.support — the birthday test's support intervals (maximum likelihood, Neyman, Fisher and
likelihood-ratio) and their p-values.

The entry points among these are also at the top of :mod:`ganlimits.verify.estimators`; this module holds all of
them under one public name. Names load on first use (PEP 562).
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__, [f"ganlimits.verify.estimators.{m}" for m in ("_birthday_support",)]
)
