"""ganlimits.theory — statements of the theorems: bounds as sympy expressions (single definition, numeric forms
derived with ``lambdify``), symbolic derivations, the registry of claims, and the validators every layer shares.

May import numpy, scipy and sympy only. The claim registry and the validators load at once; everything else
(and sympy with it) loads on first use, so that ``ganlimits list`` stays fast.
"""

from . import _claims, _validate
from ._claims import *  # noqa: F403
from ._lazy import lazy_exports
from ._validate import *  # noqa: F403

__getattr__, __dir__ = lazy_exports(
    __name__,
    ["._bound", "._arz_thm1", "._arz_thm3", "._arz_lemA2", "._birthday", "._agl17", "._li17"],
    eager=[*_claims.__all__, *_validate.__all__],
)
