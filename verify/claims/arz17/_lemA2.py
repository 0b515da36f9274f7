r"""The measurements behind claim ``arz-lemA2``: draws of Lemma A.2's f, the centre E_μ φ, the identity of Lemma A.1,
the tail test, the discriminators, and the planted tail laws of its power curve (Arora, Risteski & Zhang 2017,
arXiv 1711.02651, Lemmas A.1 and A.2; ``docs/papers/arz17.md``).

.. math::

    f(\tilde x^*_{1..m}, z_{1..m}) = \frac1m \sum_{i=1}^m \phi(D(\tilde x^*_i \odot z_i, z_i)),
    \qquad \tilde x^*_i \sim \tilde\mu,\ z_i \sim \nu|_{\text{block } i}.

Shape letters: ``R`` replicates (independent draws of the memorized samples and of a non-colliding set), ``m``
support size, ``d`` image dimension, ``d_code`` code dimension, ``G`` points of the t grid, ``J`` fixed
discriminators tested on the same draws.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from scipy import optimize, special
from tqdm import tqdm

from ganlimits.constructions import GaussianBlockPartition, NoisedTarget, NoiseModel, Target
from ganlimits.theory.arz17 import MCDIARMID_TAIL, NORMAL_HALF_WIDTH

from ..._results import Estimate
from ..._streams import Streams
from ...estimators import MLPFamily, Phi, as_phi, clopper_pearson
from ...estimators.intervals import normal_interval

__all__ = ["objective_draws", "target_mean", "identity_check", "tail_test", "tail_estimate", "solve_t",
           "max_variance_member", "planted_tail_sd", "tail_trial"]

_ROWS = 1 << 16  # rows per evaluation chunk: R * m never materialises more than this many images at once


def _phi_values(discriminator: Callable, x: torch.Tensor, code: torch.Tensor, phi: Phi) -> torch.Tensor:
    """phi(D(x, code)) in float64, after checking that D returned finite values in [0, 1]."""
    name = getattr(discriminator, "__name__", type(discriminator).__name__)
    with torch.no_grad():
        values = torch.as_tensor(discriminator(x, code))
    if values.shape != (x.shape[0],):
        raise ValueError(f"discriminator {name} must return shape ({x.shape[0]},), got {tuple(values.shape)}")
    values = values.to(torch.float64)
    if not bool(torch.isfinite(values).all()):
        raise ValueError(f"discriminator {name} returned NaN or infinity")
    if bool((values < 0).any()) or bool((values > 1).any()):
        raise ValueError(f"discriminator {name} must return values in [0, 1], got values in "
                         f"[{float(values.min()):.4g}, {float(values.max()):.4g}]")
    return phi(values)


def objective_draws(discriminators: Sequence[Callable], *, clean: Target, partition: GaussianBlockPartition,
                    noise: NoiseModel, phi: Phi | str, R: int, generator: torch.Generator,
                    image_of: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                    progress: bool = False) -> torch.Tensor:
    r"""R independent draws of Lemma A.2's f for each fixed discriminator, on common random draws.

    .. math::

        f_r = \frac1m \sum_{i=0}^{m-1} \phi\big(D(\tilde x^*_{r,i} \odot z_{r,i},\, z_{r,i})\big),
        \qquad \tilde x^*_{r,i} \sim \tilde\mu,\quad z_{r,i} \sim \nu|_{\text{block } i}

    Since :math:`z_{r,i}` lies in block i, :math:`\tilde x^*_{r,i} \odot z_{r,i} = G_r(z_{r,i})` for the
    memorizing generator :math:`G_r` with memory :math:`\tilde x^*_{r,\cdot}`. The memorized samples come
    from ``clean`` (a biased sampler such as ``ContaminatedTarget`` plants a known bias), the codes from
    ``partition.sample_in_blocks``. ``discriminators``: callables ``D(x (n, d), code (n, d_code)) -> (n,)`` with
    values in [0, 1]. ``image_of(x_clean, z)`` replaces ``noise.noised`` (a negative control passes a map that
    ignores the code). Draw order: replicates in batches of ``_ROWS // m``; per batch the clean sample, then the
    codes. Returns float64 ``(J, R)``.
    """
    phi = as_phi(phi)
    if not isinstance(R, int) or R < 2:
        raise ValueError(f"R must be an integer >= 2, got {R!r}")
    if clean.dim != noise.dim or partition.code_dim != noise.code_dim:
        raise ValueError(f"clean.dim ({clean.dim}) must equal noise.dim ({noise.dim}) and partition.code_dim "
                         f"({partition.code_dim}) must equal noise.code_dim ({noise.code_dim})")
    image_of = noise.noised if image_of is None else image_of
    m = partition.m
    per_batch = max(1, _ROWS // m)
    out = torch.empty(len(discriminators), R, dtype=torch.float64)
    blocks = torch.arange(m, dtype=torch.int64)
    for start in tqdm(range(0, R, per_batch), desc="arz-lemA2 draws", disable=not progress, leave=False):
        r = min(per_batch, R - start)
        memory, _ = clean.sample(r * m, generator=generator)
        z = partition.sample_in_blocks(blocks.repeat(r), generator=generator)
        x = image_of(memory, z)
        for j, D in enumerate(discriminators):
            out[j, start:start + r] = _phi_values(D, x, z, phi).view(r, m).mean(dim=1)
    return out


def target_mean(discriminators: Sequence[Callable], *, target: NoisedTarget,
                encoder: Callable[[torch.Tensor], torch.Tensor], phi: Phi | str, n: int,
                generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Monte-Carlo mean and unbiased variance of :math:`\\phi(D(x, E(x)))`, x ~ mu (``target``), for each
    discriminator on one common sample of size ``n`` drawn in chunks: two float64 ``(J,)`` tensors.

    Sums are accumulated around the first chunk's mean (no cancellation when the variance is tiny)."""
    phi = as_phi(phi)
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    J = len(discriminators)
    shift, s1, s2 = (torch.zeros(J, dtype=torch.float64) for _ in range(3))
    for start in range(0, n, _ROWS):
        x, _ = target.sample(min(_ROWS, n - start), generator=generator)
        code = encoder(x)
        for j, D in enumerate(discriminators):
            v = _phi_values(D, x, code, phi)
            if start == 0:
                shift[j] = v.mean()
            v = v - shift[j]
            s1[j] += v.sum()
            s2[j] += (v * v).sum()
    mean = s1 / n
    var = (s2 - n * mean * mean) / (n - 1)
    return mean + shift, var.clamp(min=0.0)


def identity_check(f: torch.Tensor, mu_mean: float, mu_var: float, *, n_mu: int, confidence: float) -> dict:
    """Lemma A.1: E f = E_mu phi(D(x, E(x))), tested with two normal-approximation (CLT) intervals.

    The R draws of f are i.i.d. (their spread, not phi's range, sets the width); ``mu_mean`` and ``mu_var`` are the
    mean and variance of ``n_mu`` i.i.d. values of phi(D(x, E(x))). Each interval has level
    ``1 - (1 - confidence)/2``, so the difference interval ``[lo_f - hi_mu, hi_f - lo_mu]`` covers ``E f - E_mu``
    with probability about ``confidence``; the identity is consistent with the data when it contains 0.
    """
    level = 1 - (1 - confidence) / 2
    ef = normal_interval(torch.as_tensor(f, dtype=torch.float64), confidence=level)
    half = float(NORMAL_HALF_WIDTH(V=max(float(mu_var), 1e-300), n=n_mu, alpha=1 - level))
    emu = Estimate(float(mu_mean), float(mu_mean) - half, float(mu_mean) + half, level, n_mu, "normal (CLT)")
    lo, hi = ef.ci_low - emu.ci_high, ef.ci_high - emu.ci_low
    diff = Estimate(ef.estimate - emu.estimate, lo, hi, confidence, ef.n + n_mu, "normal (CLT) difference")
    return {"E_f": ef, "E_mu": emu, "difference": diff, "agree": bool(lo <= 0.0 <= hi)}


def tail_test(f: torch.Tensor, *, centre: float, centre_half_width: float, t_grid, bound, confidence_each: float
              ) -> dict:
    """Empirical tail of f against a bound on a grid of t, with one-sided Clopper-Pearson limits on both sides.

    The centre E f is known only within ``centre_half_width`` h (an interval from an independent sample). On
    the event that it is, ``|f - centre| >= t + h`` implies ``|f - E f| >= t``, so the count ``N+(t)`` of draws
    with ``|f_r - centre| >= t + h`` is dominated by a Binomial(R, Pr[|f - E f| >= t]) count: its one-sided
    Clopper-Pearson LOWER limit is a valid lower confidence limit of the true tail. Symmetrically,
    ``|f - E f| >= t`` implies ``|f - centre| >= t - h``, so the count ``N-(t)`` with the shift ``-h`` dominates the
    true count: its one-sided Clopper-Pearson UPPER limit is a valid upper confidence limit. The bound is
    ``violated`` at t when the lower limit exceeds it. ``t_grid`` (G,), ``bound`` (G,); ``confidence_each`` is the
    per-limit level (the caller applies Bonferroni). ``estimates`` holds, per t, the raw tail
    ``Pr_hat[|f - centre| >= t]`` with those two limits (``sides = 1``: each limit alone at ``confidence_each``).
    """
    f = torch.as_tensor(f, dtype=torch.float64).numpy()
    t_grid = np.asarray(t_grid, dtype=np.float64)
    bound = np.asarray(bound, dtype=np.float64)
    R = f.size
    dev = np.abs(f - centre)
    counts = (dev[None, :] >= t_grid[:, None] + centre_half_width).sum(axis=1)
    counts_upper = (dev[None, :] >= t_grid[:, None] - centre_half_width).sum(axis=1)
    raw = (dev[None, :] >= t_grid[:, None]).sum(axis=1) / R
    estimates = [tail_estimate(int(c), int(cu), float(r), R, confidence_each)
                 for c, cu, r in zip(counts, counts_upper, raw, strict=True)]
    low = np.array([e.ci_low for e in estimates])
    return {"t": t_grid, "bound": bound, "count": counts, "count_upper": counts_upper, "tail": counts / R,
            "raw_tail": raw, "cp_low": low, "cp_high": np.array([e.ci_high for e in estimates]),
            "violated": low > bound, "estimates": estimates}


def tail_estimate(count: int, count_upper: int, raw: float, R: int, confidence: float) -> Estimate:
    """The tail Estimate of :func:`tail_test` at one t: the one-sided Clopper-Pearson lower limit of ``count``
    (shift +h), the upper limit of ``count_upper`` (shift -h), ``raw`` the unshifted share; ``sides = 1``."""
    lo = clopper_pearson(count, R, confidence=confidence, sides=1).ci_low
    hi = clopper_pearson(count_upper, R, confidence=confidence, sides=1).ci_high
    return Estimate(raw, lo, hi, confidence, R, "clopper-pearson, one-sided, centre shift +-h", sides=1)


def solve_t(*, m: int, phi_range: float, level: float) -> float:
    """The t at which MCDIARMID_TAIL equals ``level`` (root of the Bound itself, bracketed)."""
    def fn(t):
        return float(MCDIARMID_TAIL(m=m, t=t, phi_range=phi_range)) - level

    hi = 1.0
    while fn(hi) > 0:
        hi *= 2
    return float(optimize.brentq(fn, 1e-12, hi, xtol=1e-14, rtol=1e-12))


def max_variance_member(family_kwargs: dict, *, target: NoisedTarget, encoder, phi: Phi, K: int, steps: int,
                        lr: float, n: int, generator: torch.Generator, batch_size: int = 512
                        ) -> tuple[Callable, dict]:
    """A fixed discriminator of the class whose phi(D(x, E(x))) has a large variance under mu: K members trained
    by projected Adam ascent on the sample variance of minibatches of ``batch_size`` rows of a sample of ``n``
    (``MLPFamily.project_`` after every step, so they stay in the class); the member with the largest variance on
    a fresh sample of ``n`` is kept (evaluated in float64)."""
    x, _ = target.sample(n, generator=generator)
    u = torch.cat([x, encoder(x)], dim=1)
    fam = MLPFamily(**(family_kwargs | {"dtype": torch.float32}), K=K, generator=generator)
    u = fam.clip_inputs(fam.joint(u))
    params = [*fam.weights, *fam.biases]
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=lr, maximize=True)
    for _ in range(steps):
        opt.zero_grad()
        rows = torch.randint(u.shape[0], (min(batch_size, u.shape[0]),), generator=generator)
        phi(fam.forward(u[rows], clipped=True)).var(dim=1).sum().backward()
        opt.step()
        fam.project_()
    best_fam = MLPFamily(**family_kwargs, K=K, weights=[w.detach().double() for w in fam.weights],
                         biases=[b.detach().double() for b in fam.biases])
    x, _ = target.sample(n, generator=generator)
    var = phi(best_fam(x, encoder(x))).var(dim=1)
    best = int(torch.argmax(var))
    return best_fam.member(best), {"member": best, "K": K, "steps": steps, "fresh_variances": var.tolist(),
                                   "in_class": bool(best_fam.in_class()[best])}


def planted_tail_sd(*, t: float, tail: float) -> float:
    """The sd s of a centred normal law with Pr[|X| >= t] = ``tail`` exactly: s = t / Phi^-1(1 - tail/2)."""
    return t / float(special.ndtri(1 - tail / 2))


def tail_trial(config: dict, seed: int) -> dict:
    """One repeat of the tail test's power curve: R draws of a planted normal f whose tail at t95 is known exactly,
    counted as the verdict counts them (:func:`tail_test` at t95 with the verdict's shift h and per-limit level);
    detected when the lower limit exceeds the bound."""
    g = Streams(seed).numpy("draws")
    f = g.normal(0.0, config["sd"], size=config["R"])
    test = tail_test(f, centre=0.0, centre_half_width=config["h"], t_grid=[config["t95"]], bound=[config["bound"]],
                     confidence_each=config["confidence_each"])
    est = test["estimates"][0]
    return {"detected": bool(est.ci_low > config["bound"]), "count": int(test["count"][0]),
            "count_upper": int(test["count_upper"][0]), "tail": est.to_dict()}
