"""ganlimits.theory.arz17 — the bounds of Arora, Risteski & Zhang 2017 (``docs/papers/arz17.md``): Theorem 1's support
size and its concentration steps (Hoeffding, McDiarmid, the epsilon-net), Theorem 3's ReLU generator (weight counts,
ramp widths, mismatch probability), Lemma A.2's tail.

The entry points among these are also at the top of :mod:`ganlimits.theory`; this module holds all of them under one
public name. Names load on first use (PEP 562).
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__, [f"ganlimits.theory.{m}" for m in ("_arz_thm1", "_arz_thm3", "_arz_lemA2")]
)
