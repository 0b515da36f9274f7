"""ganlimits.verify.estimators — the measuring instruments: discriminator families and measuring functions,
trained attackers, gap and distance estimators, confidence intervals, closest pairs, the birthday test, probes and
the inception score.

Every function takes its randomness as one argument, ``rng`` (an integer seed or a ``torch.Generator``), accepts
samples as numpy arrays, torch tensors or samplers and models as torch modules or callables (``docs/api.md``, "What
the instruments accept"), and returns results with their interval, confidence, n and seed. Estimators import only
the plumbing of :mod:`ganlimits.verify` (results), never a claim or the lab. Names load on first use (PEP 562).
Confidence intervals and p-values are in :mod:`ganlimits.verify.estimators.intervals` (the two most used also here),
the birthday test's support intervals in :mod:`ganlimits.verify.estimators.support`.
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    ["._phi", "._families", "._attackers", "._gap", "._distance", "._pairs", "._birthday_design", "._birthday",
     "._probes", "._verdict_attack", ".intervals", ".support"],
    only=["Phi", "phi_identity", "phi_log", "as_phi", "DEFAULT_LOG_CLIP", "MLPFamily", "train_attacker",
          "member_gaps", "gap_from_values", "family_gap", "bigan_samples", "bigan_gap", "bigan_attack",
          "NNDInfo", "neural_net_distance", "wasserstein1", "nearest_distance_bound",
          "closest_pairs", "nearest_neighbour_distances", "select_coordinates",
          "threshold_from_reference", "threshold_from_noise", "pool_sampler", "pilot_sizes",
          "BirthdayResult", "CollisionPoint", "FrequentPoint", "birthday_test",
          "chance_level", "probe_accuracy", "leak_test", "label_probe", "memory_row_detector", "reconstruction_ratio",
          "inception_score", "AttackSettings", "verdict_attack", "hoeffding_interval", "clopper_pearson"],
)
