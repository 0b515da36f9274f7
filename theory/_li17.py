"""The two-Gaussian GAN model of Li, Madry, Peebles & Schmidt (2017) and the optimal-discriminator identity of
Goodfellow et al. (2014), both as seen in Madry's lecture 9 (``docs/papers/li17.md``, ``docs/papers/lecture9.md``).

Pure mathematics: sympy expressions (the single definitions) and their numeric forms from ``lambdify``.

Symbols (declared once): ``mu_1, mu_2`` generator means, ``ms_1, ms_2`` target means mu*,
``l_1, r_1, l_2, r_2`` the discriminator's interval ends (``l_1 <= r_1 <= l_2 <= r_2``), ``P_D, P_S`` the
data and synthetic densities at one point x, ``V`` the discriminator's value at that point.

Model (``docs/papers/li17.md``): generator G_mu = 1/2 N(mu_1, 1) + 1/2 N(mu_2, 1); discriminator
D = 1[l_1, r_1] + 1[l_2, r_2]; loss L(mu, l, r) = E_{x~G_mu*} D(x) + E_{x~G_mu} (1 - D(x)). The generator
descends L, the discriminator ascends it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import sympy as sp

from ._bound import Bound

__all__ = [
    "LI17_SYMBOLS",
    "li17_loss_expr",
    "li17_gradient_exprs",
    "li17_numeric",
    "LI17_MAX_SIGN_CHANGES",
    "LECTURE_OPTIMAL_D",
    "LECTURE_LOSS_AT_OPTIMUM",
    "LECTURE_JS_INTEGRAND",
    "OptimalDiscriminatorDerivation",
    "derive_optimal_discriminator",
]

mu_1, mu_2, ms_1, ms_2 = sp.symbols("mu_1 mu_2 ms_1 ms_2", real=True)
l_1, r_1, l_2, r_2 = sp.symbols("l_1 r_1 l_2 r_2", real=True)
LI17_SYMBOLS: tuple[sp.Symbol, ...] = (mu_1, mu_2, ms_1, ms_2, l_1, r_1, l_2, r_2)
"""Argument order of every numeric form in this module: mu_1, mu_2, ms_1, ms_2, l_1, r_1, l_2, r_2."""

LI17_MAX_SIGN_CHANGES = 3
"""p* - p_mu for two 2-component unit-variance mixtures is exp(-x^2/2) times a sum of 4 exponentials
exp(a_i x); by Descartes' rule for exponential sums it changes sign at most 3 times (``docs/papers/li17.md``)."""


def _Phi(x: sp.Expr) -> sp.Expr:
    """Standard normal cdf, written with erf so that sympy differentiates it to the pdf."""
    return (1 + sp.erf(x / sp.sqrt(2))) / 2


@cache
def li17_loss_expr() -> sp.Expr:
    """L(mu, l, r) of Li et al. (2017) in closed form, as in ``docs/papers/li17.md``.

    .. math::
        L = 1 + \\tfrac12 \\sum_{i,j} [\\Phi(r_j - \\mu^*_i) - \\Phi(l_j - \\mu^*_i)]
              - \\tfrac12 \\sum_{i,j} [\\Phi(r_j - \\mu_i) - \\Phi(l_j - \\mu_i)]

    The first sum is E_{G_mu*} D, the second E_{G_mu} D (so the last term is E_{G_mu}(1 - D) - 1).
    """
    ls, rs = (l_1, l_2), (r_1, r_2)
    target = sum(_Phi(rs[j] - m) - _Phi(ls[j] - m) for m in (ms_1, ms_2) for j in range(2))
    model = sum(_Phi(rs[j] - m) - _Phi(ls[j] - m) for m in (mu_1, mu_2) for j in range(2))
    return 1 + target / 2 - model / 2


@cache
def li17_gradient_exprs() -> dict[str, sp.Expr]:
    """Partial derivatives of :func:`li17_loss_expr` by sympy, keyed ``"mu_1"``, ..., ``"r_2"``.

    ``docs/papers/li17.md`` states them as
    d L/d mu_i = 1/2 sum_j [phi(r_j - mu_i) - phi(l_j - mu_i)], d L/d r_j = p*(r_j) - p_mu(r_j),
    d L/d l_j = -(p*(l_j) - p_mu(l_j)); the tests compare these derivatives with that statement.
    """
    L = li17_loss_expr()
    return {s.name: sp.diff(L, s) for s in (mu_1, mu_2, l_1, r_1, l_2, r_2)}


@cache
def li17_numeric() -> dict[str, Callable[..., np.ndarray]]:
    """Numeric forms (numpy/scipy, float64) of L and of its gradient, derived from the sympy expressions.

    Keys ``"L"``, ``"mu_1"``, ``"mu_2"``, ``"l_1"``, ``"r_1"``, ``"l_2"``, ``"r_2"``; each function takes the
    arguments in the order of :data:`LI17_SYMBOLS` and broadcasts like numpy.
    """
    out = {"L": sp.lambdify(LI17_SYMBOLS, li17_loss_expr(), modules=["scipy", "numpy"])}
    for name, expr in li17_gradient_exprs().items():
        out[name] = sp.lambdify(LI17_SYMBOLS, expr, modules=["scipy", "numpy"])
    return out


# ---- the lecture's optimal discriminator (Goodfellow et al. 2014, section 4) -------------------------------

P_D, P_S = sp.symbols("P_D P_S", positive=True)
V = sp.Symbol("V", positive=True)
_W = sp.Symbol("W", positive=True)  # V = W / (1 + W) maps W > 0 onto 0 < V < 1

LECTURE_OPTIMAL_D = Bound(
    "lecture.optimal_d",
    P_D / (P_D + P_S),
    "Goodfellow et al. 2014, Proposition 1, as derived in Madry's lecture 9: the unrestricted discriminator "
    "maximising the loss pointwise (derived in derive_optimal_discriminator)",
    (P_D, P_S),
)

LECTURE_LOSS_AT_OPTIMUM = Bound(
    "lecture.loss_at_optimum.pointwise",
    P_D * sp.log(P_D / (P_D + P_S)) + P_S * sp.log(P_S / (P_D + P_S)),
    "Goodfellow et al. 2014 / lecture 9: the largest value of P_D log V + P_S log(1 - V) over V in (0, 1); "
    "its integral over x is 2 JS(P_D || P_S) - log 4 and bounds the loss of every discriminator",
    (P_D, P_S),
)

LECTURE_JS_INTEGRAND = Bound(
    "lecture.js.integrand",
    (P_D * sp.log(2 * P_D / (P_D + P_S)) + P_S * sp.log(2 * P_S / (P_D + P_S))) / 2,
    "Jensen-Shannon divergence 1/2 KL(P_D || M) + 1/2 KL(P_S || M), M = (P_D + P_S)/2, "
    "as a pointwise integrand",
    (P_D, P_S),
)


@dataclass(frozen=True)
class OptimalDiscriminatorDerivation:
    """The lecture's derivation, done by sympy: every field is an expression or a checked fact.

    ``objective`` P_D log V + P_S log(1 - V); ``critical_points`` the solutions of d/dV = 0 in V;
    ``second_derivative_at_optimum``; ``concave`` whether d^2/dV^2 < 0 on all of 0 < V < 1 (so the critical
    point is the unique maximum); ``value_at_optimum``; ``identity_residual``
    value_at_optimum - (2 js - (P_D + P_S) log 2), simplified (0 means the pointwise identity holds;
    integrated it gives loss = 2 JS - log 4 because each density integrates to 1).
    """

    objective: sp.Expr
    critical_points: tuple[sp.Expr, ...]
    second_derivative_at_optimum: sp.Expr
    concave: bool
    value_at_optimum: sp.Expr
    identity_residual: sp.Expr

    @property
    def holds(self) -> bool:
        """All three facts: one critical point, equal to P_D/(P_D+P_S); strict concavity; residual 0."""
        return (
            len(self.critical_points) == 1
            and sp.simplify(self.critical_points[0] - LECTURE_OPTIMAL_D.expr) == 0
            and self.concave
            and self.identity_residual == 0
        )


@cache
def derive_optimal_discriminator() -> OptimalDiscriminatorDerivation:
    """Pointwise maximisation of the GAN loss over an unrestricted discriminator (lecture 9, section 3).

    .. math::
        \\max_{V \\in (0,1)} P_D \\log V + P_S \\log(1 - V)
        \\text{ is attained at } V^* = \\frac{P_D}{P_D + P_S},
        \\qquad \\int P_D \\log V^* + P_S \\log(1 - V^*) \\, dx = 2\\,\\mathrm{JS}(P_D \\| P_S) - \\log 4 .

    Concavity is proved by substituting V = W/(1 + W) with W > 0, under which sympy decides the sign of the
    second derivative. Deviation: the lecture writes that zero loss means JS = 0; the value at the optimum is
    2 JS - log 4, whose smallest value is -log 4 (at P_S = P_D), so the lecture's "loss of 0" is read as "loss
    at its minimum -log 4".
    """
    objective = P_D * sp.log(V) + P_S * sp.log(1 - V)
    first = sp.diff(objective, V)
    critical = tuple(sp.solve(sp.Eq(first, 0), V))
    second = sp.diff(objective, V, 2)
    v_star = LECTURE_OPTIMAL_D.expr
    second_at = sp.simplify(second.subs(V, v_star))
    second_w = sp.simplify(second.subs(V, _W / (1 + _W)))
    concave = bool(second_w.is_negative)
    value = sp.simplify(objective.subs(V, v_star))
    residual = value - (2 * LECTURE_JS_INTEGRAND.expr - (P_D + P_S) * sp.log(2))
    residual = sp.simplify(sp.expand_log(residual, force=True))
    return OptimalDiscriminatorDerivation(objective, critical, second_at, concave, value, residual)
