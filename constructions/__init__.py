"""ganlimits.constructions — the witnesses of the theorems as exact torch networks, the planted controls (generators
that break a claim by a known amount), and the target distributions.

Imports :mod:`ganlimits.theory` only. Names load on first use (PEP 562); ``ganlimits.constructions.strategies``
holds hypothesis strategies for property tests and needs the ``[testing]`` extra; the circuits' layers are in
:mod:`ganlimits.constructions.circuits`.
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    ["._noise", "._partition", "._selector", "._generator", "._encoder", "._targets", "._noised_target",
     "._mixture_generator", "._planted", ".circuits"],
    only=["NoiseModel", "noise_positions", "GaussianBlockPartition", "gaussian_thresholds", "Selector",
          "IdealGenerator", "MemorizingGenerator", "check_memory", "NoiseExtractingEncoder",
          "Target", "GaussianMixtureTarget", "DigitsTarget", "gaussian_mixture", "digits", "ring", "grid",
          "mixture_1200d", "NoisedTarget", "FoldedMixtureGenerator", "mixture_generator_from_target",
          "mixture_generator_from_sample", "memorizing_generator", "hashed_memorizing_generator",
          "HashedMemoryGenerator", "support_one_generator", "FreshGenerator", "CodeDependentGenerator",
          "PlantedMixture", "LabelLeakingEncoder", "ContaminatedTarget", "class_probabilities", "mixture_box",
          "OnModesGenerator", "DiffuseGenerator", "OutOfBoxGenerator", "SamplerMixture"],
)
