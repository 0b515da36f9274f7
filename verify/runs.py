"""ganlimits.verify.runs — running claims and keeping their results: the registry of claims, run configuration,
result files (their identity, digests and reuse), reports, sweeps of trials (local worker processes or a Dask
scheduler) and the named random streams every result is seeded from.

The entry points among these (``run_claim``, ``RunConfig``, ``ClaimResult``, ``Estimate``, ...) are also at the
top of :mod:`ganlimits.verify`; this module gathers the rest of the plumbing under one public name. Names load on
first use (PEP 562).
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    [f"ganlimits.verify.{m}" for m in ("_results", "_registry", "_report", "_sweep", "_streams", "_audit")],
)
