"""One set of input validators for the whole project, used by the Python API and the command line alike.

Each validator takes the *name the caller knows* (a keyword argument such as ``"eps"``, or the flag the user
typed such as ``"--eps"``) and raises :class:`ValueError` with one line that names it, the accepted domain and
the value received. Booleans are never numbers here (``True`` is not a sample size).

>>> check_number("eps", 0.1, low=0, low_open=True)
0.1
>>> check_number("--p", 67.0, low=1, integer=True)
67
>>> check_number("--p", 0.5, low=1, integer=True)
Traceback (most recent call last):
...
ValueError: --p must be an integer >= 1, got 0.5
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

__all__ = ["check_number", "check_positive", "check_open_unit", "check_seed", "check_count", "check_choice",
           "check_allocation", "SEED_LIMIT", "MEMORY_BUDGET"]

SEED_LIMIT = 2**63
"""Seeds are integers in [0, 2**63): the range every torch and numpy generator accepts."""

MEMORY_BUDGET = 4 * 2**30
"""The largest single allocation (bytes) a public function makes before it refuses by name: 4 GiB."""


def _domain(low, high, low_open, high_open, integer) -> str:
    kind = "an integer" if integer else "a finite number"
    if low is not None and high is not None:
        return f"{kind} in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{kind} {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{kind} {'<' if high_open else '<='} {high:g}"
    return kind


def check_number(
    name: str,
    value,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
):
    """``value`` as a float (or an int with ``integer=True``) when it is a finite real number in the stated
    range; ``ValueError`` naming ``name`` otherwise. ``low``/``high`` are closed bounds unless ``low_open`` /
    ``high_open``. An integral float (``67.0``) passes ``integer=True`` and comes back as ``int``; strings,
    booleans, NaN and infinities never pass.
    """
    domain = _domain(low, high, low_open, high_open, integer)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        # numpy and torch scalars are numbers.Real or have __float__; anything else is rejected by name.
        if isinstance(value, bool) or not hasattr(value, "__float__") or isinstance(value, (str, bytes)):
            raise ValueError(f"{name} must be {domain}, got {value!r}")
        try:
            if getattr(value, "ndim", 0) != 0:
                raise TypeError
            value = value.item() if hasattr(value, "item") else float(value)
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"{name} must be {domain}, got {value!r}") from None
        if isinstance(value, bool):
            raise ValueError(f"{name} must be {domain}, got {value!r}")
    if integer:
        if isinstance(value, numbers.Integral):
            v = int(value)
        else:
            f = float(value)
            if not math.isfinite(f) or f != math.floor(f):
                raise ValueError(f"{name} must be {domain}, got {value!r}")
            v = int(f)
    else:
        try:
            v = float(value)
        except OverflowError:  # an int beyond float range
            raise ValueError(f"{name} must be {domain}, got a value beyond the float64 range") from None
        if not math.isfinite(v):
            raise ValueError(f"{name} must be {domain}, got {value!r}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"{name} must be {domain}, got {value!r}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ValueError(f"{name} must be {domain}, got {value!r}")
    return v


def check_positive(name: str, value) -> float:
    """A finite number > 0.

    >>> check_positive("sigma", 2)
    2.0
    """
    return check_number(name, value, low=0, low_open=True)


def check_open_unit(name: str, value) -> float:
    """A number in the open interval (0, 1) (probabilities that must be neither 0 nor 1)."""
    return check_number(name, value, low=0, high=1, low_open=True, high_open=True)


def check_seed(name: str, value) -> int:
    """A random seed: an integer in [0, 2**63).

    >>> check_seed("seed", 7)
    7
    """
    return check_number(name, value, low=0, high=SEED_LIMIT, high_open=True, integer=True)


def check_count(name: str, value, *, low: int = 0, high: int | None = None) -> int:
    """A count that sizes a tensor or a loop: an integer *type* (int or numpy integer; not a float, not a bool) in
    [low, high].

    >>> check_count("k", 4, low=2)
    4
    >>> check_count("k", 4.0, low=2)
    Traceback (most recent call last):
    ...
    ValueError: k must be an integer >= 2, got 4.0
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be {_domain(low, high, False, False, True)}, got {value!r}")
    return check_number(name, value, low=low, high=high, integer=True)


def check_choice(name: str, value, choices: Iterable[str]) -> str:
    """One of ``choices`` (the message lists them)."""
    choices = tuple(choices)
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def check_allocation(name: str, value, *, elements: float, itemsize: int = 8, budget: float = MEMORY_BUDGET) -> None:
    """Refuse, naming ``name`` (the argument that sets the size) and its ``value``, a request whose largest array
    would hold ``elements`` items of ``itemsize`` bytes beyond ``budget`` bytes (:data:`MEMORY_BUDGET`) — one line
    instead of an allocator error after minutes, or a machine out of memory.

    >>> check_allocation("n", 1000, elements=1000 * 64)
    >>> check_allocation("n", 10**12, elements=10**12 * 64)
    Traceback (most recent call last):
    ...
    ValueError: n = 1000000000000 would need 476837 GiB (an array of 6.4e+13 float64 values), beyond the 4 GiB budget
    """
    need = float(elements) * itemsize
    if not math.isfinite(need) or need > budget:
        kind = {8: "float64", 4: "float32", 1: "byte"}.get(itemsize, f"{itemsize}-byte")
        raise ValueError(f"{name} = {value!r} would need {need / 2**30:.6g} GiB (an array of {float(elements):.3g} "
                         f"{kind} values), beyond the {budget / 2**30:g} GiB budget")
