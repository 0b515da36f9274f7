"""ganlimits.verify — attacks and measurements: discriminator families, gap and distance estimators,
concentration checks, the birthday test, verdicts, reports and the ``ganlimits`` CLI.

Imports :mod:`ganlimits.theory` and :mod:`ganlimits.constructions`.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ganlimits")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

from . import (  # noqa: E402
    _birthday,
    _discriminators,
    _distance,
    _dynamics,
    _gap,
    _intervals,
    _pairs,
    _registry,
    _report,
    _results,
    _sweep,
)
from ._birthday import *  # noqa: E402, F403
from ._discriminators import *  # noqa: E402, F403
from ._distance import *  # noqa: E402, F403
from ._dynamics import *  # noqa: E402, F403
from ._gap import *  # noqa: E402, F403
from ._intervals import *  # noqa: E402, F403
from ._pairs import *  # noqa: E402, F403
from ._registry import *  # noqa: E402, F403
from ._report import *  # noqa: E402, F403
from ._results import *  # noqa: E402, F403
from ._sweep import *  # noqa: E402, F403

__all__ = [
    "__version__",
    *_results.__all__,
    *_intervals.__all__,
    *_sweep.__all__,
    *_registry.__all__,
    *_report.__all__,
    *_discriminators.__all__,
    *_gap.__all__,
    *_pairs.__all__,
    *_birthday.__all__,
    *_distance.__all__,
    *_dynamics.__all__,
]
