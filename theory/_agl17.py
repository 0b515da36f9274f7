"""Theorem 3.1 (generalization), its corollary, and the equilibrium of Theorems 4.2-4.3 of Arora, Ge,
Liang, Ma & Zhang, "Generalization and Equilibrium in GANs" (ICML 2017; ``docs/papers/agl17.md``).

Symbols (declared once): ``p`` discriminator capacity, ``eps`` target gap, ``L`` Lipschitz constant of D in
its parameters, ``L_G`` Lipschitz constant of a generator in its parameters (the paper's L'), ``L_phi``
Lipschitz constant of the measuring function phi, ``Delta`` half-range of phi (phi takes values in an interval
of length 2 Delta), ``C`` the universal constant of the paper's O(.), ``eta`` failure probability, ``q``
number of selector thresholds, ``w`` selector ramp width, ``T`` number of mixture components,
``tv_budget`` the TV budget delta' of the fold.

The constant C. Theorem 3.1 asks for ``m >= C p Delta^2 log(L L_phi p / eps) / eps^2`` without giving the
value of C (the authors' blog post only says "C is fairly small"). This module keeps C a symbol. Reports use **C = 1**
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
from ._validate import check_allocation, check_number, check_open_unit, check_positive

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
    "point of an eps/(4 L L_phi)-net of the parameter ball of radius R (default R = sqrt(p)), union bound, "
    "failure probability eta = exp(-log_inv_eta)",
)

AGL17_THM1_BLOG = Bound(
    "agl17-thm31.samples.seed",
    C * p * sp.log(p) / eps**2,
    "Arora 2017 blog post on the paper, its 'Theorem 1': C n log(n) / eps^2 samples for capacity n",
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
    return check_number(name, value, low=minimum, integer=True)


def _check_domain(theorem: str, values: dict[str, float], log_names: tuple[str, ...], log_text: str) -> None:
    """The hypotheses shared by Theorems 3.1 and 4.2: eps < 2 Delta, and the log's argument above 1."""
    if not values["eps"] < 2 * values["phi_range"]:
        raise ValueError(f"eps must be < 2 phi_range = {2 * values['phi_range']:.6g} ({theorem}'s hypothesis: a "
                         f"distance between phi-values never exceeds 2 Delta), got {values['eps']:.6g}")
    log_arg = sum(math.log(values[k]) for k in log_names) - math.log(values["eps"])
    if not log_arg > 0:
        raise ValueError(f"{log_text} must be > 1 ({theorem}'s log must be positive, or the size is not "
                         f"positive), got exp({log_arg:.6g})")


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
    log10: bool = False,
) -> dict[str, float]:
    r"""Sample sizes of Theorem 3.1's corollary: the uniform law on m samples of mu is within eps of mu.

    .. math::

        m_\text{paper} = C\,p\,\Delta^2 \log(L L_\phi p/\varepsilon)/\varepsilon^2, \qquad
        m_\text{spec} = \frac{8\Delta^2}{\varepsilon^2}\Big[p\log\big(1 +
        \tfrac{8 R\,L L_\phi}{\varepsilon}\big) + \log\tfrac{2}{\eta}\Big], \qquad
        m_\text{blog} = C\,p\log p/\varepsilon^2

    ``phi_range`` is the half-range Delta of phi; ``eta`` defaults to ``exp(-p)``, the paper's
    failure probability; ``radius`` (R) that of a Euclidean ball holding every parameter vector of the class,
    default sqrt(p) (each parameter in [-1, 1]). Returns ``{"paper", "spec", "blog"}``
    as floats (not rounded up); with ``log10=True`` their log10 (finite for every valid input; a size beyond
    float64 otherwise raises :class:`~ganlimits.theory.ResultOutOfRange` saying its log10). ``p`` is a parameter
    count (an integer >= 1). Domain (``ValueError`` naming the hypothesis): eps < 2 phi_range and
    lipschitz * lphi * p / eps > 1.

    Deviation: ``spec`` is this project's explicit version of the paper's O(.) statement
    (``docs/papers/agl17.md``, Theorem 3.1):
    one-sided Hoeffding with range 2 Delta at t = eps/2 for every point of an eps/(4 L L_phi)-net of the ball
    of radius R (covering number at most (1 + 2R/r)^p), a union bound, and 2 L L_phi r = eps/2 for moving to
    the net.

    >>> sizes = agl17_thm31_samples(p=65, eps=0.1, lipschitz=1.0, phi_range=0.5, lphi=1.0)
    >>> {form: round(m) for form, m in sizes.items()}
    {'paper': 10525, 'spec': 97259, 'blog': 27134}
    """
    values = dict(
        p=check_number("p", p, low=1, integer=True),
        eps=check_positive("eps", eps),
        L=check_positive("lipschitz", lipschitz),
        phi_range=check_positive("phi_range", phi_range),
        L_phi=check_positive("lphi", lphi),
    )
    _check_domain("Theorem 3.1", values, ("L", "L_phi", "p"), "lipschitz * lphi * p / eps")
    c = check_positive("C", C)
    log_inv = values["p"] if eta is None else -math.log(check_open_unit("eta", eta))
    rad = math.sqrt(values["p"]) if radius is None else check_positive("radius", radius)
    forms = {"paper": (AGL17_THM31_SAMPLES, dict(values, C=c)),
             "spec": (AGL17_THM31_SAMPLES_SPEC, dict(values, log_inv_eta=log_inv, R=rad)),
             "blog": (AGL17_THM1_BLOG, dict(p=values["p"], eps=values["eps"], C=c))}
    if log10:
        return {k: (b.log10(**v) if not (k == "blog" and values["p"] == 1) else -math.inf)
                for k, (b, v) in forms.items()}
    return {k: b.value(f"samples_{k}", **v) for k, (b, v) in forms.items()}


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
    log10: bool = False,
) -> float:
    r"""T of Theorem 4.2: the number of mixture components that suffices for an eps-approximate equilibrium.

    .. math::

        T = C\,\Delta^2\,p\,\log(L L' L_\phi p/\varepsilon)/\varepsilon^2

    ``generator_lipschitz`` is the paper's L' (a generator's Lipschitz constant in its parameters); ``p`` a
    parameter count (an integer >= 1). Domain (``ValueError`` naming the hypothesis): eps < 2 phi_range and
    lipschitz * generator_lipschitz * lphi * p / eps > 1. ``log10=True`` returns log10 T; a T beyond float64
    otherwise raises :class:`~ganlimits.theory.ResultOutOfRange` saying its log10.
    """
    values = dict(
        p=check_number("p", p, low=1, integer=True),
        eps=check_positive("eps", eps),
        L=check_positive("lipschitz", lipschitz),
        L_G=check_positive("generator_lipschitz", generator_lipschitz),
        phi_range=check_positive("phi_range", phi_range),
        L_phi=check_positive("lphi", lphi),
        C=check_positive("C", C),
    )
    _check_domain("Theorem 4.2", values, ("L", "L_G", "L_phi", "p"),
                  "lipschitz * generator_lipschitz * lphi * p / eps")
    if log10:
        return AGL17_THM42_MIXTURE_SIZE.log10(**values)
    return AGL17_THM42_MIXTURE_SIZE.value("mixture_size_T", **values)


def agl17_selector_width(*, tv_budget: float, T: int) -> float:
    r"""Ramp width of the fold of Theorem 4.3: :math:`w = \delta'/(100\,T)`."""
    tv_budget = check_open_unit("tv_budget", tv_budget)
    T = _check_count("T", T, minimum=1)
    return AGL17_SELECTOR_WIDTH.value("width", tv_budget=tv_budget, T=T)


def selector_ramp_bound(*, q: int, w: float) -> float:
    r"""Lemma 3's bound :math:`\Pr[S(h) \text{ not one-hot}] \le q w/\sqrt{2\pi}` for h ~ N(0, 1)."""
    q = _check_count("q", q, minimum=0)
    w = check_positive("w", w)
    return 0.0 if q == 0 else float(SELECTOR_RAMP_BOUND(q=q, w=w))


def normal_quantile_thresholds(*, T: int) -> np.ndarray:
    r"""The T-quantiles of N(0, 1): :math:`\tau_i = \Phi^{-1}(i/T)`, i = 1..T-1, float64 of shape (T-1,).

    With these thresholds each of the T intervals of h ~ N(0, 1) has probability exactly 1/T (Theorem 4.3).
    """
    T = _check_count("T", T, minimum=1)
    check_allocation("T", T, elements=T)
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
    (``docs/papers/agl17.md``, "Equilibrium").

    The constant discriminator D = 1/2 earns exactly V against every generator, and by concavity of phi no
    discriminator earns more than V against mu itself; the neural-net distance is the excess over V.
    ``phi``: ``"identity"`` (V = 1) or ``"log"`` (V = -2 log 2; a log clipped at c < 1/2 has the same V).

    >>> equilibrium_value("identity"), round(equilibrium_value("log"), 4)
    (1.0, -1.3863)
    """
    if phi not in AGL17_EQUILIBRIUM_VALUE:
        raise ValueError(f"phi must be one of {sorted(AGL17_EQUILIBRIUM_VALUE)}, got {phi!r}")
    return float(AGL17_EQUILIBRIUM_VALUE[phi]())
