"""Theorem 1, Corollary A.1 and Lemma A.2 of Arora, Risteski & Zhang (arXiv 1711.02651), as sympy bounds.

Symbols (declared once): ``p`` discriminator capacity, ``eps`` target gap, ``L`` Lipschitz constant of D in
its parameters, ``L_phi`` Lipschitz constant of the measuring function, ``Delta`` half-range of phi,
``eta`` failure probability over the draw of G, ``n`` samples, ``m`` support size, ``t`` deviation,
``alpha`` error rate of a confidence interval.
"""

from __future__ import annotations

import math

import sympy as sp

from ._bound import Bound
from ._validate import check_number, check_open_unit, check_positive

__all__ = [
    "ARZ_THM1_SUPPORT_PAPER",
    "ARZ_THM1_SUPPORT_SPEC",
    "HOEFFDING_TAIL",
    "HOEFFDING_HALF_WIDTH",
    "MCDIARMID_TAIL",
    "MCDIARMID_BOUNDED_DIFFERENCE",
    "EPS_NET_LOG_SIZE",
    "EPS_NET_UNION_SUPPORT",
    "arz_thm1_support",
    "hoeffding_half_width",
    "mcdiarmid_sum_c_squared",
]

p, eps, L, L_phi, Delta, eta = sp.symbols("p eps L L_phi phi_range eta", positive=True)
n, m, t, alpha = sp.symbols("n m t alpha", positive=True)

ARZ_THM1_SUPPORT_PAPER = Bound(
    "arz-thm1.support.paper",
    p * Delta**2 * sp.log(p * Delta * L * L_phi / eps) ** 2 / eps**2,
    "Arora, Risteski & Zhang 2017, Theorem 1 (paper's form, constants of the O(.) taken as 1)",
)

ARZ_THM1_SUPPORT_SPEC = Bound(
    "arz-thm1.support.spec",
    16 * Delta**2 / eps**2 * (p * sp.log(1 + 16 * L * L_phi / eps) + sp.log(16 * Delta / (eta * eps))),
    "Arora, Risteski & Zhang 2017, Theorem 1 [spec]: explicit sufficient m with one log, "
    "failure probability eta over the draw of G (docs/papers/arz17.md, Theorem 1)",
)

HOEFFDING_TAIL = Bound(
    "hoeffding.tail",
    2 * sp.exp(-n * t**2 / (2 * Delta**2)),
    "Hoeffding for a mean of n variables in [-Delta, Delta] (range 2 Delta); Corollary A.1",
)

# Solving HOEFFDING_TAIL = alpha for t gives the half-width of a (1 - alpha) interval.
_half_width = sp.solve(sp.Eq(HOEFFDING_TAIL.expr, alpha), t)
HOEFFDING_HALF_WIDTH = Bound(
    "hoeffding.half_width",
    sp.simplify([s for s in _half_width if s.is_positive is not False][0]),
    "Hoeffding tail solved for t at level alpha",
)

MCDIARMID_BOUNDED_DIFFERENCE = 2 * Delta / m
"""c_i of Lemma A.2: changing one of the 2m arguments moves f by at most 2 Delta / m."""

MCDIARMID_TAIL = Bound(
    "arz-lemA2.mcdiarmid",
    2 * sp.exp(-2 * t**2 / (2 * m * MCDIARMID_BOUNDED_DIFFERENCE**2)),
    "McDiarmid with 2m arguments and c_i = 2 Delta/m (Lemma A.2; constants [spec])",
)

EPS_NET_LOG_SIZE = Bound(
    "arz-lemA2.eps_net_log_size",
    p * sp.log(1 + 2 * sp.sqrt(p) * 4 * L * L_phi / eps),
    "log-size of an eps/(4 L L_phi)-net of a ball of radius sqrt(p) in R^p (volume argument; [spec])",
)

EPS_NET_UNION_SUPPORT = Bound(
    "arz-lemA2.union_support",
    (4 * Delta**2 / (eps / 2) ** 2) * (EPS_NET_LOG_SIZE.expr + sp.log(2 / eta)),
    "m at which McDiarmid at t = eps/2 and a union bound over the net leave failure probability eta "
    "(Lemma A.2 + eps-net; [spec])",
)


def arz_thm1_support(
    *, p: float, eps: float, lipschitz: float, phi_range: float, lphi: float, eta: float = 0.1, log10: bool = False
) -> dict[str, float]:
    r"""Both support sizes of Theorem 1: ``{"paper": ..., "spec": ...}`` (Arora, Risteski & Zhang 2017,
    Theorem 1; ``docs/papers/arz17.md``).

    .. math::
        m_\text{paper} = \frac{p \Delta^2 \log^2(p \Delta L L_\phi / \varepsilon)}{\varepsilon^2}, \qquad
        m_\text{spec} = \frac{16 \Delta^2}{\varepsilon^2}\Big[p \log\big(1 + \tfrac{16 L L_\phi}{\varepsilon}
        \big) + \log\tfrac{16 \Delta}{\eta \varepsilon}\Big]

    ``p`` is a parameter count (an integer >= 1); ``phi_range`` is the half-range Delta of the measuring function
    phi (the CLI's ``--phi-range``), ``lipschitz`` the L of the discriminators in their parameters, ``lphi``
    L_phi, ``eta`` the failure probability over the draw of G (spec form only). Domain (``ValueError`` naming the
    failing hypothesis): eps < 2 phi_range (a gap never exceeds 2 Delta, so larger eps make the theorem vacuous)
    and p Delta L L_phi / eps > 1 (the paper's log is positive). Sizes beyond float64 raise
    :class:`~ganlimits.theory.ResultOutOfRange` with their log10; ``log10=True`` returns the log10 of both sizes
    instead (finite for every valid input).

    Deviation: the paper's form takes the constant of its O(.) as 1; ``spec`` is this project's explicit
    sufficient size (one log, failure probability eta).

    The verdict class of ``arz-thm1`` on the digits (one hidden layer of 8 ReLUs on the 66-dimensional joint input,
    p = 545, L = 566; ``docs/papers/arz17.md``):

    >>> sizes = arz_thm1_support(p=545, eps=0.08, lipschitz=566, phi_range=0.5, lphi=1)
    >>> {form: round(m) for form, m in sizes.items()}
    {'paper': 4458732, 'spec': 3968143}
    """
    values = dict(
        p=check_number("p", p, low=1, integer=True),
        eps=check_positive("eps", eps),
        L=check_positive("lipschitz", lipschitz),
        phi_range=check_positive("phi_range", phi_range),
        L_phi=check_positive("lphi", lphi),
    )
    eta = check_open_unit("eta", eta)
    if not values["eps"] < 2 * values["phi_range"]:
        raise ValueError(f"eps must be < 2 phi_range = {2 * values['phi_range']:.6g} (Theorem 1's hypothesis: "
                         f"a gap never exceeds 2 Delta), got {values['eps']:.6g}")
    log_arg = sum(math.log(values[k]) for k in ("p", "phi_range", "L", "L_phi")) - math.log(values["eps"])
    if not log_arg > 0:
        raise ValueError("p * phi_range * lipschitz * lphi / eps must be > 1 (Theorem 1's log(p Delta L L_phi / "
                         f"eps) must be positive), got exp({log_arg:.6g})")
    if log10:
        return {"paper": ARZ_THM1_SUPPORT_PAPER.log10(**values),
                "spec": ARZ_THM1_SUPPORT_SPEC.log10(**values, eta=eta)}
    return {
        "paper": ARZ_THM1_SUPPORT_PAPER.value("support_paper", **values),
        "spec": ARZ_THM1_SUPPORT_SPEC.value("support_spec", **values, eta=eta),
    }


def hoeffding_half_width(*, n: float, phi_range: float, alpha: float) -> float:
    """Half-width of the two-sided (1 - alpha) Hoeffding interval for a mean of n values in
    [-phi_range, phi_range] (phi_range = Delta, the half-range; Corollary A.1 of Arora, Risteski & Zhang 2017).

    >>> round(hoeffding_half_width(n=10_000, phi_range=0.5, alpha=0.05), 4)
    0.0136
    """
    n = check_positive("n", n)
    phi_range = check_positive("phi_range", phi_range)
    alpha = check_open_unit("alpha", alpha)
    return HOEFFDING_HALF_WIDTH.value("half_width", n=n, phi_range=phi_range, alpha=alpha)


def mcdiarmid_sum_c_squared() -> sp.Expr:
    """Sum of c_i^2 over the 2m arguments of Lemma A.2, simplified (equals 8 Delta^2 / m)."""
    return sp.simplify(2 * m * MCDIARMID_BOUNDED_DIFFERENCE**2)

