"""GAN dynamics on a mixture of two unit Gaussians (Li, Madry, Peebles & Schmidt 2017, via Madry's lecture 9;
MATH.md section 4), in closed form and float64.

Shape letters: ``B`` runs (initialisations, vectorised), ``T`` recorded steps, ``n`` evaluation points. A mean
pair, an interval-start pair and an interval-end pair each have a trailing axis of length 2:
``mu`` (..., 2) = (mu_1, mu_2), ``l`` (..., 2) = (l_1, l_2), ``r`` (..., 2) = (r_1, r_2), with
``l_1 <= r_1 <= l_2 <= r_2``. Sign convention (MATH.md section 4): the generator descends L, the discriminator
ascends it.

The optimal discriminator is the set {p* - p_mu > 0}. Its ends are the sign changes of
p*(x) - p_mu(x) = exp(-x^2/2)/(2 sqrt(2 pi)) * sum_i s_i exp(a_i x - a_i^2/2), a sum of four exponentials with
s = (+, +, -, -) and a = (mu*_1, mu*_2, mu_1, mu_2). They are found by Rolle's theorem applied recursively
(the critical points of a sum of k exponentials are the roots of a sum of k - 1 exponentials; between two
consecutive critical points the function is monotone and has at most one sign change, located by safeguarded
Newton steps inside a bracket), so no sign change is missed however close two roots are; tangencies (roots
without a sign change) are not ends, and identical mixtures give an empty discriminator.
"""

# ruff: noqa: E741  (l and r are the lecture's names for the interval ends)
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch
from scipy import integrate

from ganlimits.theory import LI17_MAX_SIGN_CHANGES, check_positive

from ._intervals import clopper_pearson
from ._results import Estimate

__all__ = [
    "OUTCOMES",
    "Li17Gradients",
    "Li17Trajectory",
    "Outcomes",
    "DiscriminatorCollapse",
    "mixture_density",
    "li17_loss",
    "li17_gradients",
    "density_difference_roots",
    "optimal_discriminator",
    "tv_mixtures",
    "project_intervals",
    "optimal_discriminator_dynamics",
    "first_order_dynamics",
    "classify_outcomes",
    "detect_discriminator_collapse",
    "outcome_fractions",
]

OUTCOMES = ("converged", "mode-collapse", "vanishing-gradient", "other")
_SQRT_2PI = float(np.sqrt(2 * np.pi))
_SIGNS = np.array([1.0, 1.0, -1.0, -1.0])  # p* - p_mu: the target's two means first
_MERGE = 1e-12  # means closer than this (relative to max(1, |mean|)) are merged before root isolation
_TRIALS = 8  # trial distances 1, 4, ..., 4^7 from a finite end towards an infinite one
_UPPER = torch.triu(torch.ones(4, 4, dtype=torch.bool))  # a <= i in the isotonic min-max formula
_F = TypeVar("_F", bound=Callable)


def _one_thread(fn: _F) -> _F:
    """Run ``fn`` with one torch thread: its tensors are tiny (B x 2 x 2), where a thread pool only adds
    synchronisation (measured 17x slower per op with 2 threads on a loaded 2-core machine). Element-wise
    results do not depend on the thread count; the previous setting is restored."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn(*args, **kwargs)
        finally:
            torch.set_num_threads(before)

    return wrapper  # type: ignore[return-value]


# ---- input checks -----------------------------------------------------------------------------------------


def _tensor(name: str, value, *, allow_inf: bool = False) -> torch.Tensor:
    t = torch.as_tensor(value, dtype=torch.float64)
    if t.ndim == 0 or t.shape[-1] != 2:
        raise ValueError(f"{name} must have a trailing axis of length 2, got shape {tuple(t.shape)}")
    bad = torch.isnan(t) if allow_inf else ~torch.isfinite(t)
    if bool(bad.any()):
        allowed = "real numbers or +-inf" if allow_inf else "finite real numbers"
        raise ValueError(f"{name} must contain {allowed}; found NaN or infinity")
    return t


def _check_intervals(l: torch.Tensor, r: torch.Tensor) -> None:
    try:
        l, r = torch.broadcast_tensors(l, r)
    except RuntimeError:
        raise ValueError(f"l and r must have broadcastable shapes, got {tuple(l.shape)} and {tuple(r.shape)}") from None
    ends = torch.stack([l[..., 0], r[..., 0], l[..., 1], r[..., 1]], dim=-1)
    bad = (ends[..., 1:] < ends[..., :-1]).any(dim=-1)
    if bool(bad.any()):
        idx = tuple(int(i) for i in torch.nonzero(bad)[0])
        raise ValueError(
            f"l and r must satisfy l_1 <= r_1 <= l_2 <= r_2; violated at index {idx}: "
            f"(l_1, r_1, l_2, r_2) = {tuple(float(v) for v in ends[idx])}"
        )


def _check_step(name: str, value: float) -> float:
    try:
        return check_positive(name, value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite step size > 0, got {value!r}") from None


# ---- the model in closed form -----------------------------------------------------------------------------


def _phi(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(-0.5 * x * x) / _SQRT_2PI


def mixture_density(x, *, mu) -> torch.Tensor:
    """Density of G_mu = 1/2 N(mu_1, 1) + 1/2 N(mu_2, 1) (Li et al. 2017, section 3).

    .. math:: p_\\mu(x) = \\tfrac12 [\\varphi(x - \\mu_1) + \\varphi(x - \\mu_2)]

    ``x`` (..., n) and ``mu`` (..., 2) with broadcastable leading axes; returns (..., n), float64.
    """
    mu = _tensor("mu", mu)
    x = torch.as_tensor(x, dtype=torch.float64)
    if bool(torch.isnan(x).any()):
        raise ValueError("x must not contain NaN")
    return 0.5 * (_phi(x - mu[..., :1]) + _phi(x - mu[..., 1:]))


def _mass(l: torch.Tensor, r: torch.Tensor, means: torch.Tensor) -> torch.Tensor:
    """sum over both intervals and both components of 1/2 [Phi(r_j - m_i) - Phi(l_j - m_i)]; (..., )."""
    d = torch.special.ndtr(r[..., None, :] - means[..., :, None]) - torch.special.ndtr(
        l[..., None, :] - means[..., :, None]
    )
    return 0.5 * d.sum(dim=(-1, -2))


def li17_loss(*, mu, mu_star, l, r) -> torch.Tensor:
    """The loss L(mu, l, r) of Li et al. (2017) as written in lecture 9 (MATH.md section 4).

    .. math::
        L = E_{x \\sim G_{\\mu^*}} D(x) + E_{x \\sim G_\\mu} (1 - D(x)),
        \\qquad D = 1[l_1, r_1] + 1[l_2, r_2]

    ``mu``, ``mu_star``, ``l``, ``r`` (..., 2), broadcastable; interval ends may be +-inf. Differentiable
    (autograd flows through every argument). Returns (...), float64.
    """
    mu, mu_star = _tensor("mu", mu), _tensor("mu_star", mu_star)
    l, r = _tensor("l", l, allow_inf=True), _tensor("r", r, allow_inf=True)
    _check_intervals(l, r)
    return 1.0 + _mass(l, r, mu_star) - _mass(l, r, mu)


@dataclass(frozen=True)
class Li17Gradients:
    """Partial derivatives of L: ``mu``, ``l``, ``r`` each (..., 2)."""

    mu: torch.Tensor
    l: torch.Tensor
    r: torch.Tensor


def _gradients(mu, mu_star, l, r) -> Li17Gradients:
    # d L / d mu_i = 1/2 sum_j [phi(r_j - mu_i) - phi(l_j - mu_i)]
    g_mu = 0.5 * (_phi(r[..., None, :] - mu[..., :, None]) - _phi(l[..., None, :] - mu[..., :, None])).sum(-1)

    def diff(x: torch.Tensor) -> torch.Tensor:  # p*(x) - p_mu(x) at each end
        return 0.5 * (
            _phi(x[..., :, None] - mu_star[..., None, :]) - _phi(x[..., :, None] - mu[..., None, :])
        ).sum(-1)

    return Li17Gradients(mu=g_mu, l=-diff(l), r=diff(r))


def li17_gradients(*, mu, mu_star, l, r) -> Li17Gradients:
    """Closed-form gradient of :func:`li17_loss` (MATH.md section 4, checked against autograd, finite
    differences and sympy in the tests).

    .. math::
        \\partial_{\\mu_i} L = \\tfrac12 \\sum_j [\\varphi(r_j - \\mu_i) - \\varphi(l_j - \\mu_i)],\\quad
        \\partial_{r_j} L = p^*(r_j) - p_\\mu(r_j),\\quad \\partial_{l_j} L = -(p^*(l_j) - p_\\mu(l_j))

    Arguments as in :func:`li17_loss`; every field of the result has the broadcast shape (..., 2).
    """
    mu, mu_star = _tensor("mu", mu), _tensor("mu_star", mu_star)
    l, r = _tensor("l", l, allow_inf=True), _tensor("r", r, allow_inf=True)
    _check_intervals(l, r)
    shape = torch.broadcast_shapes(mu.shape, mu_star.shape, l.shape, r.shape)
    return _gradients(*(t.expand(shape) for t in (mu, mu_star, l, r)))


# ---- sign changes of p* - p_mu: recursive Rolle isolation of the roots of a sum of exponentials ------------


def _expsum(u: np.ndarray, m: np.ndarray, a: np.ndarray, kappa: np.ndarray, *, noise: bool = False):
    """sum_i m_i exp(a_i u + kappa_i) and its u-derivative, both scaled by the same positive factor; with
    ``noise`` also a bound on the rounding error of the scaled sum (16 eps sum_i |terms|).

    ``u`` (B, S); ``m``, ``a``, ``kappa`` (B, k). Scaling by exp(-max exponent) keeps every term <= |m_i|.
    """
    t = a[:, None, :] * u[..., None] + kappa[:, None, :]
    t = np.where(m[:, None, :] != 0, t, -np.inf)
    top = t.max(axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    w = m[:, None, :] * np.exp(t - top)
    if noise:
        return w.sum(-1), (w * a[:, None, :]).sum(-1), 16 * np.finfo(np.float64).eps * np.abs(w).sum(-1)
    return w.sum(-1), (w * a[:, None, :]).sum(-1)


def _edge_signs(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signs at u -> -inf and +inf of sum_i m_i exp(a_i u + kappa_i), a ascending (0 if all m = 0)."""
    nz = m != 0
    rows = np.arange(m.shape[0])
    first = np.argmax(nz, axis=1)
    last = m.shape[1] - 1 - np.argmax(nz[:, ::-1], axis=1)
    anyz = nz.any(axis=1)
    return np.sign(m[rows, first]) * anyz, np.sign(m[rows, last]) * anyz


def _dominance(m: np.ndarray, a: np.ndarray, kappa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points (B,) left of which the lowest-exponent term, and right of which the highest-exponent term, is
    larger than all the others together (each other term below 1/(k-1) of it), so the sum has the sign of that
    term there; a margin of 1 makes the inequality strict. -inf / +inf where there is no other term."""
    k = m.shape[1]
    nz = m != 0
    rows = np.arange(m.shape[0])
    first = np.argmax(nz, axis=1)
    last = k - 1 - np.argmax(nz[:, ::-1], axis=1)
    logm = np.log(np.where(nz, np.abs(m), 1.0)) + kappa
    with np.errstate(divide="ignore", invalid="ignore"):
        top = logm[rows, last][:, None]
        u_plus = (np.log(k - 1) + logm - top) / (a[rows, last][:, None] - a)
        u_plus = np.where(nz & (np.arange(k) != last[:, None]), u_plus, -np.inf).max(axis=1) + 1.0
        low = logm[rows, first][:, None]
        u_minus = (low - np.log(k - 1) - logm) / (a - a[rows, first][:, None])
        u_minus = np.where(nz & (np.arange(k) != first[:, None]), u_minus, np.inf).min(axis=1) - 1.0
    return u_minus, u_plus


def _monotone_roots(lo, hi, s_lo, m, a, kappa) -> np.ndarray:
    """The sign change of a monotone sum of exponentials inside each finite bracket [lo, hi] (B, S); the
    function has sign ``s_lo`` at ``lo`` and the opposite sign at ``hi``. Safeguarded Newton: a Newton step
    that leaves the bracket is replaced by bisection; stops when the bracket or the Newton step is below
    4 eps max(1, |x|) or the value is within its rounding error."""
    x = 0.5 * (lo + hi)
    for _ in range(400):
        val, der, err = _expsum(x, m, a, kappa, noise=True)
        s = np.sign(val)
        lo = np.where(s == s_lo, x, lo)
        hi = np.where((s != s_lo) & (s != 0), x, hi)
        exact = s == 0
        lo, hi = np.where(exact, x, lo), np.where(exact, x, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = x - val / der
        inside = np.isfinite(newton) & (newton > np.minimum(lo, hi)) & (newton < np.maximum(lo, hi))
        x_new = np.where(inside, newton, 0.5 * (lo + hi))
        scale = 4 * np.finfo(np.float64).eps * np.maximum(1.0, np.abs(x))
        done = (np.abs(hi - lo) <= scale) | exact | (np.abs(val) <= err) | (np.abs(x_new - x) <= scale)
        x = np.where(done, x, x_new)
        if done.all():
            break
    return x


def _expsum_roots(m: np.ndarray, a: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """Sign changes of f(u) = sum_i m_i exp(a_i u + kappa_i); ``a`` ascending along axis 1, equal exponents
    merged (all but one of their m's are 0). Returns (B, k - 1) roots, ascending, NaN-padded."""
    B, k = m.shape
    if k == 1:
        return np.empty((B, 0))
    if k == 2:
        ok = (m[:, 0] * m[:, 1] < 0) & (a[:, 1] > a[:, 0])
        with np.errstate(divide="ignore", invalid="ignore"):
            u = (np.log(np.abs(m[:, 0])) - np.log(np.abs(m[:, 1])) + kappa[:, 0] - kappa[:, 1]) / (
                a[:, 1] - a[:, 0]
            )
        return np.where(ok, u, np.nan)[:, None]
    # g = f exp(-a_1 u) has the roots of f; its derivative is a sum of k - 1 exponentials.
    shifted = a - a[:, :1]
    crit = _expsum_roots(m[:, 1:] * shifted[:, 1:], shifted[:, 1:], kappa[:, 1:])
    crit = np.sort(np.where(np.isnan(crit), np.inf, crit), axis=1)
    lo = np.concatenate([np.full((B, 1), -np.inf), crit], axis=1)  # (B, k-1) monotone pieces of g
    hi = np.concatenate([crit, np.full((B, 1), np.inf)], axis=1)
    s_minus, s_plus = _edge_signs(m)
    finite_lo, finite_hi = np.isfinite(lo), np.isfinite(hi)
    v_lo, _ = _expsum(np.where(finite_lo, lo, 0.0), m, shifted, kappa)
    v_hi, _ = _expsum(np.where(finite_hi, hi, 0.0), m, shifted, kappa)
    sg_lo = np.where(finite_lo, np.sign(v_lo), np.where(lo < 0, s_minus[:, None], s_plus[:, None]))
    sg_hi = np.where(finite_hi, np.sign(v_hi), s_plus[:, None])
    has = sg_lo * sg_hi < 0
    if not has.any():
        return np.full((B, k - 1), np.nan)
    # finite brackets for the pieces that reach -inf or +inf: the nearest of a few trial points (4^j away from
    # the finite end) with the sign of that infinity, else the dominance point, beyond which the sign is known
    u_minus, u_plus = _dominance(m, shifted, kappa)
    left = ~finite_lo & has
    right = ~finite_hi & has
    both = left & right
    anchor = np.where(both, 0.0, np.where(left, hi, lo))
    anchor = np.where(has, anchor, 0.0)
    trials = 4.0 ** np.arange(_TRIALS)
    b_lo = np.where(finite_lo, lo, 0.0)
    b_hi = np.where(finite_hi, hi, 0.0)
    for side, direction, dom, want in ((left, -1.0, u_minus, sg_lo), (right, 1.0, u_plus, sg_hi)):
        if not side.any():
            continue
        pts = anchor[..., None] + direction * trials  # (B, S, J)
        pts = np.concatenate([pts, np.broadcast_to(dom[:, None, None], (*anchor.shape, 1))], axis=-1)
        pts = np.where(direction * pts > direction * anchor[..., None], pts, anchor[..., None] + direction)
        val, _ = _expsum(pts.reshape(B, -1), m, shifted, kappa)
        hit = np.sign(val).reshape(pts.shape) == want[..., None]
        hit[..., -1] = True
        j = np.argmax(hit, axis=-1)
        far = np.take_along_axis(pts, j[..., None], axis=-1)[..., 0]
        near = np.where(
            j > 0, np.take_along_axis(pts, np.maximum(j - 1, 0)[..., None], axis=-1)[..., 0], anchor
        )
        near = np.where(both, anchor, near)
        if direction < 0:
            b_lo = np.where(side, far, b_lo)
            b_hi = np.where(side & ~both, near, b_hi)
        else:
            b_hi = np.where(side, far, b_hi)
            b_lo = np.where(side & ~both, near, b_lo)
    b_lo, b_hi = np.where(has, b_lo, 0.0), np.where(has, b_hi, 0.0)
    roots = _monotone_roots(b_lo, b_hi, np.where(has, sg_lo, 1.0), m, shifted, kappa)
    return np.sort(np.where(has, roots, np.nan), axis=1)


def _roots_np(mu: np.ndarray, mu_star: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sign changes of p* - p_mu for rows of (B, 2) means: roots (B, 3), NaN-padded; sign at -inf (B,)."""
    means = np.concatenate([mu_star, mu], axis=1)
    centre = 0.5 * (means.min(axis=1, keepdims=True) + means.max(axis=1, keepdims=True))
    a = means - centre
    order = np.argsort(a, axis=1, kind="stable")
    a = np.take_along_axis(a, order, axis=1)
    m = np.broadcast_to(_SIGNS, a.shape)[np.arange(a.shape[0])[:, None], order].copy()
    for i in range(1, 4):  # merge (nearly) equal means: the last of a run carries the summed sign
        eq = a[:, i] - a[:, i - 1] <= _MERGE * np.maximum(1.0, np.abs(a[:, i]))
        m[:, i] += np.where(eq, m[:, i - 1], 0.0)
        m[:, i - 1] = np.where(eq, 0.0, m[:, i - 1])
    roots = _expsum_roots(m, a, -0.5 * a * a)
    s_minus, _ = _edge_signs(m)
    return roots + centre, s_minus


def density_difference_roots(*, mu, mu_star) -> tuple[torch.Tensor, torch.Tensor]:
    """Every sign change of p*(x) - p_mu(x) (Li et al. 2017: at most 3 for two 2-component mixtures).

    .. math:: p^*(x) - p_\\mu(x) = \\frac{e^{-x^2/2}}{2\\sqrt{2\\pi}} \\sum_{i=1}^4 s_i e^{a_i x - a_i^2/2}

    ``mu``, ``mu_star`` (..., 2). Returns ``roots`` (..., 3), ascending, NaN-padded, and ``sign_at_minus_inf``
    (...,) in {-1, 0, +1} (0 only for identical mixtures). Tangencies (a root where p* - p_mu does not
    change sign) are not reported: they are not ends of {p* > p_mu}.

    Deviation: two means closer than 1e-12 (relative to max(1, |mean|), after centring) are merged into one
    before the roots are isolated - below that difference the sign of p* - p_mu far from the means cannot be
    resolved in float64. Merging moves p* - p_mu by at most 1e-12 x sup|phi'| per pair and the TV by less
    than 1e-12; a sign change pushed to |x| of order 1e12 by such a pair is dropped with it.
    """
    mu, mu_star = _tensor("mu", mu), _tensor("mu_star", mu_star)
    shape = torch.broadcast_shapes(mu.shape, mu_star.shape)
    mu_np = mu.expand(shape).reshape(-1, 2).detach().numpy()
    ms_np = mu_star.expand(shape).reshape(-1, 2).detach().numpy()
    roots, s_minus = _roots_np(mu_np, ms_np)
    roots = roots.reshape(*shape[:-1], LI17_MAX_SIGN_CHANGES)
    return torch.from_numpy(roots), torch.from_numpy(s_minus).reshape(shape[:-1])


def _intervals_from_roots(roots: np.ndarray, s_minus: np.ndarray, fill: np.ndarray) -> tuple[np.ndarray, ...]:
    """(l, r) (B, 2) of {p* - p_mu > 0} from its sign changes; empty intervals have l = r (see
    :func:`optimal_discriminator`)."""
    B = roots.shape[0]
    pts = np.concatenate([np.full((B, 1), -np.inf), roots, np.full((B, 1), np.inf)], axis=1)
    k = (~np.isnan(roots)).sum(axis=1)
    l = np.full((B, 2), np.nan)
    r = np.full((B, 2), np.nan)
    count = np.zeros(B, dtype=int)
    rows = np.arange(B)
    for j in range(4):  # piece j lies between pts[j] and pts[j+1] when j <= k; its sign is s_minus (-1)^j
        positive = (j <= k) & (s_minus * (-1.0) ** j > 0)
        slot = np.minimum(count, 1)
        lo, hi = pts[rows, j], np.where(j + 1 <= k, pts[rows, np.minimum(j + 1, 4)], np.inf)
        l[rows[positive], slot[positive]] = lo[positive]
        r[rows[positive], slot[positive]] = hi[positive]
        count += positive
    none, one = count == 0, count == 1
    l[none], r[none] = fill[none, None], fill[none, None]
    # one piece [a, b]: the empty second interval sits at b when b is finite, else the empty first sits at a
    a_, b_ = l[one, 0].copy(), r[one, 0].copy()
    finite_b = np.isfinite(b_)
    l[one, 1] = np.where(finite_b, b_, a_)
    r[one, 1] = np.where(finite_b, b_, b_)
    l[one, 0] = a_
    r[one, 0] = np.where(finite_b, b_, a_)
    return l, r


def optimal_discriminator(*, mu, mu_star) -> tuple[torch.Tensor, torch.Tensor]:
    """The discriminator maximising L(mu, ., .): the indicator of {x : p*(x) > p_mu(x)} (Li et al. 2017, via
    lecture 9; MATH.md section 4), so that max_{l, r} L = 1 + d_TV(G_mu, G_mu*).

    .. math:: D^* = 1\\{p^* > p_\\mu\\}, \\qquad L(\\mu, l^*, r^*) = 1 + d_{TV}(G_\\mu, G_{\\mu^*})

    ``mu``, ``mu_star`` (..., 2). Returns ``(l, r)``, each (..., 2), ordered l_1 <= r_1 <= l_2 <= r_2, with
    ends +-inf where the set is unbounded. A set with one piece [a, b] is written with an empty second
    interval [b, b] (or an empty first interval [a, a] when b = +inf); identical mixtures (TV = 0) give two
    empty intervals at the target's centre. Empty intervals do not change L.
    """
    mu, mu_star = _tensor("mu", mu), _tensor("mu_star", mu_star)
    shape = torch.broadcast_shapes(mu.shape, mu_star.shape)
    ms_np = mu_star.expand(shape).reshape(-1, 2).detach().numpy()
    roots, s_minus = _roots_np(mu.expand(shape).reshape(-1, 2).detach().numpy(), ms_np)
    l, r = _intervals_from_roots(roots, s_minus, ms_np.mean(axis=1))
    return torch.from_numpy(l).reshape(shape), torch.from_numpy(r).reshape(shape)


def tv_mixtures(*, mu, mu_star, method: str = "roots") -> torch.Tensor:
    """Total variation distance between G_mu and G_mu* (MATH.md section 4).

    .. math:: d_{TV} = \\int (p^* - p_\\mu)_+ \\, dx = \\tfrac12 \\int |p^* - p_\\mu| \\, dx

    ``method="roots"``: closed form from the sign changes (sum of normal-cdf differences over {p* > p_mu});
    ``method="quadrature"``: adaptive quadrature of |p* - p_mu|/2 (scipy ``quad``, breakpoints at the four
    means, absolute tolerance 1e-14) - an independent oracle, slow, for checks. ``mu``, ``mu_star`` (..., 2);
    returns (...).
    """
    mu, mu_star = _tensor("mu", mu), _tensor("mu_star", mu_star)
    if method == "roots":
        l, r = optimal_discriminator(mu=mu, mu_star=mu_star)
        shape = l.shape
        return _mass(l, r, mu_star.expand(shape)) - _mass(l, r, mu.expand(shape))
    if method != "quadrature":
        raise ValueError(f"method must be 'roots' or 'quadrature', got {method!r}")
    shape = torch.broadcast_shapes(mu.shape, mu_star.shape)
    rows_mu = mu.expand(shape).reshape(-1, 2).numpy()
    rows_ms = mu_star.expand(shape).reshape(-1, 2).numpy()
    out = np.empty(rows_mu.shape[0])
    for i, (m, s) in enumerate(zip(rows_mu, rows_ms, strict=True)):
        means = np.concatenate([m, s])

        def f(x: float, m=m, s=s) -> float:
            d = np.exp(-0.5 * (x - s) ** 2).sum() - np.exp(-0.5 * (x - m) ** 2).sum()
            return 0.25 * abs(d) / _SQRT_2PI

        lo, hi = means.min() - 40.0, means.max() + 40.0
        pts = np.unique(means)
        out[i] = integrate.quad(f, lo, hi, points=pts, epsabs=1e-14, epsrel=1e-13, limit=500)[0]
    return torch.from_numpy(out).reshape(shape[:-1])


# ---- dynamics ---------------------------------------------------------------------------------------------


def project_intervals(*, l, r) -> tuple[torch.Tensor, torch.Tensor]:
    """Euclidean projection of (l_1, r_1, l_2, r_2) onto the ordered set l_1 <= r_1 <= l_2 <= r_2.

    .. math:: \\hat y_i = \\max_{a \\le i} \\min_{b \\ge i} \\operatorname{mean}(y_a, \\dots, y_b)

    (isotonic regression, min-max formula). Rows already ordered are returned unchanged, bit for bit.
    ``l``, ``r`` (..., 2), finite. Deviation: the lecture leaves the ordering constraint of the first-order
    dynamics implicit; this code restores it after every step by this projection, so an interval pushed to
    negative length becomes an empty interval at the midpoint of its crossed ends.
    """
    l, r = _tensor("l", l), _tensor("r", r)
    y = torch.stack([l[..., 0], r[..., 0], l[..., 1], r[..., 1]], dim=-1)
    bad = (y[..., 1:] < y[..., :-1]).any(dim=-1)
    if bool(bad.any()):
        big = torch.full((*y.shape[:-1], 4, 4), float("inf"), dtype=torch.float64)
        for a in range(4):
            for b in range(a, 4):
                big[..., a, b] = y[..., a : b + 1].mean(dim=-1)
        inner = torch.flip(torch.cummin(torch.flip(big, dims=(-1,)), dim=-1).values, dims=(-1,))  # min_{b>=i}
        proj = torch.where(_UPPER, inner, torch.tensor(-float("inf"), dtype=torch.float64)).max(dim=-2).values
        y = torch.where(bad[..., None], proj, y)
    return torch.stack([y[..., 0], y[..., 2]], dim=-1), torch.stack([y[..., 1], y[..., 3]], dim=-1)


@dataclass(frozen=True)
class Li17Trajectory:
    """Recorded states of B runs: ``mu``, ``l``, ``r`` (T, B, 2), ``loss`` (T, B), ``steps_at`` (T,) the step
    index of each record; ``mu_star`` (B, 2). ``dynamics`` is ``"optimal"`` or ``"first-order"``."""

    mu: torch.Tensor
    l: torch.Tensor
    r: torch.Tensor
    loss: torch.Tensor
    steps_at: torch.Tensor
    mu_star: torch.Tensor
    dynamics: str
    eta_g: float
    eta_d: float | None
    steps: int


def _record_plan(steps: int, record_every: int) -> list[int]:
    at = list(range(0, steps + 1, record_every))
    if at[-1] != steps:
        at.append(steps)
    return at


def _check_run(steps: int, record_every: int) -> None:
    if int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    if int(record_every) != record_every or record_every < 1:
        raise ValueError(f"record_every must be an integer >= 1, got {record_every!r}")


@_one_thread
def optimal_discriminator_dynamics(
    *, mu0, mu_star, eta_g: float, steps: int, record_every: int = 1
) -> Li17Trajectory:
    """Optimal-discriminator dynamics of Li et al. (2017), lecture 9 section 2, vectorised over B runs.

    .. math::
        (l^{(t)}, r^{(t)}) = \\arg\\max_{l, r} L(\\hat\\mu^{(t)}, l, r), \\qquad
        \\hat\\mu^{(t+1)} = \\hat\\mu^{(t)} - \\eta_g \\nabla_\\mu L(\\hat\\mu^{(t)}, l^{(t)}, r^{(t)})

    ``mu0`` (B, 2) initial means; ``mu_star`` (2,) or (B, 2) target means; ``eta_g`` > 0; ``steps`` >= 1.
    Records every ``record_every`` steps and the last; the recorded (l, r) is the optimal discriminator at the
    recorded mu, so the recorded loss is 1 + TV.
    """
    eta_g = _check_step("eta_g", eta_g)
    _check_run(steps, record_every)
    mu = _tensor("mu0", mu0).reshape(-1, 2).clone()
    ms = _tensor("mu_star", mu_star).expand(mu.shape).clone()
    plan = _record_plan(steps, record_every)
    T, B = len(plan), mu.shape[0]
    rec = {k: torch.empty((T, B, 2), dtype=torch.float64) for k in ("mu", "l", "r")}
    loss = torch.empty((T, B), dtype=torch.float64)
    k = 0
    with torch.no_grad():
        for t in range(steps + 1):
            l, r = optimal_discriminator(mu=mu, mu_star=ms)
            if t == plan[k]:
                rec["mu"][k], rec["l"][k], rec["r"][k] = mu, l, r
                loss[k] = 1.0 + _mass(l, r, ms) - _mass(l, r, mu)
                k += 1
            if t == steps:
                break
            mu = mu - eta_g * _gradients(mu, ms, l, r).mu
    return Li17Trajectory(
        rec["mu"], rec["l"], rec["r"], loss, torch.tensor(plan), ms, "optimal", eta_g, None, int(steps)
    )


@_one_thread
def first_order_dynamics(
    *,
    mu0,
    l0,
    r0,
    mu_star,
    eta_g: float,
    eta_d: float,
    steps: int,
    record_every: int = 1,
    train_generator: bool = True,
) -> Li17Trajectory:
    """Simultaneous first-order dynamics of Li et al. (2017), lecture 9 section 2, vectorised over B runs.

    .. math::
        \\hat\\mu^{(t+1)} = \\hat\\mu^{(t)} - \\eta_g \\nabla_\\mu L, \\quad
        r^{(t+1)} = r^{(t)} + \\eta_d \\nabla_r L, \\quad l^{(t+1)} = l^{(t)} + \\eta_d \\nabla_l L

    (all gradients at step t), followed by :func:`project_intervals`. ``mu0``, ``l0``, ``r0`` (B, 2), finite,
    ordered; ``mu_star`` (2,) or (B, 2); ``eta_g``, ``eta_d`` > 0. With ``train_generator=False`` only the
    discriminator moves (the lecture's Figure 2(c)). Deviation: see :func:`project_intervals`.
    """
    eta_g, eta_d = _check_step("eta_g", eta_g), _check_step("eta_d", eta_d)
    _check_run(steps, record_every)
    mu = _tensor("mu0", mu0).reshape(-1, 2).clone()
    B = mu.shape[0]
    l, r = _tensor("l0", l0).expand(B, 2).clone(), _tensor("r0", r0).expand(B, 2).clone()
    _check_intervals(l, r)
    ms = _tensor("mu_star", mu_star).expand(B, 2).clone()
    plan = _record_plan(steps, record_every)
    T = len(plan)
    rec = {k: torch.empty((T, B, 2), dtype=torch.float64) for k in ("mu", "l", "r")}
    loss = torch.empty((T, B), dtype=torch.float64)
    k = 0
    with torch.no_grad():
        for t in range(steps + 1):
            if t == plan[k]:
                rec["mu"][k], rec["l"][k], rec["r"][k] = mu, l, r
                loss[k] = 1.0 + _mass(l, r, ms) - _mass(l, r, mu)
                k += 1
            if t == steps:
                break
            g = _gradients(mu, ms, l, r)
            if train_generator:
                mu = mu - eta_g * g.mu
            l, r = project_intervals(l=l + eta_d * g.l, r=r + eta_d * g.r)
    return Li17Trajectory(
        rec["mu"], rec["l"], rec["r"], loss, torch.tensor(plan), ms, "first-order", eta_g, eta_d, int(steps)
    )


# ---- outcomes ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcomes:
    """Per-run outcome ``labels`` (B,) from :data:`OUTCOMES`, the quantities they were decided on (each (B,)),
    and the ``criterion`` in words."""

    labels: np.ndarray
    error: np.ndarray
    separation: np.ndarray
    grad: np.ndarray
    criterion: str

    def counts(self) -> dict[str, int]:
        return {o: int((self.labels == o).sum()) for o in OUTCOMES}


def _window(traj: Li17Trajectory, window: float) -> int:
    if not 0 < window <= 1:
        raise ValueError(f"window must lie in (0, 1], got {window!r}")
    return max(1, int(np.ceil(window * traj.mu.shape[0])))


@_one_thread
def classify_outcomes(
    traj: Li17Trajectory,
    *,
    tol: float = 0.1,
    merge: float = 0.25,
    grad_tol: float = 1e-3,
    window: float = 0.1,
) -> Outcomes:
    """Outcome of each run of a trajectory (the lecture's Figure 1 categories), decided in float64.

    With mu sorted, mu* sorted, Delta* = mu*_2 - mu*_1 and W the last ``window`` fraction of the records:

    .. math::
        \\text{error} = \\max_{t \\in W} \\max_i |\\hat\\mu_{(i)}^{(t)} - \\mu^*_{(i)}|, \\quad
        \\text{separation} = |\\hat\\mu_2^{(T)} - \\hat\\mu_1^{(T)}|, \\quad
        \\text{grad} = \\max_{t \\in W} \\|\\nabla_\\mu L\\|_\\infty

    ``converged`` if error <= ``tol``; else ``mode-collapse`` if separation <= ``merge`` * Delta* and
    Delta* > 2 ``tol`` (the target's modes are apart); else ``vanishing-gradient`` if grad <= ``grad_tol``
    (stalled away from the target); else ``other`` (still moving: oscillating or drifting).
    """
    for name, v in (("tol", tol), ("merge", merge), ("grad_tol", grad_tol)):
        check_positive(name, v)
    w = _window(traj, window)
    mu = torch.sort(traj.mu[-w:], dim=-1).values
    ms = torch.sort(traj.mu_star, dim=-1).values
    error = (mu - ms).abs().amax(dim=(0, 2)).numpy()
    final = mu[-1]
    separation = (final[:, 1] - final[:, 0]).numpy()
    g = _gradients(traj.mu[-w:], traj.mu_star.expand_as(traj.mu[-w:]), traj.l[-w:], traj.r[-w:]).mu
    grad = g.abs().amax(dim=(0, 2)).numpy()
    spread = (ms[:, 1] - ms[:, 0]).numpy()
    labels = np.full(error.shape, "other", dtype=object)
    conv = error <= tol
    coll = ~conv & (separation <= merge * spread) & (spread > 2 * tol)
    stall = ~conv & ~coll & (grad <= grad_tol)
    labels[conv], labels[coll], labels[stall] = "converged", "mode-collapse", "vanishing-gradient"
    crit = (
        f"over the last {w} of {traj.mu.shape[0]} records: converged if max |sorted mu - sorted mu*| "
        f"<= {tol:g} "
        f"throughout; mode-collapse if not and the final |mu_2 - mu_1| <= {merge:g} (mu*_2 - mu*_1) with "
        f"mu*_2 - mu*_1 > {2 * tol:g}; vanishing-gradient if neither and max |dL/dmu| <= {grad_tol:g} "
        "throughout; other otherwise"
    )
    return Outcomes(labels.astype(str), error, separation, grad, crit)


@dataclass(frozen=True)
class DiscriminatorCollapse:
    """Per-run flags (B,): ``collapsed``; ``first_step`` the first step at which an interval had shrunk to
    zero length while the generator was off the target (-1 if never); ``negative_at_end`` whether an
    interval of positive length lies wholly in {p* - p_mu < 0} at the last record; ``criterion`` in words."""

    collapsed: np.ndarray
    first_step: np.ndarray
    negative_at_end: np.ndarray
    criterion: str


@_one_thread
def detect_discriminator_collapse(
    traj: Li17Trajectory, *, length_tol: float = 1e-9, off_tol: float = 0.05
) -> DiscriminatorCollapse:
    """Discriminator collapse of first-order dynamics (Li et al. 2017; lecture 9, Figure 2).

    The generator is *off the target* at a record when max_i |mu_(i) - mu*_(i)| >= ``off_tol`` (sorted means).
    A run is flagged when, at some record where the generator is off the target, an interval that started with
    length > ``length_tol`` has length <= ``length_tol``; or when, at the last record (generator off the
    target), an interval of positive length lies wholly inside {p* - p_mu < 0}, where the loss pushes both its
    ends inward.

    .. math:: r_j^{(t)} - l_j^{(t)} \\le \\epsilon_\\ell \\;\\text{or}\\;
              [l_j, r_j] \\cap \\{p^* > p_\\mu\\} = \\emptyset

    Only first-order trajectories: the optimal-discriminator dynamics recompute D at every step, where an
    empty interval is part of the optimum rather than a collapse.
    """
    if traj.dynamics != "first-order":
        raise ValueError(
            "traj must come from first_order_dynamics (dynamics='first-order'); "
            f"got dynamics={traj.dynamics!r}"
        )
    check_positive("length_tol", length_tol)
    check_positive("off_tol", off_tol)
    B = traj.mu.shape[1]
    off = (torch.sort(traj.mu, dim=-1).values - torch.sort(traj.mu_star, dim=-1).values).abs().amax(
        -1
    ) >= off_tol
    length = traj.r - traj.l  # (T, B, 2)
    started = length[0] > length_tol  # (B, 2)
    shrunk = ((length <= length_tol) & started[None]).any(dim=-1) & off  # (T, B)
    ever = shrunk.any(dim=0)
    first = torch.where(ever, traj.steps_at[torch.argmax(shrunk.to(torch.int8), dim=0)], torch.tensor(-1))
    pl, pr = optimal_discriminator(mu=traj.mu[-1], mu_star=traj.mu_star)
    l_end, r_end = traj.l[-1], traj.r[-1]
    overlap = torch.zeros((B, 2), dtype=torch.bool)
    for j in range(2):  # positive piece j of {p* > p_mu}
        nonempty = (pr[:, j] > pl[:, j])[:, None]
        overlap |= nonempty & (
            torch.maximum(l_end, pl[:, j : j + 1]) < torch.minimum(r_end, pr[:, j : j + 1])
        )
    neg_end = ((r_end - l_end > length_tol) & ~overlap).any(dim=-1) & off[-1]
    crit = (
        f"generator off the target (max |sorted mu - sorted mu*| >= {off_tol:g}) and either an interval that "
        f"started longer than {length_tol:g} has length <= {length_tol:g} at some record, or at the last "
        "record "
        "an interval of positive length lies wholly in {p* - p_mu < 0}"
    )
    return DiscriminatorCollapse((ever | neg_end).numpy(), first.numpy(), neg_end.numpy(), crit)


def outcome_fractions(
    outcomes: Outcomes, *, confidence: float = 0.95, seed: int | None = None
) -> dict[str, Estimate]:
    """Fraction of runs with each outcome, with a Clopper-Pearson interval (valid when the runs' initial
    states are i.i.d. draws); keys :data:`OUTCOMES` plus ``"not-converged"``."""
    n = int(outcomes.labels.size)
    counts = outcomes.counts()
    out = {o: clopper_pearson(c, n, confidence=confidence, seed=seed) for o, c in counts.items()}
    out["not-converged"] = clopper_pearson(n - counts["converged"], n, confidence=confidence, seed=seed)
    return out
