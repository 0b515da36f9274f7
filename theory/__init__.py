"""ganlimits.theory — statements of the theorems: bounds as sympy expressions (single definition, numeric forms
derived with ``lambdify``), symbolic derivations, and the registry of claims.

May import numpy, scipy and sympy only.
"""

from . import _agl17, _arz_lemA2, _arz_thm1, _arz_thm3, _birthday, _bound, _claims, _li17
from ._agl17 import *  # noqa: F403
from ._arz_lemA2 import *  # noqa: F403
from ._arz_thm1 import *  # noqa: F403
from ._arz_thm3 import *  # noqa: F403
from ._birthday import *  # noqa: F403
from ._bound import *  # noqa: F403
from ._claims import *  # noqa: F403
from ._li17 import *  # noqa: F403

__all__ = [
    *_bound.__all__,
    *_claims.__all__,
    *_arz_thm1.__all__,
    *_arz_thm3.__all__,
    *_arz_lemA2.__all__,
    *_birthday.__all__,
    *_agl17.__all__,
    *_li17.__all__,
]
