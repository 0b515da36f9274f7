"""The registry of claims: what each theorem says, where it comes from, and what would refute it.

A claim is a statement; :mod:`ganlimits.verify` holds the code that attacks it. Each entry names the
paper and theorem, states the claim in one paragraph, and says whether it is an exact identity (checked
exactly) or a statement about all members of a class (checked by attacks, with a control for power).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Claim", "CLAIMS", "get_claim"]


@dataclass(frozen=True)
class Claim:
    """A checkable statement from one of the seed papers.

    ``kind`` is ``"identity"`` (exact, verdict ``holds``/``fails``), ``"upper"`` (a quantity stays below a bound
    for every member of a class: verdict ``consistent``/``refuted``/``inconclusive``) or ``"contrast"`` (a set
    of measurements with their own stated criteria, verdict ``consistent``/``refuted``/``inconclusive``).
    """

    id: str
    source: str
    statement: str
    kind: str
    issue_section: str = ""


_ALL = [
    Claim(
        "arz-thm1",
        "Arora, Risteski & Zhang 2017 (arXiv 1711.02651), Theorem 1 / Theorem 2",
        "A generator of support m and an encoder that outputs pure noise make the BiGAN gap at most eps for every "
        "discriminator of capacity < p that is L-Lipschitz in its parameters, once m reaches the theorem's size.",
        "upper",
    ),
    Claim(
        "arz-thm3",
        "Arora, Risteski & Zhang 2017, Theorem 3",
        "The memorizing generator is a ReLU network with O(m d) non-zero weights within total variation delta of the "
        "ideal step-function generator (mismatch probability, weight count and largest weight checked exactly).",
        "identity",
    ),
    Claim(
        "arz-lemA2",
        "Arora, Risteski & Zhang 2017, Lemma A.2",
        "For a fixed discriminator, the generator's objective term over random memorized samples and non-colliding "
        "codes has mean E_mu phi(D(x, E(x))) and concentrates: Pr[|f - E f| >= t] <= 2 exp(-m t^2 / (4 Delta^2)).",
        "upper",
    ),
    Claim(
        "arz-codes",
        "Arora, Risteski & Zhang 2017, Theorem 1 part (b)",
        "The near-optimal encoder's codes carry no information about the image: they are white noise (independence "
        "checked exactly; a label probe calibrated against planted leaks).",
        "contrast",
    ),
    Claim(
        "arz-trained-bigan",
        "Arora, Risteski & Zhang 2017, Theorem 1 (trained pairs; the paper's open question)",
        "A near-optimal BiGAN objective does not imply informative codes. Measured on ALI/BiGAN pairs trained on the "
        "theorem's digits target and a Gaussian mixture: the gap (arz-thm1's attack and a stronger one), a label probe "
        "of E(x) calibrated against planted leaks, reconstruction and birthday support, beside the memorizing witness "
        "at matched gap.",
        "contrast",
    ),
    Claim(
        "az17-birthday",
        "Arora & Zhang 2017, 'Do GANs learn the distribution?' (birthday paradox test)",
        "Collisions among s samples of a distribution of support N appear with probability 1/2 at s ~ 1.18 sqrt(N); "
        "on full output vectors, with a duplicate threshold calibrated on held-out data, the test recovers known "
        "supports within a factor 1.5 (calibrated interval), flags non-uniform mass, and exposes the memorizing "
        "generator that fools the BiGAN objective.",
        "contrast",
    ),
    Claim(
        "az17-diversity",
        "Arora & Zhang 2017, 'Do GANs actually do distribution learning?' (diversity vs discriminator size)",
        "With other settings fixed, the birthday-test support of a trained GAN's generator grows near-linearly with "
        "the discriminator's size, then plateaus: the growth slope of a hinge of log support on log discriminator "
        "parameters lies within a tolerance of 1 (valid runs only: settled, in regime, not flagged non-uniform; on a "
        "256-mode grid whose support is far above the growth region's; planted generators of known support checked "
        "first).",
        "contrast",
    ),
    Claim(
        "agl17-thm31",
        "Arora, Ge, Liang, Ma & Zhang 2017 (ICML), Theorem 3.1 and corollary",
        "The uniform distribution on m samples of a target is within neural-net distance eps of the target once "
        "m reaches Theorem 3.1's size (~ C p log(p) / eps^2) for a discriminator class of capacity p. (The "
        "Wasserstein contrast is measured on the 1200-D mixture and reported beside the verdict, not decided.)",
        "upper",
    ),
    Claim(
        "agl17-equilibrium",
        "Arora, Ge, Liang, Ma & Zhang 2017 (ICML), Theorems 4.2-4.3",
        "A mixture of T Gaussians drawn from an approximation of the target learned from samples, folded into one "
        "ReLU network by a selector, reaches an eps-approximate equilibrium once T reaches Theorem 4.2's size: no "
        "discriminator of the class gains more than eps over the value 2 phi(1/2).",
        "upper",
    ),
    Claim(
        "li17-dynamics",
        "Li, Madry, Peebles & Schmidt 2017, via Madry's lecture 9",
        "On a mixture of two unit Gaussians (the lecture's Figure 1 setting, random starts), at a horizon where the "
        "runs have settled: optimal-discriminator dynamics converge (share >= 0.95), while simultaneous first-order "
        "dynamics sometimes converge (share > 0) but more often than not fail by mode collapse or vanishing "
        "gradient (share > 1/2).",
        "contrast",
    ),
    Claim(
        "lecture-optimal-d",
        "Goodfellow et al. 2014, as stated in Madry's lecture 9",
        "For fixed P_D and P_S the optimal discriminator is P_D/(P_D + P_S) and the GAN loss there is 2 JS - log 4.",
        "identity",
    ),
    Claim(
        "lecture-inception-fooled",
        "Madry's lecture 9 (remark on the inception score)",
        "A support-3 generator that randomizes over the 3 modes (one random draw per mode) loses on average at most "
        "10% of the true law's inception score above 1 (the probability that it scores at least as high is "
        "reported), while the birthday test and the neural-net distance expose it.",
        "contrast",
    ),
    Claim(
        "veegan-benchmark",
        "Srivastava, Valkov, Russell, Gutmann & Sutton 2017 (VEEGAN, NIPS), Table 1",
        "On the ring of 8 Gaussians, the grid of 25 and the 1200-D mixture of 10, VEEGAN captures more modes than "
        "GAN and ALI on each target (modes captured by VEEGAN's metric on 2,500 samples, paired over seeds).",
        "contrast",
    ),
    Claim(
        "agl17-mixgan",
        "Arora, Ge, Liang, Ma & Zhang 2017 (ICML), Section 5 (MIX+GAN), and Arora's 2017 blog post on it",
        "A trained mixture of k = 5 generators and 5 discriminators (MIX+GAN: softmax weights, entropy regulariser) "
        "with full-size components, each trained as long as the single GAN (the paper's protocol: k times the capacity "
        "and the training work), captures more modes than a single GAN (k = 1) on the grid of 25 (modes by VEEGAN's "
        "metric on 2,500 samples, paired over seeds; runs trained to a settled horizon, decided only in regime); the "
        "equal-parameter arm and the empirical equilibrium gap of each trained mixture are reported beside it.",
        "contrast",
    ),
]

CLAIMS: dict[str, Claim] = {c.id: c for c in _ALL}
"""Every claim by id, in the order of the report (``ganlimits list``)."""


def get_claim(claim_id: str) -> Claim:
    """The claim with this id; ``KeyError`` listing the known ids otherwise."""
    try:
        return CLAIMS[claim_id]
    except KeyError:
        raise KeyError(f"unknown claim {claim_id!r}; known: {', '.join(CLAIMS)}") from None
