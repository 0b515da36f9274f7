"""Theorem 3.1 (generalization), its corollary, and the equilibrium of Theorems 4.2-4.3 of Arora, Ge,
Liang, Ma & Zhang, "Generalization and Equilibrium in GANs" (ICML 2017; seed ``003_...``; ``docs/papers/agl17.md``).

Symbols (declared once): ``p`` discriminator capacity, ``eps`` target gap, ``L`` Lipschitz constant of D in
its parameters, ``L_G`` Lipschitz constant of a generator in its parameters (the paper's L'), ``L_phi``
Lipschitz constant of the measuring function phi, ``Delta`` half-range of phi (phi takes values in an interval
of length 2 Delta), ``C`` the universal constant of the paper's O(.), ``eta`` failure probability, ``q``
number of selector thresholds, ``w`` selector ramp width, ``T`` number of mixture components,
``tv_budget`` the TV budget delta' of the fold.

The constant C. ``docs/papers/agl17.md`` restates Theorem 3.1 as
``m >= C p Delta^2 log(L L_phi p / eps) / eps^2`` without the value of C (the seed only says "C is fairly small").
This module keeps C a symbol. Reports use **C = 1**
for the paper's form (the project's convention, as in ``arz-thm1.support.paper``: the constant of the O(.)
taken as 1) and, beside it, an explicit sufficient size with every constant written out
(:data:`AGL17_THM31_SAMPLES_SPEC`, [spec]); a verdict tests the theorem only at an m at least the explicit
size, where the hypothesis surely holds. :func:`implied_constant` gives the C at which the paper's form
equals the explicit one (7 to 10 for the parameters used in the claims).
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp
from scipy import special

from ._bound import Bound
from ._validate import check_open_unit, check_positive

__all__ = [
    "AGL17_THM31_SAMPLES",
    "AGL17_THM31_SAMPLES_SPEC",
    "AGL17_THM1_BLOG",
    "AGL17_THM42_MIXTURE_SIZE",
    "SELECTOR_RAMP_BOUND",
    "AGL17_SELECTOR_WIDTH",
    "AGL17_REPORTED_C",
    "AGL17_EQUILIBRIUM_VALUE",
    "agl17_thm31_samples",
    "agl17_mixture_size",
    "agl17_selector_width",
    "selector_ramp_bound",
    "normal_quantile_thresholds",
    "selector_ramp_mass",
    "equilibrium_value",
    "implied_constant",
]

p, eps, L, L_G, L_phi, Delta, C, eta = sp.symbols("p eps L L_G L_phi phi_range C eta", positive=True)
q, w, T, delta_prime = sp.symbols("q w T tv_budget", positive=True)
log_inv_eta = sp.Symbol("log_inv_eta", positive=True)  # log(1/eta): eta = exp(-p) underflows for large p
R = sp.Symbol("R", positive=True)  # radius of a Euclidean ball in R^p holding the discriminators' parameters

AGL17_REPORTED_C = 1.0
"""The value of C used in reports for the paper's form (see the module docstring for why)."""

AGL17_THM31_SAMPLES = Bound(
    "agl17-thm31.samples.paper",
    C * p * Delta**2 * sp.log(L * L_phi * p / eps) / eps**2,
    "Arora, Ge, Liang, Ma & Zhang 2017, Theorem 3.1 and corollary [restated]: m >= C p Delta^2 "
    "log(L L_phi p / eps) / eps^2, C a universal constant (reported with C = 1)",
)

AGL17_THM31_SAMPLES_SPEC = Bound(
    "agl17-thm31.samples.spec",
    (8 * Delta**2 / eps**2) * (p * sp.log(1 + 8 * R * L * L_phi / eps) + sp.log(2) + log_inv_eta),
    "Arora, Ge, Liang, Ma & Zhang 2017, corollary of Theorem 3.1 [spec]: Hoeffding at t = eps/2 for each "
    "point of an eps/(4 L L_phi)-net of the parameter ball of radius R (R = sqrt(p)), union bound, "
    "failure probability eta = exp(-log_inv_eta)",
)

AGL17_THM1_BLOG = Bound(
    "agl17-thm31.samples.seed",
    C * p * sp.log(p) / eps**2,
    "Arora 2017 blog post (seed 003), 'Theorem 1': C n log(n) / eps^2 samples for capacity n",
)

AGL17_THM42_MIXTURE_SIZE = Bound(
    "agl17-equilibrium.mixture_size",
    C * Delta**2 * p * sp.log(L * L_G * L_phi * p / eps) / eps**2,
    "Arora, Ge, Liang, Ma & Zhang 2017, Theorem 4.2 [restated]: a uniform mixture of T components suffices "
    "for an eps-approximate equilibrium (C a universal constant, reported with C = 1)",
)

SELECTOR_RAMP_BOUND = Bound(
    "agl17-lemma3.ramp_mass",
    q * w / sp.sqrt(2 * sp.pi),
    "Arora, Ge, Liang, Ma & Zhang 2017, Lemma 3 [restated]: Pr[S(h) not one-hot] <= q w / sqrt(2 pi) for "
    "h ~ N(0, 1), q thresholds, ramps of width w (density of h is at most 1/sqrt(2 pi))",
)

AGL17_SELECTOR_WIDTH = Bound(
    "agl17-thm43.width",
    delta_prime / (100 * T),
    "Arora, Ge, Liang, Ma & Zhang 2017, Theorem 4.3 [restated]: ramp width w = delta' / (100 T)",
)


def _check_count(name: str, value, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def agl17_thm31_samples(
    *,
    p: float,
    eps: float,
    lipschitz: float,
    phi_range: float,
    lphi: float,
    C: float = AGL17_REPORTED_C,
    eta: float | None = None,
    radius: float | None = None,
) -> dict[str, float]:
    r"""Sample sizes of Theorem 3.1's corollary: the uniform law on m samples of mu is within eps of mu.

    .. math::

        m_\text{paper} = C\,p\,\Delta^2 \log(L L_\phi p/\varepsilon)/\varepsilon^2, \qquad
        m_\text{spec} = \frac{8\Delta^2}{\varepsilon^2}\Big[p\log\big(1 +
        \tfrac{8 R\,L L_\phi}{\varepsilon}\big) + \log\tfrac{2}{\eta}\Big], \qquad
        m_\text{blog} = C\,p\log p/\varepsilon^2

    ``phi_range`` is the half-range Delta of phi; ``eta`` defaults to ``exp(-p)``, the paper's
    failure probability; ``radius`` (R) that of a Euclidean ball holding every parameter vector of the class,
    default sqrt(p) (each parameter in [-1, 1], as in ``docs/papers/arz17.md``). Returns ``{"paper", "spec", "blog"}``
    as floats (not rounded up).

    Deviation: ``spec`` is this project's explicit version of the paper's O(.) statement (``docs/papers/agl17.md``):
    one-sided Hoeffding with range 2 Delta at t = eps/2 for every point of an eps/(4 L L_phi)-net of the ball
    of radius R (covering number at most (1 + 2R/r)^p), a union bound, and 2 L L_phi r = eps/2 for moving to
    the net.
    """
    values = dict(
        p=check_positive("p", p),
        eps=check_positive("eps", eps),
        L=check_positive("lipschitz", lipschitz),
        phi_range=check_positive("phi_range", phi_range),
        L_phi=check_positive("lphi", lphi),
    )
    c = check_positive("C", C)
    log_inv = values["p"] if eta is None else -math.log(check_open_unit("eta", eta))
    rad = math.sqrt(values["p"]) if radius is None else check_positive("radius", radius)
    return {
        "paper": float(AGL17_THM31_SAMPLES(**values, C=c)),
        "spec": float(AGL17_THM31_SAMPLES_SPEC(**values, log_inv_eta=log_inv, R=rad)),
        "blog": float(AGL17_THM1_BLOG(p=values["p"], eps=values["eps"], C=c)),
    }


def implied_constant(
    *, p: float, eps: float, lipschitz: float, phi_range: float, lphi: float, radius: float | None = None
) -> float:
    """The C at which the paper's form of Theorem 3.1 equals the explicit [spec] size (eta = exp(-p))."""
    sizes = agl17_thm31_samples(
        p=p, eps=eps, lipschitz=lipschitz, phi_range=phi_range, lphi=lphi, C=1.0, radius=radius
    )
    return sizes["spec"] / sizes["paper"]


def agl17_mixture_size(
    *,
    p: float,
    eps: float,
    lipschitz: float,
    generator_lipschitz: float,
    phi_range: float,
    lphi: float,
    C: float = AGL17_REPORTED_C,
) -> float:
    r"""T of Theorem 4.2: the number of mixture components that suffices for an eps-approximate equilibrium.

    .. math::

        T = C\,\Delta^2\,p\,\log(L L' L_\phi p/\varepsilon)/\varepsilon^2

    ``generator_lipschitz`` is the paper's L' (a generator's Lipschitz constant in its parameters).
    """
    return float(
        AGL17_THM42_MIXTURE_SIZE(
            p=check_positive("p", p),
            eps=check_positive("eps", eps),
            L=check_positive("lipschitz", lipschitz),
            L_G=check_positive("generator_lipschitz", generator_lipschitz),
            phi_range=check_positive("phi_range", phi_range),
            L_phi=check_positive("lphi", lphi),
            C=check_positive("C", C),
        )
    )


def agl17_selector_width(*, tv_budget: float, T: int) -> float:
    r"""Ramp width of the fold of Theorem 4.3: :math:`w = \delta'/(100\,T)`."""
    check_positive("tv_budget", tv_budget)
    T = _check_count("T", T, minimum=1)
    return float(AGL17_SELECTOR_WIDTH(tv_budget=tv_budget, T=T))


def selector_ramp_bound(*, q: int, w: float) -> float:
    r"""Lemma 3's bound :math:`\Pr[S(h) \text{ not one-hot}] \le q w/\sqrt{2\pi}` for h ~ N(0, 1)."""
    q = _check_count("q", q, minimum=0)
    check_positive("w", w)
    return 0.0 if q == 0 else float(SELECTOR_RAMP_BOUND(q=q, w=w))


def normal_quantile_thresholds(*, T: int) -> np.ndarray:
    r"""The T-quantiles of N(0, 1): :math:`\tau_i = \Phi^{-1}(i/T)`, i = 1..T-1, float64 of shape (T-1,).

    With these thresholds each of the T intervals of h ~ N(0, 1) has probability exactly 1/T (Theorem 4.3).
    """
    T = _check_count("T", T, minimum=1)
    return special.ndtri(np.arange(1, T, dtype=np.float64) / T)


def selector_ramp_mass(*, thresholds, width: float) -> float:
    r"""Exact probability that h ~ N(0, 1) falls on a centred ramp of the selector (float64).

    .. math::

        \Pr[S(h) \text{ not one-hot}] = \sum_{i=1}^{q} \big[\Phi(\tau_i + w/2) - \Phi(\tau_i - w/2)\big]
        \le \frac{q\,w}{\sqrt{2\pi}}

    ``thresholds``: (q,) increasing, with gaps larger than ``width`` (the ramps are then disjoint and the sum
    is exact). Each term is a difference of upper or of lower tails, whichever are smaller, so that ramps in
    the far tails keep their relative accuracy.
    """
    tau = np.asarray(thresholds, dtype=np.float64).ravel()
    w_ = check_positive("width", width)
    if not np.all(np.isfinite(tau)):
        raise ValueError("thresholds must be finite")
    if tau.size > 1 and not np.all(np.diff(tau) > w_):
        raise ValueError("thresholds must be increasing with gaps larger than width (disjoint ramps)")
    lo, hi = tau - w_ / 2, tau + w_ / 2
    upper = special.ndtr(-lo) - special.ndtr(-hi)  # accurate where tau > 0
    lower = special.ndtr(hi) - special.ndtr(lo)  # accurate where tau <= 0
    return float(np.where(tau > 0, upper, lower).sum())


AGL17_EQUILIBRIUM_VALUE = {
    "identity": Bound(
        "agl17-equilibrium.value.identity",
        2 * sp.Rational(1, 2),  # 2 phi(1/2) with phi(t) = t
        "Arora, Ge, Liang, Ma & Zhang 2017, §4 [restated]: equilibrium value V = 2 phi(1/2), phi = identity",
    ),
    "log": Bound(
        "agl17-equilibrium.value.log",
        2 * sp.log(sp.Rational(1, 2)),
        "Arora, Ge, Liang, Ma & Zhang 2017, §4 [restated]: equilibrium value V = 2 phi(1/2), phi = log",
    ),
}


def equilibrium_value(phi: str = "identity") -> float:
    r"""The value :math:`V = 2\varphi(1/2)` of the game F(u, v) = E_mu phi(D) + E_G phi(1 - D)
    (``docs/papers/agl17.md``).

    The constant discriminator D = 1/2 earns exactly V against every generator, and by concavity of phi no
    discriminator earns more than V against mu itself; the neural-net distance is the excess over V.
    ``phi``: ``"identity"`` (V = 1) or ``"log"`` (V = -2 log 2; a log clipped at c < 1/2 has the same V).
    """
    if phi not in AGL17_EQUILIBRIUM_VALUE:
        raise ValueError(f"phi must be one of {sorted(AGL17_EQUILIBRIUM_VALUE)}, got {phi!r}")
    return float(AGL17_EQUILIBRIUM_VALUE[phi]())
