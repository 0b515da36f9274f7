"""Citations resolve and the README describes this repository.

Docstrings, comments and notebooks cite a paper and theorem or a page of ``docs/`` (never a file users do not
have, such as the MATH.md and DESIGN.md notes the project was specified from); every ``docs/...md`` page they cite
exists; the README names only folders and files the repository has (or that a run generates).
"""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CITING_FOLDERS = ("theory", "constructions", "verify", "notebooks")
SOURCE_SUFFIXES = {".py", ".ipynb", ".md"}
FORBIDDEN = re.compile(r"\b(?:MATH|DESIGN)\.md\b|\bMATH §")
DOCS_PAGE = re.compile(r"docs/[A-Za-z0-9_./-]+?\.md\b")
GENERATED = ("results", "results-quick", ".venv", "docs/_build", "docs/jupyter_execute", "REPORT.md")


def _files(folder: str) -> list[Path]:
    return sorted(p for p in (ROOT / folder).rglob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file()
                  and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts)


def _hits(pattern: re.Pattern, files: list[Path]) -> list[tuple[str, int, str]]:
    out = []
    for path in files:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in pattern.finditer(line):
                out.append((str(path.relative_to(ROOT)), lineno, match.group(0)))
    return out


@pytest.mark.parametrize("folder", CITING_FOLDERS)
def test_no_citation_of_files_users_do_not_have(folder):
    hits = _hits(FORBIDDEN, _files(folder))
    assert not hits, "cite the paper and theorem or a docs/ page instead of:\n" + "\n".join(
        f"  {f}:{n}: {m}" for f, n, m in hits)


@pytest.mark.parametrize("folder", CITING_FOLDERS)
def test_cited_docs_pages_exist(folder):
    missing = [(f, n, m) for f, n, m in _hits(DOCS_PAGE, _files(folder)) if not (ROOT / m).is_file()]
    assert not missing, "cited docs pages that do not exist:\n" + "\n".join(f"  {f}:{n}: {m}" for f, n, m in missing)


def test_the_checks_catch_what_they_look_for():
    # Negative controls of the two patterns above.
    assert FORBIDDEN.search("see MATH.md §1.8") and FORBIDDEN.search("(DESIGN.md)") and FORBIDDEN.search("MATH §1.2")
    assert not FORBIDDEN.search("docs/papers/arz17.md, Theorem 3")
    assert DOCS_PAGE.findall("``docs/papers/arz17.md``, and docs/design.md.") == ["docs/papers/arz17.md",
                                                                                  "docs/design.md"]
    assert _readme_paths("see `shared/MATH.md` and `theory/` and `make test`") == ["shared/MATH.md", "theory/"]


def _readme_paths(text: str) -> list[str]:
    """Paths the README names: backticked words and link targets that look like a folder or a file."""
    candidates = re.findall(r"`([^`\s]+)`", text) + re.findall(r"\]\(([^)\s#]+)\)", text)
    looks_like_path = re.compile(r"^[\w.-]+(/[\w.-]*)*$")
    has_suffix = re.compile(r"\.(md|py|txt|toml|ipynb|json|cfg|yml|yaml|png)$")
    return [c for c in candidates if looks_like_path.match(c) and ("/" in c or has_suffix.search(c))
            and not c.startswith(("http", "ganlimits."))]


def test_readme_names_only_what_the_repository_has():
    paths = _readme_paths((ROOT / "README.md").read_text(encoding="utf-8"))
    assert paths, "the README names no folder or file at all: the pattern is broken"
    missing = [p for p in paths if not p.startswith(GENERATED) and not (ROOT / p.rstrip("/")).exists()]
    assert not missing, f"the README names folders or files this repository does not have: {missing}"
