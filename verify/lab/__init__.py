"""ganlimits.verify.lab — how GANs train: the closed-form dynamics of a two-Gaussian GAN (Li, Madry, Peebles &
Schmidt 2017) — model, optimal discriminator, dynamics and outcomes — and trained MLP GANs (GAN, ALI/BiGAN, Unrolled
GAN, VEEGAN, PacGAN, WGAN-GP, MIX+GAN, GANs with a discriminator of chosen size) on synthetic targets, trained one
run at a time or as a stack of seeded runs in one network with batched weights (the same numbers, faster), with the
mode-collapse metrics and the empirical equilibrium gap of a trained generator.

The top level keeps the models, the trainers and the scores a user trains and reads with; the rest is by topic:
:mod:`ganlimits.verify.lab.dynamics` (the closed-form two-Gaussian GAN), :mod:`~ganlimits.verify.lab.stacked` (the
stacked trainer), :mod:`~ganlimits.verify.lab.regime` (settle rule and regime gate) and
:mod:`~ganlimits.verify.lab.metrics` (mode metrics and the equilibrium gap); asking the top level for another name
says where it is.

The lab may import :mod:`ganlimits.verify.estimators` and the plumbing, never a claim. Names load on first use.
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    ["._models", "._gan_steps", "._gan_joint", "._gan_unrolled", "._trainer", "._mixgan", "._sized_gan", ".metrics",
     ".regime", ".stacked", ".dynamics"],
    only=["LR_SCHEDULES", "LabConfig", "mlp", "LabGenerator", "LabEncoder",
          "LabMethod", "VanillaGAN", "PacGAN", "WGANGP", "BiGAN", "ALI", "VEEGAN", "UnrolledGAN",
          "MODELS", "MODEL_LABELS", "LAB_TARGETS", "lab_target", "build_method", "check_device", "Snapshot",
          "TrainResult", "train_gan", "run_steps", "train_with_snapshots", "train_until_settled", "SettledTraining",
          "score_samples",
          "MixGAN", "MixtureLabGenerator", "MixTrainResult", "component_width", "mix_entropy", "train_mixgan",
          "SizedGAN", "SizedRun", "train_sized_gan", "discriminator_parameters",
          "mode_metrics", "ModeMetrics", "equilibrium_gap"],
)
