"""The claims of Arora, Ge, Liang, Ma & Zhang 2017, "Generalization and equilibrium in generative adversarial
nets" (ICML 2017); the mathematics is in ``docs/papers/agl17.md``.

- ``agl17-thm31`` (:mod:`.thm31`) — Theorem 3.1: the neural-net distance generalizes from m samples;
- ``agl17-equilibrium`` (:mod:`.equilibrium`) — Theorems 4.2-4.3: a mixture of T generators folded into
  one network reaches an ε-approximate equilibrium;
- ``agl17-mixgan`` (:mod:`.mixgan`) — MIX+GAN against the plain GAN on the lab's targets.

Claim modules of one paper share this package's private modules; no claim imports another claim.
"""

__all__: list[str] = []
