"""The three folders import as one namespace after both `pip install -e .` and `pip install .`; the command line
is cheap to start; every public name of every package resolves."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IMPORT_ALL = (
    "import ganlimits.theory as t, ganlimits.constructions as c, ganlimits.verify as v; "
    "import sys; print(t.__file__); print(c.__file__); print(v.__file__)"
)


def _run_outside_root(tmp_path, extra_env=None):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-c", IMPORT_ALL], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def test_current_install_imports_from_outside_the_repo_root(tmp_path):
    out = _run_outside_root(tmp_path)
    assert out.returncode == 0, out.stderr
    files = out.stdout.split()
    # Each subpackage resolves to its own top-level folder of the repository.
    assert [Path(f).parent.name for f in files] == ["theory", "constructions", "verify"]


def test_wheel_maps_the_folders_into_the_namespace(tmp_path):
    """`pip install .` builds a wheel; it must hold ganlimits/{theory,constructions,verify} and import from it."""
    # Build from a copy of the sources so that the build leaves nothing behind in the work tree.
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for pkg in ("theory", "constructions", "verify"):
        shutil.copytree(ROOT / pkg, src / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    wheel_dir = tmp_path / "wheel"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheel_dir),
         str(src)],
        capture_output=True, text=True, timeout=300,
    )
    if build.returncode != 0 and "No module named" in build.stderr:
        pytest.skip(f"wheel build tooling unavailable: {build.stderr.strip().splitlines()[-1]}")
    assert build.returncode == 0, build.stderr
    (wheel,) = wheel_dir.glob("ganlimits-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for sub in ("theory", "constructions", "verify", "verify/estimators", "verify/claims", "verify/lab"):
        assert f"ganlimits/{sub}/__init__.py" in names
    assert not any(n.startswith(("theory/", "verify/", "constructions/", "tests/")) for n in names)
    target = tmp_path / "site"
    inst = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert inst.returncode == 0, inst.stderr
    # Put the installed wheel first on the path; the editable finder must not be what answers.
    code = f"import sys; sys.path.insert(0, {str(target)!r}); " + IMPORT_ALL
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert all(f.startswith(str(target)) for f in out.stdout.split())


def test_list_and_help_import_neither_torch_nor_sympy():
    """PEP 562 lazy exports: the CLI module, `list` and `--help` must not pay for torch or sympy."""
    code = ("import sys, contextlib, io\n"
            "from ganlimits.verify._cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['list'])\n"
            "    try:\n"
            "        main(['--help'])\n"
            "    except SystemExit:\n"
            "        pass\n"
            "print(sorted(m for m in ('torch', 'sympy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("package", ["ganlimits.theory", "ganlimits.constructions", "ganlimits.verify",
                                     "ganlimits.verify.estimators", "ganlimits.verify.lab", "ganlimits.verify.runs"])
def test_every_public_name_resolves(package):
    import importlib

    mod = importlib.import_module(package)
    names = list(mod.__all__)
    assert names and len(names) == len(set(names)), package
    missing = [n for n in names if not hasattr(mod, n)]
    assert not missing, (package, missing)
    assert sorted(names) == [n for n in dir(mod) if n != "__all__"], package


def test_the_top_level_keeps_the_entry_points_and_says_where_the_rest_is():
    """``ganlimits.verify`` exports at most 40 names (its ENTRY_POINTS and ``__version__``); every other public name
    of its rooms is still reachable there, and asking the top level for one names that room."""
    import ganlimits.verify as top
    from ganlimits.verify import estimators, lab, runs

    entry = [n for names in top.ENTRY_POINTS.values() for n in names]
    assert len(top.__all__) <= 40 and sorted(top.__all__) == sorted([*entry, "__version__"])
    rest = [(room, n) for room in (estimators, lab, runs) for n in room.__all__ if n not in entry]
    assert len(rest) > 50  # the rooms hold the rest
    for room, n in rest:
        assert getattr(room, n) is not None
    with pytest.raises(AttributeError, match=r"ganlimits\.verify\.runs\.holm"):
        top.holm  # noqa: B018


@pytest.mark.parametrize("package", ["ganlimits.theory", "ganlimits.constructions", "ganlimits.verify.estimators",
                                     "ganlimits.verify.lab"])
def test_each_package_keeps_a_short_list_and_its_topic_modules_hold_the_rest(package):
    """At most 40 names at a package's top; every name a private module of it exports is reachable there or in
    exactly the public topic modules that gather that private module."""
    import importlib
    import pkgutil

    mod = importlib.import_module(package)
    assert len(mod.__all__) <= 40, (package, len(mod.__all__))
    infos = list(pkgutil.iter_modules(mod.__path__))
    private = [importlib.import_module(f"{package}.{i.name}") for i in infos if i.name.startswith("_")
               and i.name != "_lazy"]
    topics = [importlib.import_module(f"{package}.{i.name}") for i in infos if not i.name.startswith("_")
              and not i.ispkg and hasattr(importlib.import_module(f"{package}.{i.name}"), "__all__")]
    reachable = set(mod.__all__).union(*(set(t.__all__) for t in topics))
    missing = [(p.__name__, n) for p in private for n in getattr(p, "__all__", ()) if n not in reachable]
    assert not missing, missing
    for t in topics:
        for n in t.__all__:
            assert getattr(t, n) is getattr(mod, n, getattr(t, n)), (t.__name__, n)
