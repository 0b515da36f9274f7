"""ganlimits.verify — the attacks and measurements, in three rooms plus plumbing.

- :mod:`ganlimits.verify.estimators` — measuring instruments (discriminator families, attackers, gap and distance
  estimators, intervals, closest pairs, the birthday test, probes);
- :mod:`ganlimits.verify.lab` — how GANs train (closed-form two-Gaussian dynamics);
- :mod:`ganlimits.verify.claims` — one module per claim, composing the two above and deciding a verdict;
- plumbing — results, the registry of claim modules, reports, figures, sweeps, random streams and the CLI.

Imports flow claims -> lab -> estimators -> plumbing, never back. This package re-exports the instruments, the lab
and the results; every name loads on first use (PEP 562), so ``ganlimits list`` does not import torch.
"""

from importlib.metadata import PackageNotFoundError, version

from ganlimits.theory._lazy import lazy_exports

try:
    __version__ = version("ganlimits")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__getattr__, __dir__ = lazy_exports(
    __name__,
    ["._results", "._registry", "._report", "._sweep", "._streams", ".estimators", ".lab", "._audit"],
    eager=["__version__"],
)
