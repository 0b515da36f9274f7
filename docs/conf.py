"""Sphinx configuration of the ganlimits documentation (``make docs``; warnings are errors).

Pages are Markdown (MyST); the notebooks are rendered from their stored outputs, never executed; the API pages are
autodoc of the public names each package lists in ``__all__`` (the packages load them lazily, PEP 562). Formulas are
rendered by MathJax served from the site itself: the ``sphinx-mathjax-offline`` package of the docs extra ships a
copy (MathJax 3.2.2) and copies it into ``_static/mathjax/``, so the pages need no network.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

project = "ganlimits"
author = "the ganlimits authors"
copyright = "2017-2026, the ganlimits authors"  # noqa: A001

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # mathjax_path = the packaged copy in _static/mathjax/, not a CDN
    "ganlimits_docs",
]

source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints"]
root_doc = "index"

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "off"
nb_merge_streams = True

autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "description"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_mock_imports: list[str] = []
napoleon_google_docstring = False
napoleon_numpy_docstring = True

html_theme = "alabaster"
html_title = "ganlimits"
html_static_path: list[str] = []
