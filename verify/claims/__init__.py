"""ganlimits.verify.claims — the claims, one package per paper (as the pages of ``docs/papers/``) and one module per
claim id inside it: ``arz-thm1`` is :mod:`ganlimits.verify.claims.arz17.thm1`.

- :mod:`~ganlimits.verify.claims.arz17` (``docs/papers/arz17.md``): ``arz-thm1``, ``arz-thm3``, ``arz-lemA2``,
  ``arz-codes``, ``arz-trained-bigan``;
- :mod:`~ganlimits.verify.claims.agl17` (``docs/papers/agl17.md``): ``agl17-thm31``, ``agl17-equilibrium``,
  ``agl17-mixgan``;
- :mod:`~ganlimits.verify.claims.az17` (``docs/papers/az17.md``): ``az17-birthday``, ``az17-diversity``;
- :mod:`~ganlimits.verify.claims.li17` (``docs/papers/li17.md``): ``li17-dynamics``;
- :mod:`~ganlimits.verify.claims.lecture9` (``docs/papers/lecture9.md``): ``lecture-optimal-d``,
  ``lecture-inception-fooled``;
- :mod:`~ganlimits.verify.claims.veegan` (``docs/papers/veegan.md``): ``veegan-benchmark``.

Every claim module holds a frozen ``Settings`` dataclass with ``quick()`` and ``full()`` and a
``run(config, settings=None) -> ClaimResult``; what every claim shares (building the result, the verdict rule,
the power machinery) lives once in :mod:`ganlimits.verify.claims._common`, the paired comparisons of trained runs in
``_paired`` and their tables in ``_lab_tables``; what the claims of one paper share lives in that paper's package. A
claim measures nothing itself: it composes estimators, lab runs and constructions, and decides. No claim imports
another claim. Run one with :func:`ganlimits.verify.run_claim` or ``ganlimits verify CLAIM``.
"""

__all__: list[str] = []
