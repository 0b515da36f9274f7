"""ganlimits.verify — the attacks and measurements, in three rooms plus plumbing.

- :mod:`ganlimits.verify.estimators` — measuring instruments (discriminator families, attackers, gap and distance
  estimators, intervals, closest pairs, the birthday test, probes, the ``arz-thm1`` verdict attack);
- :mod:`ganlimits.verify.lab` — how GANs train (the training lab, VEEGAN's mode metrics, closed-form two-Gaussian
  dynamics);
- :mod:`ganlimits.verify.claims` — one package per paper, one module per claim, composing the two above and deciding
  a verdict;
- :mod:`ganlimits.verify.runs` — plumbing: the registry of claims, results, reports, sweeps and random streams (and
  the CLI, ``ganlimits``).

Imports flow claims -> lab -> estimators -> plumbing, never back. The top level keeps the entry points a user needs
(:data:`__all__`, under 40 names: running a claim, auditing a model, the main instruments and the lab's trainer);
every other public name is in the room it belongs to, and asking the top level for one says where. Every name loads
on first use (PEP 562), so ``ganlimits list`` does not import torch.
"""

from importlib.metadata import PackageNotFoundError, version

from ganlimits.theory._lazy import lazy_exports

try:
    __version__ = version("ganlimits")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

#: The entry points, by what a user does with them.
ENTRY_POINTS = {
    "run a claim and read its result": ["available_claims", "claim_settings", "run_claim", "RunConfig",
                                        "ClaimResult", "Estimate", "VERDICTS", "read_result", "load_results",
                                        "write_report"],
    "audit your own model": ["audit", "AuditResult", "AuditSettings"],
    "instruments": ["birthday_test", "BirthdayResult", "pilot_sizes", "threshold_from_reference",
                    "neural_net_distance", "MLPFamily", "family_gap", "bigan_gap", "bigan_attack", "verdict_attack",
                    "AttackSettings", "label_probe", "wasserstein1", "closest_pairs", "inception_score",
                    "clopper_pearson", "hoeffding_interval"],
    "train in the lab": ["lab_target", "LabConfig", "train_gan", "train_until_settled", "mode_metrics",
                         "ModeMetrics", "MODELS"],
}

__getattr__, __dir__ = lazy_exports(
    __name__,
    [".runs", ".estimators", ".lab"],
    eager=["__version__"],
    only=[name for names in ENTRY_POINTS.values() for name in names],
)
