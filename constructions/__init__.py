"""ganlimits.constructions — the witnesses of the theorems as exact torch networks, and the target distributions.

Imports :mod:`ganlimits.theory` only.
"""

from . import _circuits, _encoder, _generator, _mixture_generator, _noise, _partition, _targets
from ._circuits import *  # noqa: F403
from ._encoder import *  # noqa: F403
from ._generator import *  # noqa: F403
from ._mixture_generator import *  # noqa: F403
from ._noise import *  # noqa: F403
from ._partition import *  # noqa: F403
from ._targets import *  # noqa: F403

__all__ = [
    *_noise.__all__,
    *_partition.__all__,
    *_circuits.__all__,
    *_generator.__all__,
    *_encoder.__all__,
    *_targets.__all__,
    *_mixture_generator.__all__,
]
