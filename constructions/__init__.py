"""ganlimits.constructions — the witnesses of the theorems as exact torch networks, the planted controls (generators
that break a claim by a known amount), and the target distributions.

Imports :mod:`ganlimits.theory` only. Names load on first use (PEP 562); ``ganlimits.constructions.strategies``
holds hypothesis strategies for property tests and needs the ``[testing]`` extra.
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    ["._noise", "._partition", "._circuits", "._selector", "._generator", "._encoder", "._targets", "._noised_target",
     "._mixture_generator", "._planted"],
)
