"""ganlimits.verify.estimators — the measuring instruments: discriminator families and measuring functions,
trained attackers, gap and distance estimators, confidence intervals, closest pairs, the birthday test, probes and
the inception score.

Every function takes its randomness as one argument, ``rng`` (an integer seed or a ``torch.Generator``), accepts
samples as numpy arrays, torch tensors or samplers and models as torch modules or callables (``docs/api.md``, "What
the instruments accept"), and returns results with their interval, confidence, n and seed. Estimators import only
the plumbing of :mod:`ganlimits.verify` (results), never a claim or the lab. Names load on first use (PEP 562).
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    ["._phi", "._families", "._attackers", "._intervals", "._gap", "._distance", "._pairs", "._birthday_design",
     "._birthday_support", "._birthday", "._probes", "._verdict_attack"],
)
