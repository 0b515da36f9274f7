"""ganlimits.verify.lab — how GANs train: the closed-form dynamics of a two-Gaussian GAN (Li, Madry, Peebles &
Schmidt 2017) — model, optimal discriminator, dynamics and outcomes — and trained MLP GANs (GAN, ALI/BiGAN, Unrolled
GAN, VEEGAN, PacGAN, WGAN-GP, MIX+GAN, GANs with a discriminator of chosen size) on synthetic targets, trained one
run at a time or as a stack of seeded runs in one network with batched weights (the same numbers, faster), with the
mode-collapse metrics and the empirical equilibrium gap of a trained generator.

The lab may import :mod:`ganlimits.verify.estimators` and the plumbing, never a claim. Names load on first use.
"""

from ganlimits.theory._lazy import lazy_exports

__getattr__, __dir__ = lazy_exports(
    __name__,
    ["._li17_model", "._li17_roots", "._li17_dynamics", "._li17_outcomes", "._li17_horizon", "._models",
     "._gan_steps", "._gan_joint", "._gan_unrolled", "._mode_metrics", "._trainer", "._mixgan", "._equilibrium_gap",
     "._sized_gan",
     "._horizon", "._regime", "._stack", "._stacked"],
)
