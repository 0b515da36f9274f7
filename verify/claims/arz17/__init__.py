"""The claims of Arora, Risteski & Zhang 2017, "Theoretical limitations of encoder-decoder GAN architectures"
(arXiv 1711.02651); the mathematics is in ``docs/papers/arz17.md``.

- ``arz-thm1`` (:mod:`.thm1`) — Theorem 1 / 2: a generator of support m and a noise-extracting encoder make the
  BiGAN gap at most ε for every small Lipschitz discriminator, once m reaches the theorem's size;
- ``arz-thm3`` (:mod:`.thm3`) — Theorem 3: the memorizing generator as a ReLU network within total variation δ;
- ``arz-lemA2`` (:mod:`.lemA2`) — Lemma A.2: McDiarmid concentration of the generator's objective term;
- ``arz-codes`` (:mod:`.codes`) — Theorem 1 (b): the near-optimal encoder's codes are white noise;
- ``arz-trained-bigan`` (:mod:`.trained_bigan`) — trained ALI/BiGAN pairs attacked with the theorem's instruments.

Claim modules of one paper share this package's private modules; no claim imports another claim.
"""

__all__: list[str] = []
