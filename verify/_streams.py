"""Named random streams from one master seed: the only way a claim, the lab or a sweep gets its randomness.

``Streams(seed).torch("verdict")`` and ``Streams(seed).numpy("bootstrap")`` are independent generators derived
from the master seed and the stream's name with :class:`numpy.random.SeedSequence` (the name hashed into the
``spawn_key``), so adding a stream never shifts another, two names never share a seed by arithmetic accident, and
a trial's seed is ``streams.seed("trial", i)``. The seed recorded in an :class:`~ganlimits.verify.Estimate` is the
seed of the generator its samples came from (``Streams.seed(...)`` or ``torch.Generator.initial_seed()``).
"""

from __future__ import annotations

import hashlib

import numpy as np

from ganlimits.theory import check_seed

__all__ = ["Streams"]

_MASK = (1 << 63) - 1


def _key(parts: tuple) -> tuple[int, ...]:
    out = []
    for part in parts:
        if isinstance(part, bool) or not isinstance(part, (str, int)):
            raise ValueError(f"stream name parts must be strings or integers, got {part!r}")
        text = f"{type(part).__name__}:{part}".encode()
        out.append(int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little"))
    return tuple(out)


class Streams:
    """Independent named generators from one master ``seed`` in [0, 2**63).

    >>> s = Streams(0)
    >>> s.seed("verdict") == Streams(0).seed("verdict"), s.seed("verdict") == s.seed("control")
    (True, False)
    >>> s.seed("trial", 3) == s.child("trial").seed(3)
    True
    """

    def __init__(self, seed: int, *, _path: tuple = ()) -> None:
        self.master = check_seed("seed", seed)
        self._path = _path

    def sequence(self, *name) -> np.random.SeedSequence:
        """The :class:`numpy.random.SeedSequence` of stream ``name`` (one or more strings / integers)."""
        if not name:
            raise ValueError("a stream needs a name")
        return np.random.SeedSequence(self.master, spawn_key=_key(self._path + name))

    def seed(self, *name) -> int:
        """An integer seed in [0, 2**63) for stream ``name`` (for trials and generators built elsewhere)."""
        return int(self.sequence(*name).generate_state(1, dtype=np.uint64)[0]) & _MASK

    def torch(self, *name):
        """A CPU ``torch.Generator`` seeded for stream ``name``."""
        import torch

        return torch.Generator().manual_seed(self.seed(*name))

    def numpy(self, *name) -> np.random.Generator:
        """A ``numpy.random.Generator`` for stream ``name``."""
        return np.random.default_rng(self.sequence(*name))

    def child(self, *name) -> Streams:
        """A family of streams under ``name`` (``child("sweep").seed(i)`` is the stream ``sweep/i``)."""
        _key(name)  # validates the parts
        return Streams(self.master, _path=self._path + name)

    def __repr__(self) -> str:
        return f"Streams({self.master}{', ' + '/'.join(map(str, self._path)) if self._path else ''})"
