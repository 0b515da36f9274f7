"""The claim of Srivastava, Valkov, Russell, Gutmann & Sutton 2017, "VEEGAN" (with PacGAN, Lin et al. 2018):
the mode-collapse benchmarks; the mathematics is in ``docs/papers/veegan.md``.

- ``veegan-benchmark`` (:mod:`.benchmark`) — GAN, ALI, Unrolled GAN, VEEGAN, PacGAN and WGAN-GP trained on the
  ring, the grid and the 1200-D mixture, compared only on runs in the published regime.

Claim modules of one paper share this package's private modules; no claim imports another claim.
"""

__all__: list[str] = []
