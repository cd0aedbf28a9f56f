"""tracegraph's own documentation: a Sphinx site whose diagrams tracegraph draws (make docs)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def test_the_gallery_has_a_page_drawing_every_example():
    for example in EXAMPLES:
        page = DOCS / "gallery" / f"{example.stem}.md"
        assert page.exists(), f"add docs/gallery/{example.stem}.md for examples/{example.name}"
        assert f"```{{tracegraph}} ../../examples/{example.name}\n" in page.read_text(
            encoding="utf-8")


def test_every_guide_is_in_the_site():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^([\w/-]+)$", index.split("```{toctree}")[1], re.MULTILINE))
    guides = {p.stem for p in DOCS.glob("*.md")} - {"index"}
    assert guides <= listed, f"add {sorted(guides - listed)} to the toctree of docs/index.md"


@pytest.mark.needs_dot
def test_the_site_builds_with_warnings_as_errors(tmp_path, capsys):
    pytest.importorskip("sphinx")
    pytest.importorskip("myst_parser")
    pytest.importorskip("furo")
    from sphinx.cmd.build import build_main

    status = build_main(["-W", "--keep-going", "-q", "-b", "html", "-d",
                         str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")])
    assert status == 0, capsys.readouterr().err
    for example in EXAMPLES:
        page = (tmp_path / "html" / "gallery" / f"{example.stem}.html").read_text(
            encoding="utf-8")
        assert page.count('<div class="tracegraph-diagram"') == 1, example.name
        assert '<table class="tracegraph-table' in page
    index = (tmp_path / "html" / "index.html").read_text(encoding="utf-8")
    assert '<svg viewBox=' in index
