"""The claim of Li, Madry, Peebles & Schmidt 2017, "On the limitations of first-order approximation in GAN
dynamics" (via Madry's lecture 9); the mathematics is in ``docs/papers/li17.md``.

- ``li17-dynamics`` (:mod:`.dynamics`) — GAN dynamics on a mixture of two Gaussians: optimal-discriminator dynamics
  converge, first-order dynamics fail more often than not, unrolling changes the outcome.

Claim modules of one paper share this package's private modules; no claim imports another claim.
"""

__all__: list[str] = []
