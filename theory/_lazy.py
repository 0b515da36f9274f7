"""Lazy public names for a package (PEP 562): ``ganlimits list`` and ``--help`` must not pay for torch or sympy.

A package imports its cheap modules at once and names its heavy private modules; a heavy module is imported the
first time one of its names (or the package's ``__all__``) is asked for. Each module's own ``__all__`` stays the
single list of what it exports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence


def lazy_exports(
    package: str, modules: Sequence[str], *, eager: Sequence[str] = (), only: Sequence[str] | None = None
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: names of the ``modules`` (relative, e.g. ``"._gap"``) resolve on
    first use; ``__all__`` is ``eager`` followed by every module's ``__all__`` — or, with ``only``, by exactly those
    names (a short public list; each must be exported by one of the modules, the rest stay in the modules).

    >>> getattr_, _ = lazy_exports("ganlimits.theory", ["._validate"])
    >>> getattr_("check_seed")("seed", 3)
    3
    >>> getattr_, dir_ = lazy_exports("ganlimits.theory", ["._validate"], only=["check_seed"])
    >>> dir_()
    ['__all__', 'check_seed']
    """
    cache: dict[str, object] = {}

    def _all() -> list[str]:
        if "__all__" not in cache:
            names = list(eager)
            if only is None:
                for m in modules:
                    names += importlib.import_module(m, package).__all__
            else:
                names += list(only)
            cache["__all__"] = names
        return cache["__all__"]  # type: ignore[return-value]

    def __getattr__(name: str) -> object:
        if name == "__all__":
            return _all()
        if not name.startswith("__"):
            for m in modules:
                mod = importlib.import_module(m, package)
                if name in mod.__all__:
                    if only is None or name in only:
                        return getattr(mod, name)
                    raise AttributeError(f"module {package!r} has no attribute {name!r}: it is "
                                         f"{mod.__name__}.{name} (the top level keeps the entry points only)")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(_all()) | {"__all__"})

    return __getattr__, __dir__
