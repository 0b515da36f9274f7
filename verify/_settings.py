"""Claim settings from the command line: ``--set key=value`` checked against a claim's ``Settings`` dataclass.

One defaults table serves the API and the CLI: a claim's frozen ``Settings`` (with ``quick()`` and ``full()``).
:func:`apply_overrides` parses ``key=value`` strings into the field's declared type (int, float, bool, str, tuples of
those, ``X | None``, and nested settings through dotted keys such as ``attack.steps=100``) and rebuilds the
dataclass, whose own ``__post_init__`` checks the ranges. Every failure is a ``ValueError`` naming the field: a
number beyond float64, an empty tuple where the claim's own settings never use one, and any error the claim's own
checks raise.
"""

from __future__ import annotations

import ast
import dataclasses
import types
import typing
from collections.abc import Iterable
from typing import Any, ClassVar

from ganlimits.theory import check_choice, check_number

__all__ = ["CheckedSettings", "apply_overrides", "settings_fields", "settings_dict"]


_UNIT_FIELDS = frozenset({"confidence", "eta", "tv_budget", "alpha", "power"})


def _default_domain(name: str, tp) -> dict | None:
    if name in _UNIT_FIELDS:
        return {"low": 0, "high": 1, "low_open": True, "high_open": True}
    if tp is int:
        return {"low": 1, "integer": True}
    if tp is float:
        return {"low": 0, "low_open": True}
    return None


def _check_value(name: str, value, tp, domain: dict | None) -> None:
    if value is None:
        return
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        _check_value(name, value, inner[0], domain)
        return
    if origin is tuple:
        args = typing.get_args(tp)
        for i, item in enumerate(value):
            item_tp = args[0] if len(args) == 2 and args[1] is Ellipsis else args[i]
            item_domain = domain if domain is not None else _default_domain(name, item_tp)
            _check_value(f"{name}[{i}]", item, item_tp, item_domain)
        return
    if dataclasses.is_dataclass(tp):
        return
    if domain is None:
        domain = _default_domain(name, tp)
        if domain is None:
            return
    if "choices" in domain:
        check_choice(name, value, domain["choices"])
    else:
        check_number(name, value, **domain)


class CheckedSettings:
    """Base of every claim's frozen ``Settings`` dataclass: its ``__post_init__`` checks every field before any
    computation, so a bad value is a ``ValueError`` naming the field (the CLI's exit 2).

    Defaults: an ``int`` field is an integer >= 1, a ``float`` field a finite number > 0, a field named
    ``confidence``, ``eta``, ``tv_budget``, ``alpha`` or ``power`` lies in (0, 1); tuples are checked item by item.
    A class overrides a field's domain in ``_limits`` (keyword arguments of
    :func:`~ganlimits.theory.check_number`, or ``{"choices": (...)}`` for strings) and adds cross-field checks in
    :meth:`validate`.
    """

    _limits: ClassVar[dict[str, dict]] = {}

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            _check_value(f.name, getattr(self, f.name), hints[f.name], self._limits.get(f.name))
        self.validate()

    def validate(self) -> None:
        """Cross-field checks of a claim (``ValueError`` naming the setting); none by default."""


def settings_fields(cls, prefix: str = "") -> dict[str, Any]:
    """Every settable field of the dataclass ``cls`` (nested ones dotted) with its declared type.

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class S:
    ...     k: int = 3
    ...     grid: tuple[float, ...] = (0.1, 0.2)
    >>> settings_fields(S)
    {'k': <class 'int'>, 'grid': tuple[float, ...]}
    """
    hints = typing.get_type_hints(cls)
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            out.update(settings_fields(tp, f"{prefix}{f.name}."))
        else:
            out[f"{prefix}{f.name}"] = tp
    return out


def _type_name(tp) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _literal(text: str):
    low = text.strip().lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if low in ("none", "null"):
        return None
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def _coerce(value, tp, key: str):
    """``value`` (a parsed literal) as type ``tp``, or ValueError naming ``key``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key)
            except ValueError as exc:
                errors.append(str(exc))
        raise ValueError(errors[0] if errors else f"{key} must be {_type_name(tp)}, got {value!r}")
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ValueError(f"{key} must be true or false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ValueError(f"{key} must be an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                return float(value)
            except OverflowError:
                raise ValueError(f"{key} must be a number within the float64 range, got an integer of "
                                 f"{len(str(abs(value)))} digits") from None
        raise ValueError(f"{key} must be a number, got {value!r}")
    if tp is str:
        return str(value)
    if origin is tuple:
        args = typing.get_args(tp)
        items = value if isinstance(value, (tuple, list)) else (value,)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0], f"{key}[{i}]") for i, v in enumerate(items))
        if len(items) != len(args):
            raise ValueError(f"{key} must have {len(args)} entries, got {value!r}")
        return tuple(_coerce(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(items, args, strict=True)))
    raise ValueError(f"{key} has type {_type_name(tp)}, which cannot be set from the command line")


def _split(item: str) -> tuple[str, str]:
    if not isinstance(item, str) or "=" not in item:
        raise ValueError(f"a setting must read key=value, got {item!r}")
    key, _, text = item.partition("=")
    return key.strip(), text


def apply_overrides(settings, overrides: Iterable[str] | dict[str, Any]):
    """A copy of the frozen dataclass ``settings`` with ``overrides`` applied: ``"key=value"`` strings (parsed into
    the field's type) or a ``{key: value}`` mapping (values already typed, still checked). Dotted keys reach nested
    settings. An unknown key, a wrong type or a value the dataclass rejects raises ``ValueError`` naming the field
    (and, for an unknown key, listing the valid ones).

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class S:
    ...     k: int = 3
    ...     eps: float = 0.1
    >>> apply_overrides(S(), ["k=5", "eps=0.2"])
    S(k=5, eps=0.2)
    >>> apply_overrides(S(), ["kk=5"])
    Traceback (most recent call last):
    ...
    ValueError: setting kk: unknown; valid settings: eps, k
    """
    fields = settings_fields(type(settings))
    if isinstance(overrides, dict):
        parsed = list(overrides.items())
    else:
        parsed = []
        for item in overrides:
            key, text = _split(item)
            parsed.append((key, _literal(text) if key in fields and fields[key] is not str else text))
    for key, value in parsed:
        if key not in fields:
            raise ValueError(f"setting {key}: unknown; valid settings: {', '.join(sorted(fields))}")
        try:
            typed = _coerce(value, fields[key], key)
            if typed == () and not _empty_allowed(settings, key):
                raise ValueError(f"{key} must hold at least one entry, got ()")
            settings = _replace_path(settings, key.split("."), typed)
        except ValueError as exc:
            raise ValueError(f"setting {key}: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - a claim's own check failing otherwise is still one named line
            raise ValueError(f"setting {key}: rejected by the claim's checks ({type(exc).__name__}: "
                             f"{(str(exc).splitlines() or [''])[0]})") from None
    return settings


def _empty_allowed(settings, key: str) -> bool:
    """An empty tuple is a value of ``key`` only where the settings already hold one, or the class's own
    ``quick()`` or ``full()`` does (a skipped sweep, a logistic class); elsewhere it is refused by name."""
    def value(obj):
        for part in key.split("."):
            obj = getattr(obj, part)
        return obj

    if value(settings) == ():
        return True
    for maker in ("quick", "full"):
        make = getattr(type(settings), maker, None)
        try:
            if callable(make) and value(make()) == ():
                return True
        except Exception:  # noqa: BLE001,S112 - a class without a usable default says nothing here
            continue
    return False


def _replace_path(obj, path: list[str], value):
    if len(path) == 1:
        return dataclasses.replace(obj, **{path[0]: value})
    inner = getattr(obj, path[0])
    return dataclasses.replace(obj, **{path[0]: _replace_path(inner, path[1:], value)})


def settings_dict(settings) -> dict[str, Any]:
    """The settings as a plain dict (tuples kept as lists in JSON) for the result's ``settings`` field."""
    return dataclasses.asdict(settings)
