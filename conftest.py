"""Doctests of the package folders, collected under the names the package is installed as.

``make test`` passes ``--doctest-modules theory constructions verify``. pytest would import ``theory/_validate.py``
by path, as a module ``theory._validate`` unrelated to the installed ``ganlimits.theory._validate`` (pyproject maps
the folders onto the ``ganlimits`` namespace), so a class would exist twice and ``isinstance`` checks would fail.
Here every doctest module of those folders imports its canonical ``ganlimits.*`` module instead, and files
without a ``>>>`` example are not collected at all (the claim modules are not imported for nothing).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from _pytest.doctest import DoctestModule

ROOT = Path(__file__).resolve().parent
PACKAGE_FOLDERS = {"theory": "ganlimits.theory", "constructions": "ganlimits.constructions",
                   "verify": "ganlimits.verify"}  # the package-dir mapping of pyproject.toml


def canonical_module(path: Path) -> str | None:
    """``verify/estimators/_gap.py`` -> ``ganlimits.verify.estimators._gap``; None outside the package folders."""
    try:
        parts = path.resolve().relative_to(ROOT).with_suffix("").parts
    except ValueError:
        return None
    if not parts or parts[0] not in PACKAGE_FOLDERS:
        return None
    rest = parts[1:-1] if parts[-1] == "__init__" else parts[1:]
    return ".".join((PACKAGE_FOLDERS[parts[0]], *rest))


class InstalledDoctestModule(DoctestModule):
    """A doctest module whose object is the installed module, not a second copy imported by path."""

    def _getobj(self):
        module = importlib.import_module(self.canonical)
        if Path(module.__file__).resolve() != self.path.resolve():
            raise ImportError(f"{self.canonical} is installed from {module.__file__}, not from {self.path}")
        return module


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path: Path, parent):
    collected = yield
    name = canonical_module(file_path) if file_path.suffix == ".py" else None
    if name is None:
        return collected
    out = []
    for item in collected or []:
        if isinstance(item, DoctestModule):
            if ">>>" not in file_path.read_text(encoding="utf-8"):
                continue
            item = InstalledDoctestModule.from_parent(parent, path=file_path)
            item.canonical = name
        out.append(item)
    return out
