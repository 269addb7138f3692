"""The documentation site: it builds with ``mkdocs build --strict`` (every warning an
error: a broken link or anchor, a page missing from the nav, a docstring the API reference
cannot parse), needs no network once built, documents every public name, and its
validation page lists every reference comparison of the test suite."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import ketex

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    for module in ("mkdocs", "mkdocstrings", "mkdocstrings_handlers.python"):
        pytest.importorskip(module, reason="the docs tools come with the dev extra (.[dev])")
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict",
         "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    return result, out


def test_site_builds_strict(site):
    result, out = site
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-6000:]
    problems = [line for line in log.splitlines() if line.startswith(("WARNING", "ERROR"))]
    assert not problems, "\n".join(problems)
    for page in ("index.html", "getting-started/index.html", "validation/index.html",
                 "mmrm/index.html", "api/models/index.html"):  # fmt: skip
        assert (out / page).stat().st_size > 0, page


def test_site_loads_nothing_from_the_network(site):
    _, out = site
    remote = re.compile(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)=["'](?:https?:)?//""", re.I)
    offending = {
        page.relative_to(out).as_posix(): remote.findall(page.read_text(encoding="utf-8"))
        for page in out.rglob("*.html")
    }
    assert not {page: found for page, found in offending.items() if found}


def _documented_ids(out: Path) -> set[str]:
    ids: set[str] = set()
    for page in (out / "api").rglob("*.html"):
        ids.update(re.findall(r'\bid="(ketex\.[^"]+)"', page.read_text(encoding="utf-8")))
    return ids


def test_api_reference_documents_every_public_name(site):
    _, out = site
    ids = _documented_ids(out)
    missing = []
    for name in ketex.__all__:
        if name == "__version__":
            continue
        obj = getattr(ketex, name)
        where = {f"ketex.{name}"}
        if hasattr(obj, "__qualname__") and hasattr(obj, "__module__"):
            where.add(f"{obj.__module__}.{obj.__qualname__}")
        if getattr(obj, "__spec__", None) is not None:  # a module: ketex.tables, ketex.figures
            where.add(obj.__name__)
        if not where & ids:
            missing.append(name)
    assert not missing, f"not in the API reference (docs/api/*.md): {missing}"


def _reference_tests() -> list[Path]:
    """Test files that compare with stored reference values (SAS, R)."""
    uses_reference = re.compile(r"REFERENCE_DIR|shared_reference|def \w+\([^)]*\breference\b")
    return sorted(
        path for path in TESTS.rglob("test_*.py")
        if path != Path(__file__).resolve()
        and ("reference" in path.stem or uses_reference.search(path.read_text(encoding="utf-8")))
    )  # fmt: skip


def test_validation_page_lists_every_reference_comparison():
    page = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    found = _reference_tests()
    assert len(found) >= 8, found  # the finder still finds the MMRM and survival tests
    files = [path.relative_to(ROOT).as_posix() for path in found]
    files.append("tests/test_effects.py")  # published worked examples, no stored reference
    folders = [
        f"tests/reference/{folder.name}/"
        for folder in sorted((TESTS / "reference").iterdir())
        if folder.is_dir() and not folder.name.startswith((".", "_"))
    ]
    missing = [name for name in files + folders if name not in page]
    assert not missing, f"docs/validation.md does not mention {missing}"
