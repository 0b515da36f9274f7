"""One input protocol for every measuring instrument: samples, models and randomness, checked once.

Shape letters: ``n`` samples, ``d`` point dimension, ``d_code`` code dimension.

What an instrument accepts (``docs/api.md``, "What the instruments accept"):

- **samples**: a numpy array or a torch tensor of shape ``(n, d)`` (any real dtype, any device; read as float64 on
  the CPU), a *sampler* ``sample(n, generator) -> x`` returning a bare ``(n, d)`` array or tensor or a tuple
  ``(x, labels)``, or a target with ``sample(n, generator=) -> (x, labels)``. A fixed array is a *finite pool*: it
  is sampled without replacement (:class:`PoolSampler`), so its own rows never collide with themselves, and a
  request beyond its size is refused by name.
- **a generator or encoder**: a torch module (called with inputs in the dtype and on the device of its own
  parameters) or any callable; called under ``torch.no_grad()``, its output read back as float64 on the CPU.
- **randomness**: ``rng``, an integer seed in [0, 2**63) or a ``torch.Generator``.

Refused by name, before anything is computed: complex values, tensors on the meta device (no values), Python
objects such as integers beyond int64, integers beyond 2**53 (float64 cannot hold them exactly), NaN and infinity
(unless an instrument scores them, as :func:`~ganlimits.verify.mode_metrics` does), and the wrong shape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ganlimits.theory import check_allocation, check_number, check_seed

__all__: list[str] = []  # private: the protocol is documented on the instruments and in docs/api.md

_EXACT_INT = 2**53  # integers beyond this lose digits in float64


def as_rng(rng, name: str = "rng") -> torch.Generator:
    """``rng`` as a CPU ``torch.Generator``: an integer seed in [0, 2**63) makes a new one, a generator is used
    as it is; anything else (None included) is a ``ValueError`` naming ``name``.

    >>> as_rng(3).initial_seed(), as_rng(torch.Generator().manual_seed(5)).initial_seed()
    (3, 5)
    """
    if isinstance(rng, torch.Generator):
        return rng
    if isinstance(rng, bool) or not isinstance(rng, (int, np.integer)):
        raise ValueError(f"{name} must be an integer seed in [0, 2**63) or a torch.Generator, got {rng!r}")
    return torch.Generator().manual_seed(check_seed(name, int(rng)))


def pick_rng(rng, old, old_name: str, *, required: bool = True) -> Any:
    """The generator from ``rng`` or from the keyword's former name ``old_name`` (kept for existing callers,
    which pass a generator object there, used as it is). Both given, or ``required`` and neither: ValueError."""
    if old is not None:
        if rng is not None:
            raise ValueError(f"give rng or its former name {old_name}, not both")
        if not isinstance(old, (torch.Generator, np.random.Generator)):
            raise ValueError(f"{old_name} must be a torch.Generator (or pass rng= an integer seed or a "
                             f"torch.Generator), got {old!r}")
        return old
    if rng is None and not required:
        return None
    return as_rng(rng)


def seed_of(generator) -> int | None:
    """The seed a result records: ``initial_seed()`` of a torch generator, else None."""
    return int(generator.initial_seed()) if isinstance(generator, torch.Generator) else None


def check_values(t, name: str):
    """Refuse, naming ``name``, what no instrument can measure: complex values, the meta device, Python
    objects, strings. Returns ``t`` (a tensor or a numpy array) unchanged otherwise."""
    if isinstance(t, torch.Tensor):
        if t.device.type == "meta":
            raise ValueError(f"{name} is a tensor on the meta device (it holds no values)")
        if t.is_complex():
            raise ValueError(f"{name} is complex ({t.dtype}); the instruments measure real vectors")
        return t
    kind = t.dtype.kind
    if kind == "c":
        raise ValueError(f"{name} is complex ({t.dtype}); the instruments measure real vectors")
    if kind not in "biuf":
        what = "Python objects (integers beyond int64?)" if kind == "O" else f"values of dtype {t.dtype}"
        raise ValueError(f"{name} holds {what}; give a real numeric array")
    return t


def as_points(x, name: str, *, dim: int | None = None, min_rows: int = 1, allow_1d: bool = False,
              finite: bool = True) -> torch.Tensor:
    """``x`` (an array, a tensor or nested lists, ``(n, d)``; ``(n,)`` as ``d = 1`` with ``allow_1d``) as a
    float64 CPU tensor, detached; ValueError naming ``name`` for the refusals of the module docstring, fewer than
    ``min_rows`` rows, or ``d != dim``. ``finite=False`` lets NaN and infinity through.

    >>> as_points(np.arange(6).reshape(3, 2), "samples").dtype
    torch.float64
    >>> as_points(np.ones((2, 2)) * 1j, "samples")
    Traceback (most recent call last):
    ...
    ValueError: samples is complex (complex128); the instruments measure real vectors
    """
    if isinstance(x, torch.Tensor):
        t = check_values(x, name).detach()
    else:
        if isinstance(x, (str, bytes)) or callable(x):
            raise ValueError(f"{name} must be an array of shape (n, d), got {type(x).__name__}")
        try:
            arr = np.asarray(x)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ValueError(f"{name} must be a rectangular numeric array of shape (n, d): {exc}") from None
        check_values(arr, name)
        if arr.dtype.kind in "iu" and arr.size and (int(arr.max()) > _EXACT_INT or int(arr.min()) < -_EXACT_INT):
            raise ValueError(f"{name} holds integers beyond 2**53, which float64 cannot represent exactly")
        t = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float64))
    if t.dtype == torch.int64 and t.numel() and (int(t.max()) > _EXACT_INT or int(t.min()) < -_EXACT_INT):
        raise ValueError(f"{name} holds integers beyond 2**53, which float64 cannot represent exactly")
    if t.ndim == 1 and allow_1d:
        t = t[:, None]
    shape = "of shape (n,) or (n, d)" if allow_1d else "2-D, of shape (n, d)"
    if t.ndim != 2:
        raise ValueError(f"{name} must be {shape}, got shape {tuple(t.shape)}")
    if t.shape[0] < min_rows:
        raise ValueError(f"{name} must hold at least n = {min_rows} rows, got {t.shape[0]}")
    if dim is not None and t.shape[1] != dim:
        raise ValueError(f"{name} must have d = {dim} columns, got shape {tuple(t.shape)}")
    t = t.to("cpu", torch.float64)
    if finite and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or infinite values")
    return t


def as_labels(y, name: str, n: int) -> torch.Tensor:
    """``y`` as an int64 CPU vector of ``n`` non-negative integer labels; ValueError naming ``name`` otherwise."""
    if isinstance(y, torch.Tensor):
        t = check_values(y, name).detach().cpu()
    else:
        try:
            arr = np.asarray(y)
        except (ValueError, TypeError, OverflowError):
            raise ValueError(f"{name} must be {n} integer labels") from None
        t = torch.from_numpy(np.ascontiguousarray(check_values(arr, name)))
    if t.shape != (n,):
        raise ValueError(f"{name} must be {n} labels of shape ({n},), got shape {tuple(t.shape)}")
    if t.is_floating_point() and not bool(torch.all(torch.isfinite(t) & (t == t.round()))):
        raise ValueError(f"{name} must be integer labels")
    t = t.to(torch.int64)
    if n and int(t.min()) < 0:
        raise ValueError(f"{name} must be non-negative integer labels, got {int(t.min())}")
    return t


class PoolSampler:
    """``sample(s, generator)`` drawing ``s`` distinct rows of a fixed pool ``(n, d)`` (float64): without
    replacement, so that a pool's rows never collide with themselves; ``s > n`` is refused by name. ``pool_size``
    is n: whatever a birthday test sees of the law behind the pool is bounded by it."""

    def __init__(self, x: torch.Tensor, name: str = "samples") -> None:
        self.x, self.name, self.pool_size = x, name, int(x.shape[0])
        self.dim = int(x.shape[1])

    def __call__(self, s: int, generator: torch.Generator) -> torch.Tensor:
        if s > self.pool_size:
            raise ValueError(f"{self.name}: a sample of s = {s} is larger than the pool of n = {self.pool_size} "
                             "points (a finite pool is sampled without replacement)")
        return self.x[torch.randperm(self.pool_size, generator=generator)[:s]]


class FunctionSampler:
    """A user's ``sample(s, generator) -> x | (x, labels)``, its output checked: real values, ``(s, d)``,
    float64 on the CPU. :meth:`labelled` also returns the labels (or None)."""

    pool_size = None

    def __init__(self, fn: Callable, name: str = "sample", *, finite: bool = True) -> None:
        self.fn, self.name, self.finite = fn, name, finite

    def labelled(self, s: int, generator) -> tuple[torch.Tensor, torch.Tensor | None]:
        out = self.fn(s, generator)
        x, y = (out[0], out[1] if len(out) > 1 else None) if isinstance(out, tuple) else (out, None)
        x = as_points(x, f"{self.name}(n, generator)", allow_1d=True, finite=self.finite)
        if x.shape[0] != s:
            raise ValueError(f"{self.name}(s, generator) must return s = {s} points as an (s, d) array, got shape "
                             f"{tuple(x.shape)}")
        return x, (None if y is None else as_labels(y, f"{self.name}(n, generator)'s labels", s))

    def __call__(self, s: int, generator) -> torch.Tensor:
        return self.labelled(s, generator)[0]


def _is_model(obj) -> bool:
    return isinstance(obj, torch.nn.Module)


def as_sampler(samples, name: str = "samples", *, dim: int | None = None, finite: bool = True
               ) -> PoolSampler | FunctionSampler:
    """``samples`` as a sampler ``(s, generator) -> (s, d)`` float64: an array or tensor becomes a
    :class:`PoolSampler` (without replacement), a callable or a target (``.sample(n, generator=)``) a
    :class:`FunctionSampler`. A torch module is refused (it is a generator: pass a sampler such as
    ``lambda n, g: G(torch.randn(n, d_code, generator=g))``, or pass the module as ``generator=``)."""
    if isinstance(samples, (PoolSampler, FunctionSampler)):
        return samples
    if _is_model(samples):
        raise ValueError(f"{name} is a torch module: pass samples, a sampler (n, generator) -> x such as "
                         "lambda n, g: G(torch.randn(n, code_dim, generator=g)), or the module as generator=")
    if hasattr(samples, "sample") and callable(samples.sample) and not isinstance(samples, (torch.Tensor, np.ndarray)):
        target = samples
        return FunctionSampler(lambda s, g: target.sample(s, generator=g), f"{name}.sample", finite=finite)
    if callable(samples):
        return FunctionSampler(samples, name, finite=finite)
    return PoolSampler(as_points(samples, name, dim=dim, min_rows=1, allow_1d=True, finite=finite), name)


def draw(samples, name: str, *, n: int | None, rng, rng_name: str = "rng", finite: bool = True,
         min_rows: int = 1) -> torch.Tensor:
    """One set of points from ``samples``: an array or tensor as it is (all its rows; with ``n``, ``n`` of them
    without replacement), a sampler or target called once for ``n`` points with ``rng`` (both then required)."""
    fixed = isinstance(samples, (torch.Tensor, np.ndarray)) or not (callable(samples) or hasattr(samples, "sample"))
    if fixed:
        x = as_points(samples, name, allow_1d=True, finite=finite, min_rows=min_rows)
        if n is None:
            return x
        n = check_number("n", n, low=1, integer=True)
        return PoolSampler(x, name)(n, as_rng(rng, rng_name))
    sampler = as_sampler(samples, name, finite=finite)
    if n is None:
        raise ValueError(f"n: {name} is a sampler; give the number of points to draw, n")
    n = check_number("n", n, low=max(1, min_rows), integer=True)
    check_allocation("n", n, elements=float(n))
    return sampler(n, as_rng(rng, rng_name))


class Model:
    """A user's generator or encoder as a float64 function ``(n, d_in) -> (n, d_out)``.

    A torch module is called with its input in the dtype and on the device of its first floating-point
    parameter or buffer (the model's own device is respected; nothing is moved); a plain callable gets float64 on
    the CPU, and if torch rejects that dtype, float32. Every call runs under ``torch.no_grad()`` and the output is
    checked (real values, a tensor or array of n rows, finite) and read back as float64 on the CPU.
    """

    def __init__(self, fn, name: str) -> None:
        if isinstance(fn, Model):
            fn = fn.fn
        if not callable(fn):
            raise ValueError(f"{name} must be a torch module or a callable, got {type(fn).__name__}")
        self.fn, self.name = fn, name
        self.dtype: torch.dtype | None = None
        self.device = torch.device("cpu")
        if _is_model(fn):
            for p in [*fn.parameters(), *fn.buffers()]:
                if p.device.type == "meta":
                    raise ValueError(f"{name} has parameters on the meta device (no weights)")
                if p.is_complex():
                    raise ValueError(f"{name} has complex parameters ({p.dtype}); the instruments measure real "
                                     "vectors")
                if p.is_floating_point() and self.dtype is None:
                    self.dtype, self.device = p.dtype, p.device
        self.__name__ = getattr(fn, "name", None) or getattr(fn, "__name__", None) or type(fn).__name__

    def _call(self, x: torch.Tensor):
        with torch.no_grad():
            if self.dtype is not None:
                return self.fn(x.to(self.device, self.dtype))
            try:
                return self.fn(x)
            except RuntimeError as exc:  # a float32 network behind a plain callable
                if "dtype" not in str(exc) and "scalar type" not in str(exc):
                    raise
                return self.fn(x.to(torch.float32))

    def __call__(self, x) -> torch.Tensor:
        x = as_points(x, f"the input of {self.name}", allow_1d=True)
        out = self._call(x)
        if isinstance(out, (tuple, list)) and not isinstance(out, torch.Tensor):
            raise ValueError(f"{self.name} returned a {type(out).__name__}; it must return one (n, d) tensor")
        y = as_points(out, f"{self.name}'s output", allow_1d=True)
        if y.shape[0] != x.shape[0]:
            raise ValueError(f"{self.name} returned {y.shape[0]} rows for n = {x.shape[0]} inputs")
        return y


def as_model(fn, name: str) -> Model:
    """``fn`` (a torch module or a callable) as a :class:`Model`; ValueError naming ``name`` otherwise."""
    return Model(fn, name)


def model_in_features(fn) -> int | None:
    """The input width of a torch module: ``in_features`` of its first linear layer (None when not found)."""
    if _is_model(fn):
        for layer in fn.modules():
            width = getattr(layer, "in_features", None)
            if isinstance(width, int):
                return width
    return None
