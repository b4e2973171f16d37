"""docs/security.md and security-sso.md name the tests that show each requirement: those tests exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "docs" / "security.md", ROOT / "docs" / "security-sso.md"]


def _named_tests(text: str):
    """`file.py::test_x` and the `::test_y` that follow it in the same cell, and bare `test_x` names."""
    for cell in text.split("|"):
        current = None
        for path, name in re.findall(r"`(?:((?:tests/)?[\w/]+\.py))?(?:::)?(test_\w+)?`", cell):
            current = path or current
            if name:
                yield current, name


def test_every_test_the_security_pages_name_exists():
    sources = {p.relative_to(ROOT / "tests").as_posix(): p.read_text() for p in (ROOT / "tests").rglob("test_*.py")}
    everything = "\n".join(sources.values())
    missing = []
    for doc in DOCS:
        for path, name in _named_tests(doc.read_text()):
            if path is not None:
                path = path.removeprefix("tests/")
                if path not in sources or f"def {name}(" not in sources[path]:
                    missing.append(f"{doc.name}: {path}::{name}")
            elif f"def {name}(" not in everything:
                missing.append(f"{doc.name}: {name}")
    assert not missing


def test_the_security_page_names_files_that_exist():
    text = DOCS[0].read_text()
    files = set(re.findall(r"`((?:security|ropa|api|browser)/test_\w+\.py)", text))
    assert files and all((ROOT / "tests" / f).exists() for f in files)
