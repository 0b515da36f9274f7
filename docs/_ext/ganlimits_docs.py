"""Sphinx hooks of the ganlimits documentation.

- a constant shows the docstring written under it; a :class:`~ganlimits.theory.Bound` its source and formula;
- ``.. api-module:: NAME`` documents a package's public names (names a public subpackage exports are
  documented once, in that subpackage's section);
- ``.. entry-points::`` shows the top level of ``ganlimits.verify`` by task, linked to where each name is documented;
- ``.. claim-modules::`` documents every claim of the registry: statement, source, ``Settings`` and ``run``;
- ``report.md`` shows the generated ``results/REPORT.md`` when a reproduction has written one (or the folder named
  by ``$GANLIMITS_REPORT_DIR``).
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.pycode import ModuleAnalyzer
from sphinx.util.docutils import SphinxDirective

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
REPORT_CANDIDATES = ("results", "results-quick")


def escape(text: str) -> str:
    """Plain text (a claim statement, a bound's source) as reStructuredText that shows it verbatim."""
    return re.sub(r"([\\|*`_])", r"\\\1", text)


def public_names(module_name: str) -> list[str]:
    """The names a module's section documents: a package's ``__all__`` less what its public subpackages export
    (each gets its own section); a topic module of a package (``ganlimits.theory.arz17``) its ``__all__`` less the
    package's own short list (documented in the package's section)."""
    module = importlib.import_module(module_name)
    names = list(module.__all__)
    for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
        if info.ispkg and not info.name.startswith("_"):
            sub = importlib.import_module(f"{module_name}.{info.name}")
            names = [n for n in names if n not in set(sub.__all__)]
    parent_name = module_name.rpartition(".")[0]
    if not hasattr(module, "__path__") and parent_name:
        parent = importlib.import_module(parent_name)
        names = [n for n in names if n not in set(getattr(parent, "__all__", ()))]
    return [n for n in names if not n.startswith("__")]


class ApiModule(SphinxDirective):
    """``.. api-module:: ganlimits.theory``: autodoc of the package's public names (its ``__all__``, which the
    package resolves lazily). Functions and classes go through ``automodule``; constants, which autodoc cannot see
    through a lazy re-export, get one ``autodata`` each (plain numbers and strings with their value)."""

    required_arguments = 1
    has_content = False

    def run(self):
        name = self.arguments[0]
        module = importlib.import_module(name)
        names = public_names(name)
        code = [n for n in names if _is_code(getattr(module, n))]
        data = [n for n in names if n not in code]
        rst = [f".. automodule:: {name}"]
        rst += [f"   :members: {', '.join(code)}", "   :undoc-members:"] if code else ["   :no-members:"]
        rst.append("")
        for n in data:
            rst += [f".. autodata:: {name}.{n}"]
            if not isinstance(getattr(module, n), (int, float, str)):
                rst.append("   :no-value:")
            rst.append("")
        return _parse(self, rst)


def _is_code(obj) -> bool:
    return inspect.isclass(obj) or inspect.isroutine(obj) or inspect.ismodule(obj)


def _attribute_doc(name: str) -> list[str]:
    """The docstring written under a constant in its source, also when a package re-exports it lazily:
    ``ganlimits.theory.arz17.MAX_EXACT_INDEX`` is read from ``ganlimits.theory._arz_thm3``."""
    modname, _, attr = name.rpartition(".")
    try:
        module = importlib.import_module(modname)
    except ImportError:
        return []
    candidates = [modname]
    for info in pkgutil.iter_modules(getattr(module, "__path__", [])):
        if info.name.startswith("_"):
            sub = importlib.import_module(f"{modname}.{info.name}")
            if attr in getattr(sub, "__all__", ()):
                candidates.append(sub.__name__)
    for candidate in candidates:
        docs = ModuleAnalyzer.for_module(candidate).find_attr_docs().get(("", attr))
        if docs:
            return list(docs)
    return []


def _data_docstring(app, what, name, obj, options, lines):
    """A constant shows the docstring written under it in the source and, for a
    :class:`~ganlimits.theory.Bound`, its source and formula; never the docstring of its type (``dict``, ``int``)."""
    if what != "data":
        return
    from ganlimits.theory import Bound

    doc = _attribute_doc(name)
    if isinstance(obj, Bound):
        doc = [*doc, "", f"``{obj.name}`` — {escape(obj.source)}.", "", ".. math::", "", f"   {obj.latex}", ""]
    lines[:] = doc


def _parse(directive: SphinxDirective, rst: list[str]) -> list[nodes.Node]:
    """Parse reStructuredText lines in place of the directive (inside a MyST page, through ``eval-rst``)."""
    if hasattr(directive.state, "_renderer"):  # MyST's state parses Markdown: hand the lines over as rST
        rst = ["```{eval-rst}", *rst, "```"]
    node = nodes.section()
    node.document = directive.state.document
    directive.state.nested_parse(StringList(rst, source=directive.name), directive.content_offset, node)
    return node.children


class ClaimModules(SphinxDirective):
    """Document every registered claim: id, source, statement, then its module's ``Settings`` and ``run``."""

    has_content = False

    def run(self):
        from ganlimits.theory import CLAIMS

        rst = []
        from ganlimits.verify._registry import _module_name

        for claim in CLAIMS.values():
            module = _module_name(claim.id)
            rst += [f".. rubric:: ``{claim.id}`` ({claim.kind})", "",
                    f"*{escape(claim.source)}.* {escape(claim.statement)}", ""]
            try:
                importlib.import_module(module)
            except ImportError:
                rst += [f"(no module ``{module}`` in this installation)", ""]
                continue
            rst += [f".. automodule:: {module}", "   :members: Settings, run", ""]
        return _parse(self, rst)


class EntryPoints(SphinxDirective):
    """``.. entry-points::``: the top level of :mod:`ganlimits.verify` (its ``ENTRY_POINTS``, by task), each name
    linked to the section of the room that documents it."""

    has_content = False

    def run(self):
        import ganlimits.verify as top

        sections = {m: set(public_names(m)) for m in ("ganlimits.verify", "ganlimits.verify.estimators",
                                                      "ganlimits.verify.lab", "ganlimits.verify.runs")}
        rst = [".. list-table::", "   :header-rows: 1", "   :widths: 25 75", "", "   * - to", "     - names"]
        for task, names in top.ENTRY_POINTS.items():
            links = []
            for n in names:
                home = next(m for m, documented in sections.items() if n in documented)
                links.append(f":py:obj:`~{home}.{n}`")
            rst += [f"   * - {task}", f"     - {', '.join(links)}"]
        return _parse(self, [*rst, ""])


def report_folder() -> Path | None:
    """The results folder whose REPORT.md the ``report`` page shows: ``$GANLIMITS_REPORT_DIR`` when set (a path,
    relative to the repository root or absolute), else the first of ``results/``, ``results-quick/`` that holds one."""
    chosen = os.environ.get("GANLIMITS_REPORT_DIR")
    folders = [ROOT / chosen] if chosen else [ROOT / f for f in REPORT_CANDIDATES]
    return next((f for f in folders if (f / "REPORT.md").is_file()), None)


def _include_report(app, docname, source):
    """``report``: the newest generated REPORT.md (figure links into the results folder, links to its other files
    as plain names), or the page as written (how to generate one) when no reproduction has run."""
    if docname != "report":
        return
    folder = report_folder()
    if folder is None:
        return
    from ganlimits.verify._report import report_for_docs

    prefix = Path(os.path.relpath(folder, DOCS)).as_posix() + "/"
    text = report_for_docs((folder / "REPORT.md").read_text(encoding="utf-8"), prefix)
    shown = folder.relative_to(ROOT).as_posix() if folder.is_relative_to(ROOT) else str(folder)
    note = (f"\n\n```{{note}}\nGenerated by `ganlimits reproduce` into `{shown}/REPORT.md`; every number comes from "
            "the JSON result files beside it.\n```\n\n")
    first, _, rest = text.partition("\n")
    source[0] = first + note + rest


def _reread_report(app, env, added, changed, removed):
    """The report page depends on files outside the docs: read it again on every build."""
    return ["report"] if "report" in env.all_docs else []


def setup(app):
    app.connect("autodoc-process-docstring", _data_docstring, priority=900)  # after napoleon
    app.connect("source-read", _include_report)
    app.connect("env-get-outdated", _reread_report)
    app.add_directive("api-module", ApiModule)
    app.add_directive("claim-modules", ClaimModules)
    app.add_directive("entry-points", EntryPoints)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
