"""Shared test settings: hypothesis profiles and the fast/slow split.

Profiles: ``ci`` (the default: ``derandomize=True``, so a property test cannot flake on CI or on a fresh clone) and
``dev`` (``HYPOTHESIS_PROFILE=dev``: random search, to look for new counterexamples). Heavy Monte Carlo is marked
``slow`` and runs under ``make test-slow``.
"""

import os

import matplotlib
import torch
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")

settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile(
    "ci", max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# One torch thread per test process: the suite runs on two xdist workers (one per core), and its workloads are
# many small matrix products, for which a second thread per process costs more than it gains.
torch.set_num_threads(1)
