"""The optimal discriminator of the two-Gaussian game (Li, Madry, Peebles & Schmidt 2017; ``docs/papers/li17.md``):
the sign changes of p* - p_mu, the optimal intervals and the total variation between the mixtures.

The optimal discriminator is the set {p* - p_mu > 0}. Its ends are the sign changes of
p*(x) - p_mu(x) = exp(-x^2/2)/(2 sqrt(2 pi)) * sum_i s_i exp(a_i x - a_i^2/2), a sum of four exponentials with
s = (+, +, -, -) and a = (mu*_1, mu*_2, mu_1, mu_2). They are found by Rolle's theorem applied recursively
(the critical points of a sum of k exponentials are the roots of a sum of k - 1 exponentials; between two
consecutive critical points the function is monotone and has at most one sign change, located by safeguarded
Newton steps inside a bracket), so no sign change is missed however close two roots are; tangencies (roots
without a sign change) are not ends, and identical mixtures give an empty discriminator.

Shape letters as in :mod:`._li17_model`.
"""

# ruff: noqa: E741  (l and r are the lecture's names for the interval ends)
from __future__ import annotations

import numpy as np
import torch
from scipy import integrate

from ganlimits.theory.li17 import LI17_MAX_SIGN_CHANGES

from ._li17_model import _SQRT_2PI, _mass, _tensor

__all__ = ["density_difference_roots", "optimal_discriminator", "tv_mixtures"]

_SIGNS = np.array([1.0, 1.0, -1.0, -1.0])  # p* - p_mu: the target's two means first
_MERGE = 1e-12  # means closer than this (relative to max(1, |mean|)) are merged before root isolation
_TRIALS = 8  # trial distances 1, 4, ..., 4^7 from a finite end towards an infinite one

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

    Deviation: two means closer than 1e-12 (relative to ``max(1, |mean|)``, after centring) are merged into one
    before the roots are isolated - below that difference the sign of p* - p_mu far from the means cannot be
    resolved in float64. Merging moves p* - p_mu by at most 1e-12 x sup|phi'| per pair and the TV by less
    than 1e-12; a sign change pushed to ``|x|`` of order 1e12 by such a pair is dropped with it. A sign change more
    than about 38 from every mean (both densities below float64's range there, e.g. near x = 69,315 for
    ``mu = (0, 0)``, ``mu_star = (1e-5, -1)``) is located only roughly, on its right side of the means: the mass it
    moves is below 1e-300.
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
    lecture 9; ``docs/papers/li17.md``), so that max_{l, r} L = 1 + d_TV(G_mu, G_mu*).

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
    """Total variation distance between G_mu and G_mu* (``docs/papers/li17.md``).

    .. math:: d_{TV} = \\int (p^* - p_\\mu)_+ \\, dx = \\tfrac12 \\int |p^* - p_\\mu| \\, dx

    ``method="roots"``: closed form from the sign changes (sum of normal-cdf differences over {p* > p_mu});
    ``method="quadrature"``: adaptive quadrature of ``|p* - p_mu|/2`` (scipy ``quad``, breakpoints at the four
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
