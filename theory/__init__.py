"""ganlimits.theory — statements of the theorems: bounds as sympy expressions (single definition, numeric forms
derived with ``lambdify``), symbolic derivations, the registry of claims, and the validators every layer shares.

The top level keeps the registry, the validators, :class:`Bound` and each paper's headline sizes; every statement
of a paper is in its module — :mod:`ganlimits.theory.arz17`, :mod:`~ganlimits.theory.agl17`,
:mod:`~ganlimits.theory.az17`, :mod:`~ganlimits.theory.li17` (with Madry's lecture 9) — and the building blocks in
:mod:`ganlimits.theory.base`; asking the top level for another name says where it is.

May import numpy, scipy and sympy only. The claim registry and the validators load at once; everything else
(and sympy with it) loads on first use, so that ``ganlimits list`` stays fast.
"""

from . import _claims, _validate
from ._claims import *  # noqa: F403
from ._lazy import lazy_exports
from ._validate import *  # noqa: F403

__getattr__, __dir__ = lazy_exports(
    __name__,
    [".base", ".arz17", ".agl17", ".az17", ".li17"],
    eager=[*_claims.__all__, *_validate.__all__],
    only=["Bound", "ResultOutOfRange", "arz_thm1_support", "arz_thm3_summary", "agl17_thm31_samples",
          "agl17_mixture_size", "equilibrium_value", "uniform_collision_probability", "s_half_uniform",
          "support_from_s_half", "mass_set_collision_lower", "beta_upper_bound", "li17_loss_expr",
          "derive_optimal_discriminator"],
)
