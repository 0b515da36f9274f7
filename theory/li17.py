"""ganlimits.theory.li17 — the two-Gaussian GAN of Li, Madry, Peebles & Schmidt 2017 and the optimal discriminator of
Madry's lecture 9 (``docs/papers/li17.md``, ``docs/papers/lecture9.md``): the loss, its gradients and the symbolic
derivation.

The entry points among these are also at the top of :mod:`ganlimits.theory`; this module holds all of them under one
public name. Names load on first use (PEP 562).
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__, [f"ganlimits.theory.{m}" for m in ("_li17",)]
)
