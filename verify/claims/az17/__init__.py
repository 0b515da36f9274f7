"""The claims of Arora & Zhang 2017, "Do GANs learn the distribution? Some theory and empirics" (the
birthday-paradox test); the mathematics is in ``docs/papers/az17.md``.

- ``az17-birthday`` (:mod:`.birthday`) — the birthday-paradox test recovers a support size;
- ``az17-diversity`` (:mod:`.diversity`) — the support of a trained GAN grows with its discriminator's size, then
  plateaus.

Claim modules of one paper share this package's private modules; no claim imports another claim.
"""

__all__: list[str] = []
