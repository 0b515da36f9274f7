r"""The BiGAN objective gap with a stated confidence interval, for any discriminator.

Arora, Risteski & Zhang 2017 (arXiv 1711.02651), ``docs/papers/arz17.md``:

.. math::

    \mathrm{gap}(G, E; D) = \big| \mathbb{E}_{x\sim\mu} \phi(D(x, E(x)))
    - \mathbb{E}_{z\sim\nu} \phi(D(G(z), z)) \big|.

Interval used everywhere in this module (real and fake samples are independent): the estimated difference of
means is a sum of ``n_r + n_f`` independent terms, ``n_r`` of range ``R/n_r`` and ``n_f`` of range ``R/n_f``,
with ``R`` the range of phi on [0, 1] (identity 1, clipped log ``log(1/c)``). Hoeffding gives

.. math::

    \Pr[|\hat g - g| \ge t] \le 2\exp\Big(-\frac{2t^2}{R^2 (1/n_r + 1/n_f)}\Big),

i.e. the one-sample Hoeffding half-width with ``n_eff = n_r n_f / (n_r + n_f)`` (``n/2`` for equal sizes). For
K members the level is ``alpha/K`` each (Bonferroni, via :func:`~ganlimits.verify.estimators.intervals.bonferroni_max`),
so all K intervals hold at once with probability >= 1 - alpha. Absolute value: on that event ``|g_k|`` lies in
``[max(0, |g^_k| - t), |g^_k| + t]`` for every k, hence ``max_k |g_k|`` lies in
``[max(0, max_k |g^_k| - t), max_k |g^_k| + t]`` — the interval reported for the sup over the K members (a
lower bound on the sup over the whole class).

One-sided limits of ``max_k |g_k|`` (``sides=1``: each limit alone at level 1 - alpha). The upper one needs one
tail per member: ``|g_k| - |g^_k| <= s_k (g_k - g^_k)`` with ``s_k`` the sign of the true ``g_k`` (fixed, not
data-dependent), so ``t_1 = R sqrt((1/n_r + 1/n_f)/2 log(K/alpha))`` (level ``alpha/K`` per member) bounds every
``|g_k|`` at once. The lower one does not: ``|g^_k| - |g_k|`` exceeds t when g^_k strays by t on EITHER side of g_k
(the sign of g^_k is data-dependent), so it needs both tails of every member, ``alpha/(2K)`` each side:
``t_2 = R sqrt((1/n_r + 1/n_f)/2 log(2K/alpha))``, the two-sided half-width. (With ``t_1`` for the lower limit too,
the union bound gives only 1 - 2 alpha.)

Shape letters: ``n`` samples, ``K`` discriminators, ``d`` image dimension, ``d_code`` code dimension.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch

from ganlimits.theory import check_allocation, check_number, check_open_unit, check_positive

from .._results import Estimate
from ._attackers import _objective, train_attacker
from ._families import MLPFamily
from ._inputs import as_model, as_points, as_sampler, check_values, pick_rng, seed_of
from ._intervals import bonferroni_max
from ._phi import Phi, as_phi

__all__ = [
    "member_gaps",
    "gap_from_values",
    "family_gap",
    "bigan_samples",
    "bigan_gap",
    "bigan_attack",
]


def _name_of(discriminator) -> str:
    for attr in ("name", "__name__"):
        value = getattr(discriminator, attr, None)
        if isinstance(value, str):
            return value
    return repr(discriminator)


def _check_confidence(confidence: float) -> float:
    return check_open_unit("confidence", confidence)


def _check_sample(name: str, t, n: int, *, what: str) -> torch.Tensor:
    """``t`` as a finite tensor with n rows on a real device; ValueError naming ``name`` otherwise."""
    t = torch.as_tensor(t)
    if t.device.type == "meta":
        raise ValueError(f"{name} returned a tensor on the meta device (no values); {what} must be real tensors")
    if t.ndim == 0 or t.shape[0] != n:
        raise ValueError(f"{name} returned shape {tuple(t.shape)}; {what} must have n = {n} rows")
    if t.is_floating_point() and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} returned NaN or infinite values in {what}")
    return t


def _as_values(values, *, name: str, side: str) -> torch.Tensor:
    """Discriminator values as float64 (K, n); ValueError naming the discriminator unless real and in [0, 1]."""
    what = f"discriminator {name}'s values on the {side} sample"
    v = check_values(values if isinstance(values, torch.Tensor) else torch.as_tensor(check_values(
        np.asarray(values), what)), what).detach()
    if v.ndim == 1:
        v = v[None, :]
    if v.ndim != 2 or v.shape[1] < 1:
        raise ValueError(f"discriminator {name} must return shape (n,) or (K, n) on the {side} sample, "
                         f"got {tuple(torch.as_tensor(values).shape)}")
    v = v.to(torch.float64)
    if bool(torch.isnan(v).any()):
        raise ValueError(f"discriminator {name} returned NaN on the {side} sample")
    lo, hi = float(v.min()), float(v.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(f"discriminator {name} must return values in [0, 1]; on the {side} sample it "
                         f"returned values in [{lo:.6g}, {hi:.6g}]")
    return v


def member_gaps(real_values, fake_values, *, phi: Phi | str = "identity", objective: str = "bigan",
                name: str = "discriminator") -> torch.Tensor:
    """Signed per-member objective, float64 (K,), from values (K, n_r) / (n_r,) and (K, n_f) / (n_f,).

    ``objective="bigan"``: mean phi(D(real)) - mean phi(D(fake)); ``"nnd"``: mean phi(D(real))
    + mean phi(1 - D(fake)) - 2 phi(1/2) (``docs/papers/agl17.md``).
    """
    phi = as_phi(phi)
    if objective not in ("bigan", "nnd"):
        raise ValueError(f"objective must be 'bigan' or 'nnd', got {objective!r}")
    r = _as_values(real_values, name=name, side="real")
    f = _as_values(fake_values, name=name, side="fake")
    if r.shape[0] != f.shape[0]:
        raise ValueError(f"discriminator {name} returned {r.shape[0]} members on the real sample and "
                         f"{f.shape[0]} on the fake sample")
    return _objective(r, f, phi, objective)


def gap_from_values(
    real_values,
    fake_values,
    *,
    phi: Phi | str = "identity",
    confidence: float = 0.95,
    absolute: bool = True,
    objective: str = "bigan",
    name: str = "discriminator",
    seed: int | None = None,
    sides: int = 2,
) -> Estimate:
    r"""The gap of one member, or the sup over K members, with a two-sample Hoeffding (Bonferroni) interval.

    .. math::

        \hat g_k = \frac1{n_r}\sum_i \phi(D_k(u^r_i)) - \frac1{n_f}\sum_j \phi(D_k(u^f_j)),\qquad
        t = R \sqrt{\tfrac12 (1/n_r + 1/n_f) \log(2K/\alpha)}.

    ``real_values`` (n_r,) or (K, n_r), ``fake_values`` (n_f,) or (K, n_f): discriminator values in [0, 1]
    on independent samples (the members must not have been fitted to them). ``absolute=True`` reports
    ``max_k |g_k|`` (the BiGAN gap) with the interval of the module docstring; ``absolute=False`` reports
    ``max_k g_k`` with ``[max - t, max + t]``. ``objective="nnd"`` scores the neural-net-distance objective
    (same range, same interval). The Estimate's ``n`` is the smaller of n_r, n_f; ``method`` names the
    inequality and K.

    ``sides=1``: each limit alone at level ``confidence`` (module docstring): the upper limit with ``log(K/alpha)``;
    the lower limit with ``log(2K/alpha)`` when ``absolute`` (the lower limit of a best ``|gap|`` needs both tails of
    every member), with ``log(K/alpha)`` for the signed maximum.

    >>> gap_from_values(torch.full((1000,), 0.75), torch.full((1000,), 0.25)).fmt()
    '0.5 [0.439, 0.561] (95%, n=1000)'
    >>> gap_from_values(torch.full((1000,), 0.75), torch.full((1000,), 0.25), sides=1).fmt()
    '0.5 [0.439, 0.555] (95% one-sided, n=1000)'
    """
    phi = as_phi(phi)
    confidence = _check_confidence(confidence)
    if isinstance(sides, bool) or sides not in (1, 2):
        raise ValueError(f"sides must be 1 or 2, got {sides!r}")
    gaps = member_gaps(real_values, fake_values, phi=phi, objective=objective, name=name)
    n_r = torch.as_tensor(real_values).shape[-1]
    n_f = torch.as_tensor(fake_values).shape[-1]
    K = gaps.numel()
    n_eff = n_r * n_f / (n_r + n_f)
    scores = gaps.abs() if absolute else gaps
    est = bonferroni_max(scores, n=n_eff, value_range=phi.value_range, confidence=confidence, seed=seed,
                         sides=sides)
    low = est.ci_low
    if sides == 1 and absolute:  # both tails of every member: the two-sided half-width (module docstring)
        low = bonferroni_max(scores, n=n_eff, value_range=phi.value_range, confidence=confidence, sides=2).ci_low
    low = max(0.0, low) if absolute else low
    method = ("bonferroni-" if K > 1 else "") + "hoeffding-two-sample" + (f"(K={K})" if K > 1 else "")
    method += ", |gap|" if absolute else ""
    if sides == 1:
        method += ", one-sided" + (f" (lower limit: alpha/{2 * K} per member and side)" if absolute else "")
    return dataclasses.replace(est, ci_low=low, n=int(min(n_r, n_f)), method=method)


def family_gap(
    discriminator: Callable[..., torch.Tensor],
    *,
    real,
    fake,
    phi: Phi | str = "identity",
    confidence: float = 0.95,
    absolute: bool = True,
    objective: str = "bigan",
    seed: int | None = None,
) -> Estimate:
    """Score a discriminator (an :class:`MLPFamily`, or any callable ``D(u) -> (n,) | (K, n)``) on fresh
    samples ``real`` (n_r, d_in) and ``fake`` (n_f, d_in) — tensors of the joint input or tuples ``(x, code)``
    (then called as ``D(x, code)``) — with :func:`gap_from_values`. Arrays or tensors; complex values, the meta
    device and non-finite values are refused by name."""
    real, fake = (tuple(as_points(t, f"{side}", allow_1d=True) for t in u) if isinstance(u, (tuple, list))
                  else as_points(u, side) for u, side in ((real, "real"), (fake, "fake")))
    name = _name_of(discriminator)
    with torch.no_grad():
        rv = discriminator(*real) if isinstance(real, (tuple, list)) else discriminator(real)
        fv = discriminator(*fake) if isinstance(fake, (tuple, list)) else discriminator(fake)
    return gap_from_values(rv, fv, phi=phi, confidence=confidence, absolute=absolute, objective=objective,
                           name=name, seed=seed)


def _check_n(n, name: str = "n") -> int:
    return check_number(name, n, low=1, integer=True)


def bigan_samples(
    generator: Callable[[torch.Tensor], torch.Tensor],
    encoder: Callable[[torch.Tensor], torch.Tensor],
    target,
    *,
    n: int,
    rng=None,
    code_dim: int | None = None,
    sigma: float = 1.0,
    generator_rng: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The two sides of the BiGAN objective: ``(x_real, code_real, x_fake, code_fake)``, float64 on the CPU.

    ``generator``, ``encoder``: torch modules (called in their own dtype, on their own device) or callables;
    ``target``: a target (``sample(n, generator=) -> (x, labels)``), a sampler ``(n, generator) -> x``, or an
    ``(n_pool, d)`` array of real samples (a pool, drawn without replacement); ``rng``: an integer seed or a
    ``torch.Generator`` (``generator_rng=`` is its former name). Order of draws from ``rng`` (fixed):

    1. ``x_real`` = ``n`` draws of ``target``, ``code_real = encoder(x_real)``;
    2. ``z = sigma * torch.randn(n, d_code, generator=rng, dtype=torch.float64)``,
       ``x_fake = generator(z)``, ``code_fake = z``.

    ``d_code`` is ``code_dim`` or, when None, the width of the encoder's output. Shapes: x (n, d),
    code (n, d_code).
    """
    n = _check_n(n)
    sigma = check_positive("sigma", sigma)
    if code_dim is not None:
        code_dim = check_number("code_dim", code_dim, low=1, integer=True)
    check_allocation("n", n, elements=float(n) * (code_dim or 1))
    generator_rng = pick_rng(rng, generator_rng, "generator_rng")
    generator, encoder = as_model(generator, "generator"), as_model(encoder, "encoder")
    x_real = as_sampler(target, "target")(n, generator_rng)
    code_real = _check_sample("encoder", encoder(x_real), n, what="the codes")
    if code_real.ndim == 1:
        code_real = code_real[:, None]
    d_code = code_real.shape[1] if code_dim is None else code_dim
    if code_real.shape != (n, d_code):
        raise ValueError(f"code_dim: the encoder returned codes of shape {tuple(code_real.shape)}, expected "
                         f"({n}, {d_code})")
    z = sigma * torch.randn(n, d_code, generator=generator_rng, dtype=torch.float64)
    x_fake = _check_sample("generator", generator(z), n, what="the generated images")
    return x_real, code_real, x_fake, z


def bigan_gap(
    discriminator: Callable[..., torch.Tensor],
    generator: Callable[[torch.Tensor], torch.Tensor],
    encoder: Callable[[torch.Tensor], torch.Tensor],
    target,
    *,
    n: int,
    phi: Phi | str = "log",
    rng=None,
    code_dim: int | None = None,
    sigma: float = 1.0,
    confidence: float = 0.95,
    generator_rng: torch.Generator | None = None,
) -> Estimate:
    r"""The BiGAN gap of (G, E) seen by a discriminator, with a Hoeffding interval (Arora, Risteski & Zhang
    2017, Theorem 1; ``docs/papers/arz17.md``).

    .. math::

        \widehat{\mathrm{gap}} = \Big|\frac1n \sum_i \phi(D(x_i, E(x_i))) -
        \frac1n \sum_j \phi(D(G(z_j), z_j))\Big|,\quad x_i \sim \mu,\ z_j \sim N(0, \sigma^2 I_{d'}).

    ``discriminator(x, code)`` is any callable returning values in [0, 1] of shape (n,), or (K, n) for K
    discriminators (an :class:`MLPFamily` on the joint input works) — then the sup over K with a Bonferroni
    interval. ``generator(z)``: (n, d_code) -> (n, d); ``encoder(x)``: (n, d) -> (n, d_code); ``target`` has
    ``sample(n, generator=) -> (x, labels)``. Draws: see :func:`bigan_samples` (real side first). The
    interval: two-sample Hoeffding with the range of phi on [0, 1] (module docstring). ``generator``, ``encoder``,
    ``target`` and ``rng`` as in :func:`bigan_samples`. The Estimate records the seed of ``rng`` and ``n`` per
    side.

    Raises ValueError naming the discriminator when it returns NaN or values outside [0, 1], and naming the
    parameter for non-positive ``n`` or an unknown ``phi``.
    """
    n = _check_n(n)
    phi = as_phi(phi)
    confidence = _check_confidence(confidence)
    generator_rng = pick_rng(rng, generator_rng, "generator_rng")
    x_real, code_real, x_fake, code_fake = bigan_samples(
        generator, encoder, target, n=n, generator_rng=generator_rng, code_dim=code_dim, sigma=sigma)
    name = _name_of(discriminator)
    with torch.no_grad():
        rv = discriminator(x_real, code_real)
        fv = discriminator(x_fake, code_fake)
    rv, fv = _squeeze_column(rv, n, name), _squeeze_column(fv, n, name)
    return gap_from_values(rv, fv, phi=phi, confidence=confidence, absolute=True, name=name,
                           seed=seed_of(generator_rng))


def _squeeze_column(values, n: int, name: str = "discriminator") -> torch.Tensor:
    """Values of shape (n,) or (K, n) (an (n, 1) column is taken as (n,)); ValueError naming the discriminator
    for any other shape, so that a wrong count is never reported as the sample size."""
    v = torch.as_tensor(values)
    if v.device.type == "meta":
        raise ValueError(f"discriminator {name} returned a tensor on the meta device (no values)")
    if v.ndim == 2 and v.shape == (n, 1) and n != 1:
        v = v[:, 0]
    if v.ndim not in (1, 2) or v.shape[-1] != n:
        raise ValueError(f"discriminator {name} returned shape {tuple(v.shape)}; expected (n,) or (K, n) with "
                         f"n = {n}")
    return v


def bigan_attack(
    generator: Callable[[torch.Tensor], torch.Tensor],
    encoder: Callable[[torch.Tensor], torch.Tensor],
    target,
    *,
    family: MLPFamily | dict,
    n_train: int,
    n_test: int,
    phi: Phi | str = "log",
    steps: int = 200,
    lr: float = 0.01,
    rng=None,
    code_dim: int | None = None,
    sigma: float = 1.0,
    confidence: float = 0.95,
    batch_size: int | None = None,
    generator_rng: torch.Generator | None = None,
) -> tuple[Estimate, MLPFamily]:
    """Train K attackers on one BiGAN sample, score them on a fresh one: ``(gap Estimate, trained family)``.

    ``generator``, ``encoder``, ``target`` and ``rng`` (``generator_rng=`` is its former name) as in
    :func:`bigan_samples`. Draws (all from ``rng``, in this order): the training sample of size ``n_train``
    (:func:`bigan_samples`), the initial members when ``family`` is a dict, the minibatches, then the fresh
    test sample of size ``n_test`` inside :func:`bigan_gap`. Members ascend both signs of the gap
    (:func:`~ganlimits.verify.estimators.train_attacker`, ``sign="both"``); the score is the sup of ``|gap|`` over the K
    members with the Bonferroni interval — a lower bound on the sup over the class.
    """
    phi = as_phi(phi)
    _check_n(n_train, "n_train")
    _check_n(n_test, "n_test")
    generator_rng = pick_rng(rng, generator_rng, "generator_rng")
    x_r, c_r, x_f, c_f = bigan_samples(generator, encoder, target, n=n_train, generator_rng=generator_rng,
                                       code_dim=code_dim, sigma=sigma)
    trained = train_attacker(family, real=(x_r, c_r), fake=(x_f, c_f), phi=phi, steps=steps, lr=lr,
                             generator=generator_rng, objective="bigan", sign="both", batch_size=batch_size)
    est = bigan_gap(trained, generator, encoder, target, n=n_test, phi=phi, generator_rng=generator_rng,
                    code_dim=code_dim, sigma=sigma, confidence=confidence)
    return est, trained
