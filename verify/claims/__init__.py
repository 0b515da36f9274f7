"""ganlimits.verify.claims — one module per claim id (``arz-thm1`` is :mod:`ganlimits.verify.claims.arz_thm1`).

Every claim module holds a frozen ``Settings`` dataclass with ``quick()`` and ``full()`` and a
``run(config, settings=None) -> ClaimResult``; what every claim shares (building the result, the verdict rule,
the power machinery) lives once in :mod:`ganlimits.verify.claims._common`. A claim measures nothing itself: it
composes estimators, lab runs and constructions, and decides. No claim imports another claim.
Run one with :func:`ganlimits.verify.run_claim` or ``ganlimits verify CLAIM``.
"""

__all__: list[str] = []
