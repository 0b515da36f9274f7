"""The claims of Madry's lecture 9, "GANs as distribution learners"; the mathematics is in
``docs/papers/lecture9.md``.

- ``lecture-optimal-d`` (:mod:`.optimal_d`) — the optimal discriminator and the Jensen-Shannon identity (exact);
- ``lecture-inception-fooled`` (:mod:`.inception_fooled`) — a generator of support 3 can beat the true law on the
  inception score.

Claim modules of one paper share this package's private modules; no claim imports another claim.
"""

__all__: list[str] = []
